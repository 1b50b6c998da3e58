import { MonthlyReport, monthlyReport, MonthTotals } from '@park/metrics';
import { localTime, localToUtcMs, ParkIndex } from '@park/telemetry';
import { badParam } from '../api/api-errors';
import { InfluxQuery, InfluxSeries } from '../influx/influx.ports';
import { influxString } from '../influx/influxql';

/** A calendar month of the park: `[fromMs, toMs)`. */
export interface ParkMonth {
  label: string;
  fromMs: number;
  toMs: number;
}

/**
 * The park month `YYYY-MM` (contract §8, park time), or the current one
 * when absent; 400 naming `month` otherwise.
 */
export function parkMonth(park: ParkIndex, raw: string | undefined, nowMs: number): ParkMonth {
  let year: number;
  let month: number;
  if (raw === undefined || raw === '') {
    const t = localTime(park.timeZone, nowMs);
    year = t.year;
    month = t.month;
  } else {
    const m = /^(\d{4})-(\d{2})$/.exec(raw);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw badParam('month', `expected YYYY-MM (e.g. 2026-11), got "${raw}"`);
    year = Number(m[1]);
    month = Number(m[2]);
  }
  return { label: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`, fromMs: localToUtcMs(park.timeZone, year, month, 1), toMs: localToUtcMs(park.timeZone, year, month + 1, 1) };
}

/** The month before. */
export function previousMonth(park: ParkIndex, m: ParkMonth): ParkMonth {
  const t = localTime(park.timeZone, m.fromMs - 1);
  return parkMonth(park, `${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}`, 0);
}

function scopeOf(s: InfluxSeries): string {
  return s.tags?.scope === 'park' ? '' : (s.tags?.building ?? '');
}

/**
 * The monthly report (contract §8) from the stored `vitals`: three
 * queries (the month's sums and window count per scope, each scope's
 * highest peak with its time, the previous month's sums), composed by
 * libs/metrics' {@link monthlyReport}.
 */
export class ReportService {
  constructor(private readonly influx: InfluxQuery) {}

  async monthly(park: ParkIndex, month: ParkMonth): Promise<MonthlyReport> {
    const prev = previousMonth(park, month);
    const [totals, peaks, before] = await Promise.all([this.totals(park, month), this.peaks(park, month), this.totals(park, prev)]);
    for (const [scope, p] of peaks) {
      const t = totals.get(scope);
      if (t) Object.assign(t, p);
    }
    return monthlyReport(park, month, totals, before);
  }

  private where(park: ParkIndex, m: ParkMonth): string {
    return `"park" = ${influxString(park.model.id)} AND time >= ${m.fromMs}ms AND time < ${m.toMs}ms`;
  }

  private async totals(park: ParkIndex, m: ParkMonth): Promise<Map<string, MonthTotals>> {
    const series = await this.influx.query(`SELECT SUM("energy_kwh"), SUM("pv_kwh"), SUM("carbon_kgco2e"), COUNT("energy_kwh") FROM "vitals" WHERE ${this.where(park, m)} GROUP BY "scope", "building"`);
    const out = new Map<string, MonthTotals>();
    for (const s of series) {
      const r = s.values[0];
      if (!r) continue;
      out.set(scopeOf(s), { energy_kwh: Number(r[1] ?? 0), pv_kwh: Number(r[2] ?? 0), carbon_kgco2e: Number(r[3] ?? 0), windows: Number(r[4] ?? 0) });
    }
    return out;
  }

  private async peaks(park: ParkIndex, m: ParkMonth): Promise<Map<string, { peak_kw: number; peakAtMs: number }>> {
    // MAX alone is a selector: InfluxDB answers the time of the window that holds it.
    const series = await this.influx.query(`SELECT MAX("peak_kw") FROM "vitals" WHERE ${this.where(park, m)} GROUP BY "scope", "building"`);
    const out = new Map<string, { peak_kw: number; peakAtMs: number }>();
    for (const s of series) {
      const r = s.values[0];
      if (r && typeof r[1] === 'number') out.set(scopeOf(s), { peak_kw: r[1], peakAtMs: r[0] as number });
    }
    return out;
  }
}
