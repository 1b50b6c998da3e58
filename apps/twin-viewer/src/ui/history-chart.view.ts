/**
 * One small SVG line chart of a history series. The arithmetic is in
 * lib/history.chart.ts; this only turns a ChartModel into elements. No chart
 * library: five sparkline-sized charts do not justify one.
 */
import { layoutChart, parseHistory, type ChartBox, type ForecastStep, type HistoryPoint } from '../lib/history.chart';
import { formatClock, formatNumber } from '../lib/units.format';
import { h, s } from './dom.helpers';

const BOX: ChartBox = { width: 320, height: 112, left: 44, right: 8, top: 8, bottom: 18 };
const HOUR = 3_600_000;

/** What one chart shows. */
export interface ChartSpec {
  metric: string;
  title: string;
  unit: string;
  /** A horizontal reference (contracted kW, the CO2 limit) and its label. */
  reference?: { value: number; label: string };
}

function tick(v: number): string {
  const a = Math.abs(v);
  if (a >= 10_000) return `${formatNumber(v / 1000, 1)}k`;
  return formatNumber(v, a < 10 && v !== 0 ? 1 : 0);
}

/** The forecast drawn after now, or why there is none (e.g. too little history). */
export interface ChartForecast {
  nowMs: number;
  steps: ForecastStep[] | null;
  note?: string;
}

/** Renders a chart into a figure element (replacing what was there). */
export function renderChart(figure: HTMLElement, spec: ChartSpec, points: HistoryPoint[] | null, window: { fromMs: number; toMs: number; everyMs: number }, error?: string, forecast?: ChartForecast): void {
  const series = parseHistory(points ?? []);
  const tzOffsetMs = new Date(window.toMs).getTimezoneOffset() * 60_000;
  const c = layoutChart(series, { ...window, box: BOX, reference: spec.reference?.value, xTickEveryMs: 6 * HOUR, tickOffsetMs: tzOffsetMs, forecast: forecast?.steps ?? undefined, nowMs: forecast?.nowMs });
  const headline = c.last ? `${formatNumber(c.last.value, Math.abs(c.last.value) < 10 ? 2 : 0)} ${spec.unit}` : '—';
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${BOX.width} ${BOX.height}`,
    role: 'img',
    'aria-label': `${spec.title}, last 24 hours, ${c.points.length} points${c.last ? `, latest ${headline}` : ''}${c.forecast?.peak ? `; forecast for the next 24 hours peaks at ${formatNumber(c.forecast.peak.value)} ${spec.unit}` : ''}`,
    'data-metric': spec.metric,
    'data-points': c.points.length,
    'data-forecast-points': c.forecast?.points ?? 0,
  });
  for (const t of c.yTicks) {
    svg.append(
      s('line', { class: 'grid', x1: BOX.left, x2: BOX.width - BOX.right, y1: t.y, y2: t.y }),
      s('text', { class: 'axis', x: BOX.left - 4, y: t.y + 3, 'text-anchor': 'end' }, tick(t.value)),
    );
  }
  for (const t of c.xTicks) {
    svg.append(s('text', { class: 'axis', x: t.x, y: BOX.height - 4, 'text-anchor': 'middle' }, formatClock(t.tMs).slice(0, 5)));
  }
  if (c.referenceY !== undefined && spec.reference) {
    svg.append(
      s('line', { class: 'reference', x1: BOX.left, x2: BOX.width - BOX.right, y1: c.referenceY, y2: c.referenceY }),
      s('text', { class: 'reference-label', x: BOX.width - BOX.right - 2, y: c.referenceY - 3, 'text-anchor': 'end' }, spec.reference.label),
    );
  }
  if (c.forecast && c.forecast.points > 0) {
    svg.append(
      s('path', { class: 'forecast-band', d: c.forecast.band }),
      s('path', { class: 'forecast-line', d: c.forecast.line }),
      s('line', { class: 'now-line', x1: c.forecast.nowX, x2: c.forecast.nowX, y1: BOX.top, y2: BOX.height - BOX.bottom }),
      s('text', { class: 'forecast-label', x: c.forecast.nowX + 3, y: BOX.top + 8 }, 'forecast'),
    );
  }
  if (c.points.length > 0) {
    svg.append(s('path', { class: 'area', d: c.area }), s('path', { class: 'line', d: c.line }));
    const last = c.points[c.points.length - 1];
    svg.append(s('circle', { class: 'last', cx: last.x, cy: last.y, r: 2.5 }));
  } else {
    svg.append(s('text', { class: 'no-data', x: (BOX.left + BOX.width) / 2, y: BOX.height / 2, 'text-anchor': 'middle' }, error ? 'history unavailable' : 'no data in the last 24 h'));
  }
  figure.replaceChildren(
    h('figcaption', {}, h('span', { class: 'chart-title' }, spec.title), h('span', { class: 'chart-value' }, headline)),
    svg,
    ...(error ? [h('p', { class: 'chart-error', role: 'note' }, error)] : []),
    ...(forecast?.note ? [h('p', { class: 'chart-note', role: 'note' }, forecast.note)] : []),
  );
  figure.setAttribute('aria-busy', 'false');
}
