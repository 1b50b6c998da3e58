/**
 * How numbers read on screen: units always shown, magnitudes scaled to stay
 * short (kW → MW, kg → t), and "—" for what is unknown rather than a
 * misleading 0. English grouping so tests and screenshots are stable.
 */

const nf = (digits: number) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const F0 = nf(0);
const F1 = nf(1);
const F2 = nf(2);

/** The placeholder for an unknown value. */
export const UNKNOWN = '—';

function known(v: number | undefined | null): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A number with grouping and up to `digits` decimals. */
export function formatNumber(v: number | undefined | null, digits = 0): string {
  if (!known(v)) return UNKNOWN;
  return (digits === 0 ? F0 : digits === 1 ? F1 : F2).format(v);
}

/** Significant-looking digits: 1234 → "1,234", 12.34 → "12.3", 1.234 → "1.23". */
function auto(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? F0.format(v) : a >= 10 ? F1.format(v) : F2.format(v);
}

/** Power: "850 kW", "1.25 MW". */
export function formatKw(kw: number | undefined | null): string {
  if (!known(kw)) return UNKNOWN;
  return Math.abs(kw) >= 10_000 ? `${auto(kw / 1000)} MW` : `${auto(kw)} kW`;
}

/** Energy: "812 kWh", "12.5 MWh", "1.2 GWh". */
export function formatKwh(kwh: number | undefined | null): string {
  if (!known(kwh)) return UNKNOWN;
  const a = Math.abs(kwh);
  if (a >= 10_000_000) return `${auto(kwh / 1_000_000)} GWh`;
  if (a >= 10_000) return `${auto(kwh / 1000)} MWh`;
  return `${auto(kwh)} kWh`;
}

/** Mass of CO2e: "420 kg", "12.3 t". */
export function formatKgCo2e(kg: number | undefined | null): string {
  if (!known(kg)) return UNKNOWN;
  return Math.abs(kg) >= 1000 ? `${auto(kg / 1000)} t CO₂e` : `${auto(kg)} kg CO₂e`;
}

/** A ratio as a percentage: 0.823 → "82 %". */
export function formatPercent(ratio: number | undefined | null): string {
  if (!known(ratio)) return UNKNOWN;
  return `${F0.format(ratio * 100)} %`;
}

/** CO2 concentration: "712 ppm". */
export function formatPpm(ppm: number | undefined | null): string {
  if (!known(ppm)) return UNKNOWN;
  return `${F0.format(ppm)} ppm`;
}

/** Local wall-clock time of an epoch-ms instant, HH:MM:SS. */
export function formatClock(ms: number | undefined | null): string {
  if (!known(ms)) return UNKNOWN;
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "12 s ago", "3 min ago", for the stale banner. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return UNKNOWN;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ago`;
}
