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
