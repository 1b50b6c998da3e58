import { KIND_FIELDS, ParkIndex, Reading, SENSOR_KINDS } from '@park/telemetry';
import { Alarm, AlarmRule, Severity } from '@park/metrics';
import { InfluxQuery } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';


/**
 * Reads a park's raw readings of `[fromMs, toMs)` back from InfluxDB (all
 * three measurements) as Readings, for the recompute command and to seed the
 * live engine at start-up.
 */
export async function queryReadings(influx: InfluxQuery, park: ParkIndex, fromMs: number, toMs: number): Promise<Reading[]> {
  const out: Reading[] = [];
  for (const kind of SENSOR_KINDS) {
    const fields = KIND_FIELDS[kind];
    const series = await influx.query(
      `SELECT ${fields.map((f) => `"${f.json}"`).join(', ')} FROM "${kind}" WHERE "park" = ${influxString(park.model.id)} AND time >= ${Math.floor(fromMs)}ms AND time < ${Math.ceil(toMs)}ms GROUP BY "building", "sensor"`,
    );
    for (const s of series) {
      const building = s.tags?.building ?? '';
      const sensor = s.tags?.sensor ?? '';
      const col = s.columns.map((c) => fields.find((f) => f.json === c));
      for (const row of s.values) {
        const r: Reading = { park: park.model.id, building, kind, sensor, tsMs: row[0] as number };
        for (let i = 1; i < row.length; i++) {
          const f = col[i];
          if (f && typeof row[i] === 'number') (r as unknown as Record<string, number>)[f.prop] = row[i] as number;
        }
        out.push(r);
      }
    }
  }
  return out;
}

/**
 * The alarms active at the end of the `alarms` measurement: for each
 * building, rule and severity, the last transition, when it is `raised`.
 * Restores the alarm state after a restart so that a condition still holding
 * is not raised a second time. With `beforeMs`: the alarms active at that time.
 *
 * Grouped by severity too: a change of severity writes the `cleared` of the
 * old severity and the `raised` of the new one at the same time, and which of
 * two points with equal times `last()` picks across series is up to the
 * server (InfluxDB 1.x happens to break the tie by value).
 */
export async function queryActiveAlarms(influx: InfluxQuery, park: ParkIndex, beforeMs?: number): Promise<Alarm[]> {
  const before = beforeMs === undefined ? '' : ` AND time < ${Math.floor(beforeMs)}ms`;
  const series = await influx.query(`SELECT last("state") AS state, "value", "threshold", "message" FROM "alarms" WHERE "park" = ${influxString(park.model.id)}${before} GROUP BY "building", "rule", "severity"`);
  const active = new Map<string, Alarm>();
  for (const s of series) {
    const row = s.values[0];
    const get = (c: string) => row[s.columns.indexOf(c)];
    if (get('state') !== 'raised') continue;
    const alarm: Alarm = {
      parkId: park.model.id,
      building: s.tags?.building ?? '',
      rule: (s.tags?.rule ?? 'demand') as AlarmRule,
      severity: (s.tags?.severity ?? 'warn') as Severity,
      state: 'raised',
      value: Number(get('value')),
      threshold: Number(get('threshold')),
      message: String(get('message') ?? ''),
      tsMs: get('time') as number,
    };
    // One alarm per building and rule; should two severities both end raised
    // (a write lost), the newer one is the state.
    const key = `${alarm.building}/${alarm.rule}`;
    const seen = active.get(key);
    if (!seen || alarm.tsMs > seen.tsMs) active.set(key, alarm);
  }
  return [...active.values()];
}

/**
 * The alarm transitions stored for a park in `(afterMs, untilMs]`, in time
 * order: what re-derived windows are compared with (contract §8, late
 * readings). Of two transitions at one time, a clear comes first (a change
 * of severity is a clear followed by a raise).
 */
