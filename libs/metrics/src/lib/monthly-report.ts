/**
 * The monthly energy and carbon report (contract §8,
 * `GET /api/parks/{park}/report?period=month`): per building and for the
 * park, the month's totals, peak demand and when, carbon with the emission
 * factor used, intensities, and the change on the previous month. Pure: the
 * gateway reads the sums from InfluxDB and this turns them into the report
 * (JSON) or its CSV. Months are the park's (contract §8, park time).
 */
import { ParkIndex } from '@park/telemetry';

/** What the stored windows of one scope sum to over a month. */
export interface MonthTotals {
  energy_kwh: number;
  pv_kwh: number;
  carbon_kgco2e: number;
  /** Highest one-minute peak, kW, and the start of its window (epoch ms). */
  peak_kw?: number;
  peakAtMs?: number;
  /** One-minute windows stored (data coverage). */
  windows: number;
}

/** One line of the report: a building or the park. */
export interface ReportRow {
  scope: 'park' | 'building';
  building?: string;
  name: string;
  /** Grid import, kWh. */
  energy_kwh: number;
  /** On-site PV generation, kWh. */
  pv_kwh: number;
  /** Highest one-minute demand, kW, and when (ISO); absent without data. */
  peak_demand_kw?: number;
  peak_demand_at?: string;
  /** Carbon: grid import × the emission factor, plus direct emissions (boilers, generators). */
  carbon_kgco2e: number;
  carbon_grid_kgco2e: number;
  carbon_direct_kgco2e: number;
  /** Energy use intensity of the month: (grid + PV) kWh per m² of floor area. */
  eui_kwh_per_m2?: number;
  carbon_kg_per_m2?: number;
  /** Per person of design capacity (as the KPIs). */
  energy_kwh_per_person?: number;
  carbon_kg_per_person?: number;
  /** Park only, when the model has `annualOutputCny`: per 10⁴ yuan of the month's share of output. */
  energy_kwh_per_10k_cny?: number;
  carbon_kg_per_10k_cny?: number;
  /** Change on the previous month (0.05 = +5 %); null when that month has no data. */
  energy_change?: number | null;
  carbon_change?: number | null;
  /** Share of the month's one-minute windows stored. */
  data_coverage: number;
}

export interface MonthlyReport {
  park: string;
  name: string;
  period: 'month';
  /** `YYYY-MM`, park time. */
  month: string;
  time_zone: string;
  from: string;
  to: string;
  /** kg CO2e per kWh of grid import (contract §4). */
  emission_factor_kg_per_kwh: number;
  /** The month's share of annual output, yuan (`annualOutputCny` × month hours / 8760), when the model has it. */
  output_cny?: number;
  park_totals: ReportRow;
  buildings: ReportRow[];
}

const HOURS_PER_YEAR = 8760;

function change(now: number, before: number | undefined): number | null {
  return before === undefined || before <= 0 ? null : now / before - 1;
}

/**
 * Builds the report of a month `[fromMs, toMs)` from the totals of each
 * scope (`''` = park, else building id) for that month and the month
 * before. Scopes without data appear with zeros and coverage 0.
 */
