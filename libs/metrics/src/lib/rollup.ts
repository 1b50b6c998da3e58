import { worstStatus } from './alarm-rules';
import { VitalSigns, VitalStatus } from './vital-signs';

/**
 * How a vital sign of one-minute windows rolls up into a coarser window
 * (history `every` = 15m, 1h, 1d; contract §7):
 * - `sum`: quantities (kWh, kg CO2e) add up;
 * - `mean`: rates and levels average over the windows that have a value
 *   (`co2_ppm_avg` is the mean of the window means, not weighted by the
 *   number of readings, which the `vitals` measurement does not store);
 * - `max`: peaks;
 * - `ratio`: `renewable_share` is recomputed from the sums,
 *   `Σpv_kwh / (Σenergy_kwh + Σpv_kwh)`, not averaged, so that a sunny
 *   minute at night-time load does not weigh like a sunny hour;
 * - `worst`: `status` is the worst status of the windows.
 */
export type RollupKind = 'sum' | 'mean' | 'max' | 'ratio' | 'worst';

/** The roll-up of every field of {@link VitalSigns}, as data, for building InfluxQL. */
export const ROLLUP: Readonly<Record<keyof VitalSigns, RollupKind>> = {
  energy_kwh: 'sum',
  pv_kwh: 'sum',
  load_kw: 'mean',
  peak_kw: 'max',
  renewable_share: 'ratio',
  carbon_kgco2e: 'sum',
  occupancy: 'mean',
  occupancy_rate: 'mean',
  co2_ppm_avg: 'mean',
  co2_ppm_max: 'max',
  online_ratio: 'mean',
  status: 'worst',
};

/** The InfluxQL aggregate of each numeric roll-up kind (`ratio` and `worst` have none: see {@link ROLLUP}). */
export const INFLUXQL_AGGREGATE: Readonly<Record<'sum' | 'mean' | 'max', string>> = {
  sum: 'SUM',
  mean: 'MEAN',
  max: 'MAX',
};

type NumericKey = Exclude<keyof VitalSigns, 'status'>;

/**
 * Rolls the vital signs of consecutive windows of one scope up into one, by
 * {@link ROLLUP}. Optional fields stay absent when no window had them.
 * Undefined for an empty list.
 */
export function rollupVitals(windows: readonly VitalSigns[]): VitalSigns | undefined {
  if (windows.length === 0) return undefined;
  const out = {} as VitalSigns;
  for (const key of Object.keys(ROLLUP) as Array<keyof VitalSigns>) {
    const kind = ROLLUP[key];
    if (kind === 'worst') {
      out.status = windows.reduce<VitalStatus>((s, w) => worstStatus(s, w.status), 'ok');
      continue;
    }
    if (kind === 'ratio') {
      const energyKwh = windows.reduce((a, w) => a + w.energy_kwh, 0);
      const pvKwh = windows.reduce((a, w) => a + w.pv_kwh, 0);
      if (energyKwh + pvKwh > 0) out.renewable_share = pvKwh / (energyKwh + pvKwh);
      continue;
    }
    const values = windows.map((w) => w[key as NumericKey]).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    out[key as NumericKey] =
      kind === 'sum' ? values.reduce((a, b) => a + b, 0)
      : kind === 'max' ? Math.max(...values)
      : values.reduce((a, b) => a + b, 0) / values.length;
  }
  return out;
}
