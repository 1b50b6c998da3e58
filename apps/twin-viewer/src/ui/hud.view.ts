/**
 * The park HUD: the figures a park operator looks at first (mission: "what
 * is the load now, how much CO2e did we emit today, which sensors went
 * silent"). Live figures from `now`; today's totals from the KPI endpoint.
 */
import { ALARM_THRESHOLDS, TREND_THRESHOLDS } from '@park/metrics';
import type { ParkModel } from '@park/telemetry';
import type { ParkForecast, ParkKpis } from '../api/park.api';
import { activeCounts, type TwinState } from '../lib/live.reducer';
import { formatClock, formatKgCo2e, formatKw, formatKwh, formatNumber, formatPercent, UNKNOWN } from '../lib/units.format';
import { h, setText } from './dom.helpers';

interface Card {
  root: HTMLElement;
  value: HTMLElement;
  sub: HTMLElement;
}

export class HudView {
  private readonly cards: Record<string, Card> = {};
  private readonly contractedKw: number;
  private readonly capacity: number;
  private kpis: ParkKpis | null = null;
  private kpiError: string | null = null;
  private peak: { tMs: number; value: number } | null = null;
  private forecastError: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    model: ParkModel,
  ) {
    this.contractedKw = model.buildings.reduce((s, b) => s + b.contractedKw, 0);
    this.capacity = model.buildings.reduce((s, b) => s + b.capacity, 0);
    for (const [key, label] of [
      ['load', 'Load now'],
      ['forecast', 'Next 24 h'],
      ['energy', 'Energy today'],
      ['carbon', 'CO₂e today'],
      ['renewable', 'Renewable share'],
      ['occupancy', 'Occupancy'],
      ['sensors', 'Sensors online'],
      ['alarms', 'Active alarms'],
    ] as const) {
      const value = h('div', { class: 'hud-value' }, UNKNOWN);
      const sub = h('div', { class: 'hud-sub' }, '');
      const card = h('div', { class: 'hud-card', 'data-metric': key, role: 'group', 'aria-label': label }, h('div', { class: 'hud-label' }, label), value, sub);
      root.append(card);
      this.cards[key] = { root: card, value, sub };
    }
  }

  setKpis(kpis: ParkKpis | null, error: string | null): void {
    this.kpis = kpis;
    this.kpiError = error;
  }

  /** The park's day-ahead forecast (contract §8): its peak and when, against the contracted capacity. */
  setForecast(forecast: ParkForecast | null, error: string | null): void {
    this.forecastError = error;
    this.peak = null;
    for (const p of forecast?.points ?? []) {
      const tMs = Date.parse(p.t);
      if (Number.isFinite(tMs) && Number.isFinite(p.value) && (!this.peak || p.value > this.peak.value)) this.peak = { tMs, value: p.value };
    }
    const c = this.cards.forecast;
    const pk = this.peak;
    setText(c.value, pk ? formatKw(pk.value) : UNKNOWN);
    const when = pk ? `${new Date(pk.tMs).toDateString() === new Date().toDateString() ? '' : 'tomorrow '}${formatClock(pk.tMs).slice(0, 5)}` : '';
    setText(c.sub, pk ? `peak at ${when}${this.contractedKw > 0 ? ` · ${formatPercent(pk.value / this.contractedKw)} of contracted` : ''}` : error ? 'no forecast yet' : '');
    c.root.title = error ?? (pk ? 'Forecast peak of the park load in the next 24 hours (15-minute steps), against the sum of the contracted capacities' : '');
    const share = pk && this.contractedKw > 0 ? pk.value / this.contractedKw : 0;
    c.root.classList.toggle('is-critical', share > TREND_THRESHOLDS.demand_forecast.critical);
    c.root.classList.toggle('is-warn', share > TREND_THRESHOLDS.demand_forecast.warn && share <= TREND_THRESHOLDS.demand_forecast.critical);
  }

  update(state: TwinState, stale: boolean): void {
    const c = this.cards;
    const p = state.park;
    this.root.classList.toggle('is-stale', stale);
    setText(c.load.value, formatKw(p?.grid_kw));
    setText(c.load.sub, p && this.contractedKw > 0 ? `${formatPercent(p.grid_kw / this.contractedKw)} of ${formatKw(this.contractedKw)} contracted` : '');
    c.load.root.classList.toggle('is-critical', !!p && p.grid_kw > ALARM_THRESHOLDS.demand.critical * this.contractedKw);

    const k = this.kpis;
    setText(c.energy.value, formatKwh(k?.energy_kwh));
    setText(c.energy.sub, this.kpiError ? 'unavailable' : k ? `peak ${formatKw(k.peak_demand_kw)}` : 'grid import since midnight');
    setText(c.carbon.value, formatKgCo2e(k?.carbon_kgco2e));
    setText(c.carbon.sub, this.kpiError ? 'unavailable' : 'grid + direct emissions');
    c.energy.root.title = c.carbon.root.title = this.kpiError ?? '';

    const liveShare = p && p.grid_kw + p.pv_kw > 0 ? Math.max(0, p.pv_kw) / (Math.max(0, p.grid_kw) + Math.max(0, p.pv_kw)) : undefined;
    setText(c.renewable.value, formatPercent(liveShare));
    setText(c.renewable.sub, p ? `PV ${formatKw(p.pv_kw)} now${k?.renewable_share !== undefined ? ` · today ${formatPercent(k.renewable_share)}` : ''}` : '');

    setText(c.occupancy.value, p ? formatNumber(p.occupancy) : UNKNOWN);
    setText(c.occupancy.sub, p && this.capacity > 0 ? `${formatPercent(p.occupancy / this.capacity)} of ${formatNumber(this.capacity)} capacity` : '');

    setText(c.sensors.value, p ? `${formatNumber(p.sensors_online)} / ${formatNumber(p.sensors_total)}` : UNKNOWN);
    setText(c.sensors.sub, p && p.sensors_total > 0 ? `${formatPercent(p.sensors_online / p.sensors_total)} reporting${p.sensors_skewed ? ` · ${formatNumber(p.sensors_skewed)} clock ahead` : ''}` : '');
    c.sensors.root.classList.toggle('is-warn', !!p && p.sensors_total > 0 && p.sensors_online / p.sensors_total < ALARM_THRESHOLDS.offline.warn);

    const n = activeCounts(state);
    setText(c.alarms.value, state.alarmsKnown ? String(n.total) : UNKNOWN);
    setText(c.alarms.sub, n.total > 0 ? `${n.critical} critical · ${n.warn} warn` : state.alarmsKnown ? 'all clear' : '');
    c.alarms.root.classList.toggle('is-critical', n.critical > 0);
    c.alarms.root.classList.toggle('is-warn', n.critical === 0 && n.warn > 0);
  }

  dispose(): void {
    this.root.replaceChildren();
    this.root.classList.remove('is-stale');
  }
}
