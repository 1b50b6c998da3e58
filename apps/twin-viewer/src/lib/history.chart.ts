/**
 * Scaling of a history series (GET /api/parks/{park}/history, contract §7)
 * into SVG coordinates: the line (broken where data is missing), the area
 * under it, round-number y ticks, hour ticks on x and an optional reference
 * line (a building's contracted kW). Pure so the arithmetic is unit-tested;
 * the view only turns this into elements.
 */

/** One point as the history API answers it. A null value is a window without data. */
export interface HistoryPoint {
  t: string;
  value: number | null;
}

/** Pixel box of a chart. */
export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A chart ready to draw. */
export interface ChartModel {
  /** SVG path of the line; one `M` per run of consecutive points. Empty when there is no data. */
  line: string;
  /** SVG path of the area under the line, closed to the baseline. */
  area: string;
  /** Plotted points in time order. */
  points: Array<{ x: number; y: number; tMs: number; value: number }>;
  yTicks: Array<{ y: number; value: number }>;
  xTicks: Array<{ x: number; tMs: number }>;
  yMin: number;
  yMax: number;
  /** Pixel y of the reference line, when given and finite. */
  referenceY?: number;
  /** The newest point, for the headline figure. */
  last?: { tMs: number; value: number };
  /** The forecast after now (contract §8), when given: its line, its 80 % band, and x of now. */
  forecast?: { line: string; band: string; nowX: number; points: number; peak?: { tMs: number; value: number } };
}

/** One forecast step as the viewer keeps it: mean value and the 80 % interval. */
export interface ForecastStep {
  tMs: number;
  value: number;
  lo: number;
  hi: number;
}

/** 1, 2, 2.5 or 5 × 10^k: the step that gives about `count` intervals over `range`. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0) || !(count > 0)) return 1;
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

/**
 * Round-number ticks covering [min, max]: the returned domain starts and ends
 * on a tick. A flat series (min = max) gets a domain around it so the line
 * sits in the middle rather than on an axis.
 */
export function niceDomain(min: number, max: number, count = 4): { min: number; max: number; step: number; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return niceDomain(0, 1, count);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = max === 0 ? 1 : Math.abs(max) * 0.5;
    min = min >= 0 && min - pad < 0 ? 0 : min - pad;
    max = max + pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return { min: lo, max: hi, step, ticks };
}

/** Parses history points; drops unparseable times, keeps nulls as gaps, sorts by time. */
export function parseHistory(points: readonly HistoryPoint[]): Array<{ tMs: number; value: number | null }> {
  const out: Array<{ tMs: number; value: number | null }> = [];
  for (const p of points) {
    const tMs = Date.parse(p.t);
    if (!Number.isFinite(tMs)) continue;
    out.push({ tMs, value: typeof p.value === 'number' && Number.isFinite(p.value) ? p.value : null });
  }
  out.sort((a, b) => a.tMs - b.tMs);
  return out;
}

/**
 * Lays out a series over [fromMs, toMs]. Points further apart than
 * 2 × `everyMs` (or separated by a null) are not joined: a missing window is
 * shown as missing, not interpolated. The y domain always includes 0 for
 * non-negative data (quantities like kWh read wrong on a cropped axis) and
 * the reference value.
 */
export function layoutChart(
  series: ReadonlyArray<{ tMs: number; value: number | null }>,
  opts: {
    fromMs: number;
    toMs: number;
    everyMs: number;
    box: ChartBox;
    reference?: number;
    xTickEveryMs?: number;
    tickOffsetMs?: number;
    /** Forecast steps after `nowMs`, drawn as a dashed line over a band; their range counts in the y domain. */
    forecast?: readonly ForecastStep[];
    nowMs?: number;
  },
): ChartModel {
  const { box, fromMs, toMs, everyMs } = opts;
  const inRange = series.filter((p) => p.tMs >= fromMs && p.tMs <= toMs);
  const ahead = (opts.forecast ?? []).filter((p) => p.tMs >= fromMs && p.tMs <= toMs && Number.isFinite(p.value) && Number.isFinite(p.lo) && Number.isFinite(p.hi));
  const values = inRange.filter((p) => p.value !== null).map((p) => p.value as number);
  for (const p of ahead) values.push(p.lo, p.hi);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (lo >= 0) lo = 0;
  if (opts.reference !== undefined && Number.isFinite(opts.reference)) {
    lo = Math.min(lo, opts.reference);
    hi = Math.max(hi, opts.reference);
  }
  const dom = niceDomain(lo, hi, 4);
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const span = Math.max(1, toMs - fromMs);
  const xOf = (t: number) => box.left + ((t - fromMs) / span) * plotW;
  const yOf = (v: number) => box.top + plotH - ((v - dom.min) / (dom.max - dom.min)) * plotH;
  const r = (v: number) => Math.round(v * 10) / 10;

  const points: ChartModel['points'] = [];
  let line = '';
  let area = '';
  let run: Array<{ x: number; y: number }> = [];
  let prevT = -Infinity;
  const baseY = r(yOf(Math.max(dom.min, Math.min(0, dom.max))));
  const flush = () => {
    if (run.length === 0) return;
    line += run.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join('');
    area += `M${run[0].x} ${baseY}` + run.map((p) => `L${p.x} ${p.y}`).join('') + `L${run[run.length - 1].x} ${baseY}Z`;
    run = [];
  };
  for (const p of inRange) {
    if (p.value === null) {
      flush();
      prevT = -Infinity;
      continue;
    }
    if (p.tMs - prevT > 2 * everyMs) flush();
    const pt = { x: r(xOf(p.tMs)), y: r(yOf(p.value)) };
    run.push(pt);
    points.push({ ...pt, tMs: p.tMs, value: p.value });
    prevT = p.tMs;
  }
  flush();

  const xEvery = opts.xTickEveryMs ?? 6 * 3_600_000;
  const offset = opts.tickOffsetMs ?? 0;
  const xTicks: ChartModel['xTicks'] = [];
  for (let t = Math.ceil((fromMs - offset) / xEvery) * xEvery + offset; t <= toMs; t += xEvery) xTicks.push({ x: r(xOf(t)), tMs: t });

  const last = points.length ? { tMs: points[points.length - 1].tMs, value: points[points.length - 1].value } : undefined;
  let forecast: ChartModel['forecast'];
  if (opts.forecast) {
    // Each step is drawn at its middle, so a 15-min step starting now sits just right of now.
    const mid = (p: ForecastStep) => r(xOf(Math.min(toMs, p.tMs + everyMs / 2)));
    const fl = ahead.map((p, i) => `${i === 0 ? 'M' : 'L'}${mid(p)} ${r(yOf(p.value))}`).join('');
    const band = ahead.length ? `M${ahead.map((p) => `${mid(p)} ${r(yOf(p.hi))}`).join('L')}L${[...ahead].reverse().map((p) => `${mid(p)} ${r(yOf(p.lo))}`).join('L')}Z` : '';
    const peak = ahead.reduce<ForecastStep | undefined>((a, p) => (!a || p.value > a.value ? p : a), undefined);
    forecast = { line: fl, band, nowX: r(xOf(opts.nowMs ?? fromMs)), points: ahead.length, peak: peak ? { tMs: peak.tMs, value: peak.value } : undefined };
  }
  return {
    forecast,
    line,
    area,
    points,
    yTicks: dom.ticks.map((v) => ({ y: r(yOf(v)), value: v })),
    xTicks,
    yMin: dom.min,
    yMax: dom.max,
    referenceY: opts.reference !== undefined && Number.isFinite(opts.reference) ? r(yOf(opts.reference)) : undefined,
    last,
  };
}
