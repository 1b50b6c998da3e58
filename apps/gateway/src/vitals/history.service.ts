import { computeKpis, INFLUXQL_AGGREGATE, Kpis, ROLLUP, VitalSigns, VitalStatus } from '@park/metrics';
import { LocalDay, localDays, ParkIndex, startOfLocalDay, startOfLocalMonth, startOfLocalYear } from '@park/telemetry';
import { badParam, ownKey } from '../api/api-errors';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';

/** History resolutions of contract §7, in ms. */
export const EVERY_MS: Record<string, number> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
/** Most points one history answer may hold. */
export const MAX_HISTORY_POINTS = 20_000;
const DAY_MS = 86_400_000;

const STATUS_RANK: Record<VitalStatus, number> = { ok: 0, warn: 1, critical: 2 };

export interface HistoryQuery {
  metric: string;
  building?: string;
  from?: string;
  to?: string;
  every?: string;
}

export type HistoryPoint = { t: string; value: number | string };

/** Parses an ISO time or epoch ms; 400 naming the parameter otherwise. */
export function timeParam(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined || raw === '') return def;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw badParam(name, `expected an ISO 8601 time or epoch milliseconds, got "${raw}"`);
  return ms;
}

/**
 * History of one vital sign from the `vitals` measurement (contract §7):
 * one-minute windows as stored, or rolled up per ROLLUP for 15m, 1h and 1d
 * buckets (sums for energy and carbon, means for load and ratios, max for
 * peaks, the renewable share recomputed from the summed energies, the worst
 * status). Day buckets and the KPI periods follow the park's calendar, in
 * its time zone (contract §8, park time).
 */
export class HistoryService {
  constructor(private readonly influx: InfluxQuery, private readonly clock: () => number = Date.now) {}

