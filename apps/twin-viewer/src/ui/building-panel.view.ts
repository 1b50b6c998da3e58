/**
 * The side panel of the selected building: what it is (model facts), how it
 * is now (`now`), its last closed window (vitals) and its last 24 h from the
 * history API at 15-minute resolution.
 */
import { CO2_LIMIT_PPM } from '@park/metrics';
import type { BuildingModel } from '@park/telemetry';
import type { ParkApi } from '../api/park.api';
import { metricValue, sensorsText } from '../lib/building.metric';
import { SCALES, colourHex } from '../lib/colour.scale';
import { RULE_LABEL, buildingStatus, type TwinState } from '../lib/live.reducer';
import { formatClock, formatKgCo2e, formatKw, formatKwh, formatNumber, formatPercent, formatPpm, UNKNOWN } from '../lib/units.format';
import { h, setText } from './dom.helpers';
import { renderChart, type ChartForecast, type ChartSpec } from './history-chart.view';

const DAY_MS = 24 * 3_600_000;
const EVERY_MS = 15 * 60_000;
/** Charts are refreshed at most this often while the panel is open. */
const CHART_REFRESH_MS = 60_000;

const USE_LABEL: Record<string, string> = {
  office: 'Office',
  lab: 'Laboratory',
  factory: 'Factory',
  datacenter: 'Data centre',
  residential: 'Residential',
  retail: 'Retail and services',
  utility: 'Utility',
  mixed: 'Mixed use',
};