export function monthlyReport(index: ParkIndex, month: { label: string; fromMs: number; toMs: number }, totals: ReadonlyMap<string, MonthTotals>, previous: ReadonlyMap<string, MonthTotals>): MonthlyReport {
  const model = index.model;
  const hours = (month.toMs - month.fromMs) / 3_600_000;
  const outputCny = model.annualOutputCny !== undefined ? (model.annualOutputCny * hours) / HOURS_PER_YEAR : undefined;
  const windowsInMonth = (month.toMs - month.fromMs) / 60_000;
  const row = (scope: string): ReportRow => {
    const b = scope === '' ? undefined : index.buildings.get(scope);
    const scoped = b ? [b] : model.buildings;
    const floor = scoped.reduce((a, x) => a + x.floorAreaM2, 0);
    const people = scoped.reduce((a, x) => a + x.capacity, 0);
    const t = totals.get(scope) ?? { energy_kwh: 0, pv_kwh: 0, carbon_kgco2e: 0, windows: 0 };
    const used = t.energy_kwh + t.pv_kwh;
    const grid = t.energy_kwh * index.emissionFactor;
    const r: ReportRow = {
      scope: b ? 'building' : 'park',
      ...(b ? { building: b.id } : {}),
      name: b ? b.name : model.name,
      energy_kwh: t.energy_kwh,
      pv_kwh: t.pv_kwh,
      carbon_kgco2e: t.carbon_kgco2e,
      carbon_grid_kgco2e: grid,
      carbon_direct_kgco2e: Math.max(0, t.carbon_kgco2e - grid),
      data_coverage: windowsInMonth > 0 ? Math.min(1, t.windows / windowsInMonth) : 0,
    };
    if (t.peak_kw !== undefined && t.peakAtMs !== undefined) {
      r.peak_demand_kw = t.peak_kw;
      r.peak_demand_at = new Date(t.peakAtMs).toISOString();
    }
    if (floor > 0) {
      r.eui_kwh_per_m2 = used / floor;
      r.carbon_kg_per_m2 = t.carbon_kgco2e / floor;
    }
    if (people > 0) {
      r.energy_kwh_per_person = used / people;
      r.carbon_kg_per_person = t.carbon_kgco2e / people;
    }
    if (!b && outputCny !== undefined && outputCny > 0) {
      r.energy_kwh_per_10k_cny = used / (outputCny / 1e4);
      r.carbon_kg_per_10k_cny = t.carbon_kgco2e / (outputCny / 1e4);
    }
    const p = previous.get(scope);
    r.energy_change = p && p.windows > 0 ? change(t.energy_kwh, p.energy_kwh) : null;
    r.carbon_change = p && p.windows > 0 ? change(t.carbon_kgco2e, p.carbon_kgco2e) : null;
    return r;
  };
  return {
    park: model.id,
    name: model.name,
    period: 'month',
    month: month.label,
    time_zone: index.timeZone,
    from: new Date(month.fromMs).toISOString(),
    to: new Date(month.toMs).toISOString(),
    emission_factor_kg_per_kwh: index.emissionFactor,
    ...(outputCny !== undefined ? { output_cny: outputCny } : {}),
    park_totals: row(''),
    buildings: model.buildings.map((b) => row(b.id)),
  };
}

/** The CSV columns, in order (RFC 4180; one line per scope, the park first). */
export const REPORT_CSV_COLUMNS: ReadonlyArray<keyof ReportRow> = [
  'scope',
  'building',
  'name',
  'energy_kwh',
  'pv_kwh',
  'peak_demand_kw',
  'peak_demand_at',
  'carbon_kgco2e',
  'carbon_grid_kgco2e',
  'carbon_direct_kgco2e',
  'eui_kwh_per_m2',
  'carbon_kg_per_m2',
  'energy_kwh_per_person',
  'carbon_kg_per_person',
  'energy_kwh_per_10k_cny',
  'carbon_kg_per_10k_cny',
  'energy_change',
  'carbon_change',
  'data_coverage',
];

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.round(v * 1e4) / 1e4) : '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report as CSV: a header, then the park and each building. The month,
 * zone and emission factor are columns of their own so that a spreadsheet
 * of several months stays self-describing.
 */
export function reportCsv(r: MonthlyReport): string {
  const head = ['month', 'time_zone', 'emission_factor_kg_per_kwh', ...REPORT_CSV_COLUMNS];
  const lines = [head.join(',')];
  for (const row of [r.park_totals, ...r.buildings]) {
    lines.push([r.month, r.time_zone, r.emission_factor_kg_per_kwh, ...REPORT_CSV_COLUMNS.map((c) => row[c])].map(csvCell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