export async function queryAlarmTransitions(influx: InfluxQuery, park: ParkIndex, afterMs: number, untilMs: number): Promise<Alarm[]> {
  const series = await influx.query(
    `SELECT "state", "value", "threshold", "message", "late" FROM "alarms" WHERE "park" = ${influxString(park.model.id)} AND time > ${Math.floor(afterMs)}ms AND time <= ${Math.floor(untilMs)}ms GROUP BY "building", "rule", "severity"`,
  );
  const out: Alarm[] = [];
  for (const s of series) {
    const col = (c: string) => s.columns.indexOf(c);
    for (const row of s.values) {
      const state = row[col('state')];
      if (state !== 'raised' && state !== 'cleared') continue;
      out.push({
        parkId: park.model.id,
        building: s.tags?.building ?? '',
        rule: (s.tags?.rule ?? 'demand') as AlarmRule,
        severity: (s.tags?.severity ?? 'warn') as Severity,
        state,
        value: Number(row[col('value')]),
        threshold: Number(row[col('threshold')]),
        message: String(row[col('message')] ?? ''),
        tsMs: row[0] as number,
        ...(row[col('late')] === true ? { late: true } : {}),
      });
    }
  }
  return out.sort((a, b) => a.tsMs - b.tsMs || (a.state === b.state ? 0 : a.state === 'cleared' ? -1 : 1));
}

/** Per sensor (`building/sensor`), the times of the chain readings next to a span (see {@link queryChainNeighbours}). */
export type ChainNeighbours = Map<string, { beforeMs?: number; afterMs?: number }>;

/**
 * For every sensor of a park with a cumulative register chain (contract §6:
 * energy meters, all their readings; carbon sensors, those that carry
 * `emission_kgco2e`), the time of its last chain reading before `beforeMs`
 * (no older than `beforeMs - lookMs`) and of its first one after `afterMs`
 * (no later than `afterMs + lookMs`). A reading that arrives late changes
 * the windows of the intervals to these neighbours.
 */
export async function queryChainNeighbours(influx: InfluxQuery, park: ParkIndex, beforeMs: number, afterMs: number, lookMs: number): Promise<ChainNeighbours> {
  const out: ChainNeighbours = new Map();
  const parkIs = `"park" = ${influxString(park.model.id)}`;
  const chains = [
    { measurement: 'energy', field: 'power_kw', where: '' },
    { measurement: 'energy', field: 'energy_kwh', where: '' },
    { measurement: 'carbon', field: 'emission_kgco2e', where: ' AND "emission_kgco2e" >= 0' },
  ];
  for (const { measurement, field, where } of chains) {
    const b = Math.floor(beforeMs);
    const a = Math.floor(afterMs);
    const before = await influx.query(`SELECT "${field}" FROM "${measurement}" WHERE ${parkIs}${where} AND time >= ${b - lookMs}ms AND time < ${b}ms GROUP BY "building", "sensor" ORDER BY time DESC LIMIT 1`);
    const after = await influx.query(`SELECT "${field}" FROM "${measurement}" WHERE ${parkIs}${where} AND time > ${a}ms AND time <= ${a + lookMs}ms GROUP BY "building", "sensor" ORDER BY time ASC LIMIT 1`);
    for (const [list, side] of [[before, 'beforeMs'], [after, 'afterMs']] as const) {
      for (const s of list) {
        const tsMs = s.values[0]?.[0];
        if (typeof tsMs !== 'number') continue;
        const key = `${s.tags?.building ?? ''}/${s.tags?.sensor ?? ''}`;
        const entry = out.get(key) ?? {};
        const seen = entry[side];
        // Energy: any reading is in the chain (power or register): the nearest of the two fields.
        entry[side] = seen === undefined ? tsMs : side === 'beforeMs' ? Math.max(seen, tsMs) : Math.min(seen, tsMs);
        out.set(key, entry);
      }
    }
  }
  return out;
}

/** Whether the park-scope `vitals` point of the window starting at `startMs` is stored (the window was derived). */
export async function isWindowStored(influx: InfluxQuery, park: ParkIndex, startMs: number): Promise<boolean> {
  const series = await influx.query(`SELECT count("energy_kwh") FROM "vitals" WHERE "park" = ${influxString(park.model.id)} AND "scope" = 'park' AND time >= ${Math.floor(startMs)}ms AND time <= ${Math.floor(startMs)}ms`);
  return Number(series[0]?.values[0]?.[1] ?? 0) > 0;
}