export class BuildingPanelView {
  private building: BuildingModel | null = null;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly nowValues = new Map<string, HTMLElement>();
  private readonly windowValues = new Map<string, HTMLElement>();
  private readonly windowTitle: HTMLElement;
  private readonly alarms: HTMLElement;
  private readonly charts: HTMLElement;
  private chartsAt = 0;
  private abort: AbortController | null = null;
  private lastState: TwinState | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: ParkApi,
    private readonly parkId: string,
    private readonly onClose: () => void,
    private readonly onZoom: (buildingId: string) => void,
  ) {
    this.title = h('h2', { class: 'panel-title', id: 'building-panel-title' });
    this.subtitle = h('p', { class: 'subtitle' });
    const close = h('button', { type: 'button', class: 'icon', 'aria-label': 'Close building details', title: 'Close (Esc)' }, '×');
    close.addEventListener('click', () => this.onClose());
    const zoom = h('button', { type: 'button', class: 'small', 'aria-label': 'Zoom the view to this building' }, 'Zoom to');
    zoom.addEventListener('click', () => this.building && this.onZoom(this.building.id));
    this.facts = h('dl', { class: 'facts' });
    const grid = (target: Map<string, HTMLElement>, items: Array<[string, string]>) =>
      h(
        'dl',
        { class: 'values' },
        ...items.flatMap(([key, label]) => {
          const dd = h('dd', { 'data-value': key }, UNKNOWN);
          target.set(key, dd);
          return [h('dt', {}, label), dd];
        }),
      );
    this.windowTitle = h('h3', {}, 'Last closed window');
    this.alarms = h('ul', { class: 'building-alarms' });
    this.charts = h('div', { class: 'charts' });
    root.setAttribute('aria-labelledby', 'building-panel-title');
    root.append(
      h('header', { class: 'panel-head' }, h('div', {}, this.title, this.subtitle), h('div', { class: 'panel-actions' }, zoom, close)),
      this.facts,
      h('h3', {}, 'Now'),
      grid(this.nowValues, [
        ['load', 'Grid load'],
        ['pv', 'PV output'],
        ['occupancy', 'Occupancy'],
        ['co2', 'Indoor CO₂'],
        ['sensors', 'Sensors online'],
        ['status', 'Status'],
      ]),
      this.alarms,
      this.windowTitle,
      grid(this.windowValues, [
        ['energy', 'Grid energy'],
        ['load', 'Average load'],
        ['peak', 'Peak'],
        ['carbon', 'Carbon'],
        ['renewable', 'Renewable share'],
        ['co2', 'CO₂ avg / max'],
      ]),
      h('h3', {}, 'Last 24 hours, and the forecast for the next 24 (15-minute steps, 80 % band)'),
      this.charts,
    );
  }

  get selectedId(): string | null {
    return this.building?.id ?? null;
  }

  open(b: BuildingModel, state: TwinState): void {
    const changed = this.building?.id !== b.id;
    this.building = b;
    this.root.hidden = false;
    this.root.dataset.building = b.id;
    setText(this.title, b.name);
    setText(this.subtitle, `${b.id} · ${USE_LABEL[b.use ?? ''] ?? 'Building'}`);
    this.facts.replaceChildren(
      ...[
        ['Floors', formatNumber(b.floors)],
        ['Height', `${formatNumber(b.height, 1)} m`],
        ['Floor area', `${formatNumber(b.floorAreaM2)} m²`],
        ['Capacity', `${formatNumber(b.capacity)} people`],
        ['Contracted', formatKw(b.contractedKw)],
        ['Sensors', String(b.sensors.length)],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
    if (changed) {
      this.lastState = null;
      this.chartsAt = 0;
    }
    this.update(state);
    if (changed) void this.loadCharts();
  }

  close(): void {
    this.building = null;
    this.root.hidden = true;
    delete this.root.dataset.building;
    this.abort?.abort();
  }

  /** Closes the panel, cancels its history requests and empties it. */
  dispose(): void {
    this.close();
    this.root.replaceChildren();
  }

  /** Refreshes the live figures; reloads the charts when a new window closed and the last load is old enough. */
  update(state: TwinState): void {
    const b = this.building;
    if (!b) return;
    const prev = this.lastState;
    this.lastState = state;
    const now = state.buildings[b.id];
    const set = (m: Map<string, HTMLElement>, k: string, v: string, colour?: string) => {
      const e = m.get(k) as HTMLElement;
      setText(e, v);
      e.style.setProperty('--swatch', colour ?? 'transparent');
    };
    const load = metricValue('load', b, state);
    set(this.nowValues, 'load', now ? `${formatKw(now.grid_kw)} (${formatPercent(load)})` : UNKNOWN, colourHex(SCALES.load, load));
    set(this.nowValues, 'pv', now ? formatKw(now.pv_kw) : UNKNOWN);
    const occ = metricValue('occupancy', b, state);
    set(this.nowValues, 'occupancy', now ? `${formatNumber(now.occupancy)} (${formatPercent(occ)})` : UNKNOWN, colourHex(SCALES.occupancy, occ));
    set(this.nowValues, 'co2', formatPpm(now?.co2_ppm), colourHex(SCALES.co2, now?.co2_ppm));
    const online = metricValue('sensors', b, state);
    set(this.nowValues, 'sensors', now ? sensorsText(now).replace(' online', '') : UNKNOWN, colourHex(SCALES.sensors, online));
    const status = buildingStatus(state, b.id);
    set(this.nowValues, 'status', status ?? UNKNOWN, colourHex(SCALES.status, metricValue('status', b, state)));

    if (!prev || prev.active !== state.active) {
      const mine = Object.values(state.active).filter((a) => a.building === b.id);
      this.alarms.replaceChildren(
        ...mine.map((a) => h('li', { class: `sev-line ${a.severity}` }, `${RULE_LABEL[a.rule] ?? a.rule}: ${formatNumber(a.value, a.value < 10 ? 2 : 0)} vs ${formatNumber(a.threshold, a.threshold < 10 ? 2 : 0)} since ${formatClock(a.tsMs)}`)),
      );
    }

    const v = state.vitals?.buildings[b.id];
    const w = state.vitals?.window;
    setText(this.windowTitle, w ? `Last closed window ${formatClock(w.startMs).slice(0, 5)}–${formatClock(w.endMs).slice(0, 5)}` : 'Last closed window');
    set(this.windowValues, 'energy', formatKwh(v?.energy_kwh));
    set(this.windowValues, 'load', formatKw(v?.load_kw));
    set(this.windowValues, 'peak', formatKw(v?.peak_kw));
    set(this.windowValues, 'carbon', formatKgCo2e(v?.carbon_kgco2e));
    set(this.windowValues, 'renewable', formatPercent(v?.renewable_share));
    set(this.windowValues, 'co2', v?.co2_ppm_avg !== undefined ? `${formatNumber(v.co2_ppm_avg)} / ${formatPpm(v.co2_ppm_max)}` : UNKNOWN);

    if (prev && prev.vitals !== state.vitals && Date.now() - this.chartsAt > CHART_REFRESH_MS) void this.loadCharts();
  }

  private specs(b: BuildingModel): Array<ChartSpec & { forecast?: 'load_kw' | 'energy_kwh' }> {
    return [
      { metric: 'load_kw', title: 'Load', unit: 'kW', reference: { value: b.contractedKw, label: 'contracted' }, forecast: 'load_kw' },
      { metric: 'energy_kwh', title: 'Grid energy', unit: 'kWh', forecast: 'energy_kwh' },
      { metric: 'carbon_kgco2e', title: 'Carbon', unit: 'kg CO₂e' },
      { metric: 'occupancy', title: 'Occupancy', unit: 'people', reference: b.capacity > 0 ? { value: b.capacity, label: 'capacity' } : undefined },
      { metric: 'co2_ppm_avg', title: 'Indoor CO₂ (avg)', unit: 'ppm', reference: { value: CO2_LIMIT_PPM, label: 'GB/T 18883 limit' } },
    ];
  }

  private async loadCharts(): Promise<void> {
    const b = this.building;
    if (!b) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.chartsAt = Date.now();
    // Align to the 15-minute grid so consecutive refreshes ask for the same windows.
    const toMs = Math.ceil(Date.now() / EVERY_MS) * EVERY_MS;
    const window = { fromMs: toMs - DAY_MS, toMs, everyMs: EVERY_MS };
    const specs = this.specs(b);
    const figures = specs.map((spec) => {
      const existing = this.charts.querySelector<HTMLElement>(`figure[data-metric="${spec.metric}"]`);
      const f = existing ?? h('figure', { class: 'chart-figure', 'data-metric': spec.metric });
      f.setAttribute('aria-busy', 'true');
      return f;
    });
    if (figures.some((f) => !f.isConnected) || this.charts.dataset.building !== b.id) {
      this.charts.replaceChildren(...figures);
      this.charts.dataset.building = b.id;
      figures.forEach((f, i) => f.replaceChildren(h('figcaption', {}, h('span', { class: 'chart-title' }, specs[i].title), h('span', { class: 'chart-value' }, '…'))));
    }
    const nowMs = Date.now();
    await Promise.all(
      specs.map(async (spec, i) => {
        // The load and energy charts run on past now into the forecast (contract §8).
        const forecast = spec.forecast ? this.forecastOf(spec.forecast, b.id, nowMs, abort.signal) : undefined;
        const shown = spec.forecast ? { ...window, toMs: window.toMs + DAY_MS } : window;
        try {
          const pts = await this.api.history(this.parkId, { metric: spec.metric, building: b.id, fromMs: window.fromMs, toMs: window.toMs, every: '15m' }, abort.signal);
          const f = await forecast;
          if (abort.signal.aborted) return;
          renderChart(figures[i], spec, pts, shown, undefined, f);
        } catch (e) {
          if (abort.signal.aborted) return;
          renderChart(figures[i], spec, null, shown, (e as Error).message, await forecast);
        }
      }),
    );
  }

  /** The building's 15-min forecast for the chart, or the reason there is none (409: too little history). */
  private async forecastOf(metric: 'load_kw' | 'energy_kwh', building: string, nowMs: number, signal: AbortSignal): Promise<ChartForecast> {
    try {
      const f = await this.api.forecast(this.parkId, { metric, building, every: '15m' }, signal);
      return { nowMs, steps: f.points.map((p) => ({ tMs: Date.parse(p.t), value: p.value, lo: p.lo, hi: p.hi })) };
    } catch (e) {
      return { nowMs, steps: null, note: `No forecast: ${(e as Error).message.replace(/^[^:]*: /, '')}` };
    }
  }
}