  async history(park: ParkIndex, q: HistoryQuery): Promise<HistoryPoint[]> {
    if (!q.metric) throw badParam('metric', `required; one of ${Object.keys(ROLLUP).join(', ')}`);
    if (!ownKey(ROLLUP, q.metric)) throw badParam('metric', `unknown metric "${q.metric}"; one of ${Object.keys(ROLLUP).join(', ')}`);
    const metric = q.metric as keyof VitalSigns;
    if (q.building !== undefined && q.building !== '' && !park.buildings.has(q.building)) {
      throw badParam('building', `unknown building "${q.building}" in park "${park.model.id}"`);
    }
    const every = q.every || '1m';
    const everyMs = ownKey(EVERY_MS, every) ? EVERY_MS[every] : undefined;
    if (!everyMs) throw badParam('every', `expected one of ${Object.keys(EVERY_MS).join(', ')}, got "${every}"`);
    const toMs = timeParam('to', q.to, this.clock());
    const fromMs = timeParam('from', q.from, toMs - 86_400_000);
    if (fromMs >= toMs) throw badParam('from', 'must be before to');
    if ((toMs - fromMs) / everyMs > MAX_HISTORY_POINTS) throw badParam('from', `the range holds more than ${MAX_HISTORY_POINTS} points at every=${every}; use a coarser every or a shorter range`);

    const where = vitalsWhere(park, q.building, fromMs, toMs);
    const kind = ROLLUP[metric];
    const iso = (ms: number) => new Date(ms).toISOString();
    if (every === '1m') {
      return rows(await this.influx.query(`SELECT "${metric}" FROM "vitals" WHERE ${where}`)).filter((r) => r[1] !== null).map((r) => ({ t: iso(r[0] as number), value: r[1] as number | string }));
    }
    const grouped = (select: string) => (every === '1d' ? this.byLocalDay(park, q.building, fromMs, toMs, select) : this.query(`SELECT ${select} FROM "vitals" WHERE ${where} GROUP BY time(${every}) fill(none)`));
    if (kind === 'ratio') {
      const r = await grouped(`SUM("energy_kwh") AS e, SUM("pv_kwh") AS pv`);
      return r.filter((x) => (x[1] as number) + (x[2] as number) > 0).map((x) => ({ t: iso(x[0] as number), value: (x[2] as number) / ((x[1] as number) + (x[2] as number)) }));
    }
    if (kind === 'worst') {
      // InfluxQL cannot aggregate strings: reduce the stored windows here.
      const r = await this.query(`SELECT "status" FROM "vitals" WHERE ${where}`);
      const days = every === '1d' ? localDays(park.timeZone, fromMs, toMs) : [];
      const bucketOf = (t: number) => (every === '1d' ? dayStartOf(days, t) : Math.floor(t / everyMs) * everyMs);
      const buckets = new Map<number, VitalStatus>();
      for (const [t, s] of r as Array<[number, VitalStatus]>) {
        if (!s) continue;
        const b = bucketOf(t);
        const prev = buckets.get(b);
        if (!prev || STATUS_RANK[s] > STATUS_RANK[prev]) buckets.set(b, s);
      }
      return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, value]) => ({ t: iso(t), value }));
    }
    const agg = INFLUXQL_AGGREGATE[kind];
    return (await grouped(`${agg}("${metric}")`)).filter((r) => r[1] !== null).map((r) => ({ t: iso(r[0] as number), value: r[1] as number }));
  }

  /**
   * `SELECT <select>` per local day of the park, each row stamped with the
   * day's start. Runs of 24-hour days with one UTC offset are one
   * `GROUP BY time(1d, offset)`; a day of 23 or 25 hours (daylight saving)
   * is a query of its own over exactly its hours.
   */
  private async byLocalDay(park: ParkIndex, building: string | undefined, fromMs: number, toMs: number, select: string): Promise<unknown[][]> {
    const days = localDays(park.timeZone, fromMs, toMs);
    const out: unknown[][] = [];
    for (let i = 0; i < days.length; ) {
      const d = days[i];
      if (d.endMs - d.startMs !== DAY_MS) {
        const where = vitalsWhere(park, building, Math.max(fromMs, d.startMs), Math.min(toMs, d.endMs));
        for (const r of await this.query(`SELECT ${select} FROM "vitals" WHERE ${where}`)) out.push([d.startMs, ...r.slice(1)]);
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < days.length && days[j + 1].endMs - days[j + 1].startMs === DAY_MS && days[j + 1].offsetMs === d.offsetMs) j++;
      // Buckets of GROUP BY time(1d, offset) start at epoch + offset + k days: local midnight.
      const offsetMin = (((DAY_MS - d.offsetMs) % DAY_MS) + DAY_MS) % DAY_MS / 60_000;
      const where = vitalsWhere(park, building, Math.max(fromMs, d.startMs), Math.min(toMs, days[j].endMs));
      out.push(...(await this.query(`SELECT ${select} FROM "vitals" WHERE ${where} GROUP BY time(1d, ${offsetMin}m) fill(none)`)));
      i = j + 1;
    }
    return out;
  }

  private async query(influxql: string): Promise<unknown[][]> {
    return rows(await this.influx.query(influxql));
  }

  /** Calendar period so far, in the park's time (contract §8). */
  period(period: string, timeZone: string): { fromMs: number; toMs: number } {
    const toMs = this.clock();
    if (period === 'day') return { fromMs: startOfLocalDay(timeZone, toMs), toMs };
    if (period === 'month') return { fromMs: startOfLocalMonth(timeZone, toMs), toMs };
    if (period === 'year') return { fromMs: startOfLocalYear(timeZone, toMs), toMs };
    throw badParam('period', `expected day, month or year, got "${period}"`);
  }

  /** KPIs of the period so far (issue: `GET /api/parks/{park}/kpis`). */
  async kpis(park: ParkIndex, periodName: string, building?: string): Promise<Kpis & { period: string; from: string; to: string }> {
    if (building !== undefined && building !== '' && !park.buildings.has(building)) throw badParam('building', `unknown building "${building}" in park "${park.model.id}"`);
    const { fromMs, toMs } = this.period(periodName || 'day', park.timeZone);
    const where = vitalsWhere(park, building, fromMs, toMs);
    const r = rows(await this.influx.query(`SELECT SUM("energy_kwh"), SUM("pv_kwh"), SUM("carbon_kgco2e"), MAX("peak_kw") FROM "vitals" WHERE ${where}`))[0] ?? [0, 0, 0, 0, 0];
    const totals = { energy_kwh: (r[1] as number) ?? 0, pv_kwh: (r[2] as number) ?? 0, carbon_kgco2e: (r[3] as number) ?? 0, peak_kw: (r[4] as number) ?? 0 };
    const k = computeKpis(park, totals, (toMs - fromMs) / 3_600_000, building || undefined);
    return { period: periodName || 'day', from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), ...k };
  }
}

/** The `vitals` points of a scope (a building, or the park when none) in `[fromMs, toMs)`. */
function vitalsWhere(park: ParkIndex, building: string | undefined, fromMs: number, toMs: number): string {
  const scope = building ? `'building' AND "building" = ${influxString(building)}` : `'park'`;
  return `"park" = ${influxString(park.model.id)} AND "scope" = ${scope} AND time >= ${fromMs}ms AND time < ${toMs}ms`;
}

function rows(series: InfluxSeries[]): unknown[][] {
  return series.flatMap((s) => s.values);
}

/** Start of the day of `days` (sorted, contiguous) that holds `t`. */
function dayStartOf(days: LocalDay[], t: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (days[mid].startMs <= t) lo = mid;
    else hi = mid - 1;
  }
  return days[lo]?.startMs ?? t;
}
