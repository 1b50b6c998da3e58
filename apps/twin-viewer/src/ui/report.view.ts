/**
 * The monthly report as a page: a header (park, month in park time, the
 * emission factor used), the park's key figures, one table row per
 * building, and the definitions. Laid out for one A4 page (report.css).
 */
import type { MonthlyReport, ReportRow } from '@park/metrics';
import type { ParkModel } from '@park/telemetry';
import { formatChange, formatParkTime, monthTitle, previousMonthLabel } from '../lib/report.format';
import { formatKgCo2e, formatKw, formatKwh, formatNumber, formatPercent, UNKNOWN } from '../lib/units.format';
import { h } from './dom.helpers';

function figure(label: string, value: string, sub: string, key: string): HTMLElement {
  return h('div', { class: 'figure', 'data-figure': key }, h('div', { class: 'figure-label' }, label), h('div', { class: 'figure-value' }, value), h('div', { class: 'figure-sub' }, sub));
}

function num(v: number | undefined, digits = 1): string {
  return v === undefined ? UNKNOWN : formatNumber(v, digits);
}

function row(r: ReportRow, tz: string): HTMLElement {
  const cells: Array<[string, string]> = [
    ['energy', formatNumber(r.energy_kwh)],
    ['pv', formatNumber(r.pv_kwh)],
    ['peak', r.peak_demand_kw === undefined ? UNKNOWN : formatNumber(r.peak_demand_kw)],
    ['peak-at', formatParkTime(r.peak_demand_at, tz)],
    ['carbon', formatNumber(r.carbon_kgco2e)],
    ['eui', num(r.eui_kwh_per_m2)],
    ['carbon-m2', num(r.carbon_kg_per_m2, 2)],
    ['per-person', num(r.energy_kwh_per_person, 0)],
    ['change', formatChange(r.energy_change)],
    ['coverage', formatPercent(r.data_coverage)],
  ];
  return h(
    'tr',
    { 'data-scope': r.scope, 'data-building': r.building ?? '' },
    h('th', { scope: 'row' }, h('span', { class: 'row-name' }, r.name), r.building ? h('span', { class: 'row-id' }, ` ${r.building}`) : null),
    ...cells.map(([k, v]) => h('td', { 'data-col': k }, v)),
  );
}

/** Renders the report into `root` (replacing what was there). */
export function renderReport(root: HTMLElement, r: MonthlyReport, model: ParkModel): void {
  const p = r.park_totals;
  const tz = r.time_zone;
  document.title = `${r.name}: energy and carbon, ${monthTitle(r.month)}`;
  const csv = `api/parks/${encodeURIComponent(r.park)}/report?period=month&month=${r.month}&format=csv`;
  const print = h('button', { type: 'button', class: 'no-print' }, 'Print / save as PDF');
  print.addEventListener('click', () => window.print());
  root.replaceChildren(
    h(
      'header',
      { class: 'report-head' },
      h('div', {}, h('h1', {}, `${r.name}`), h('p', { class: 'report-sub' }, `Energy and carbon report · ${monthTitle(r.month)} (${tz})`)),
      h('div', { class: 'report-actions no-print' }, print, h('a', { href: csv, download: `report-${r.park}-${r.month}.csv` }, 'CSV')),
    ),
    h(
      'section',
      { class: 'figures', 'aria-label': 'Park figures' },
      figure('Grid energy', formatKwh(p.energy_kwh), `${formatChange(p.energy_change)} on ${monthTitle(previousMonthLabel(r.month))}`, 'energy'),
      figure('On-site PV', formatKwh(p.pv_kwh), p.energy_kwh + p.pv_kwh > 0 ? `${formatPercent(p.pv_kwh / (p.energy_kwh + p.pv_kwh))} of use` : '', 'pv'),
      figure('Peak demand', formatKw(p.peak_demand_kw), formatParkTime(p.peak_demand_at, tz), 'peak'),
      figure('Carbon', formatKgCo2e(p.carbon_kgco2e), `grid ${formatKgCo2e(p.carbon_grid_kgco2e)} at ${r.emission_factor_kg_per_kwh} kg/kWh · direct ${formatKgCo2e(p.carbon_direct_kgco2e)}`, 'carbon'),
      figure('Energy use intensity', `${num(p.eui_kwh_per_m2, 2)} kWh/m²`, `${num(p.carbon_kg_per_m2, 2)} kg CO₂e/m²`, 'eui'),
      figure('Per person', `${num(p.energy_kwh_per_person, 0)} kWh`, `${num(p.carbon_kg_per_person, 0)} kg CO₂e per person of capacity`, 'person'),
      figure(
        'Per 10⁴ yuan of output',
        p.carbon_kg_per_10k_cny === undefined ? UNKNOWN : `${num(p.carbon_kg_per_10k_cny, 2)} kg CO₂e`,
        p.energy_kwh_per_10k_cny === undefined ? 'the park model has no annual output' : `${num(p.energy_kwh_per_10k_cny, 1)} kWh`,
        'output',
      ),
      figure('Data coverage', formatPercent(p.data_coverage), `of the month's one-minute windows`, 'coverage'),
    ),
    h(
      'table',
      { class: 'buildings' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Building', 'Grid kWh', 'PV kWh', 'Peak kW', 'Peak at', 'CO₂e kg', 'kWh/m²', 'kg/m²', 'kWh/person', 'Energy vs last month', 'Data'].map((t, i) => h('th', { scope: 'col', class: i === 0 ? 'left' : '' }, t)),
        ),
      ),
      h('tbody', {}, ...r.buildings.map((b) => row(b, tz))),
      h('tfoot', {}, row(p, tz)),
    ),
    h(
      'footer',
      { class: 'report-notes' },
      h(
        'p',
        {},
        `${monthTitle(r.month)} in park time (${tz}), from the one-minute vital signs (contract §6). Carbon: grid import × ${r.emission_factor_kg_per_kwh} kg CO₂e/kWh plus direct emissions (boilers, generators). Intensities per m² of floor area and per person of design capacity use grid import plus on-site PV; per 10⁴ yuan uses the month's share of the annual output${model.annualOutputCny ? ` (${formatNumber(model.annualOutputCny / 1e8, 1)} × 10⁸ yuan a year)` : ''}. Peak demand: the highest one-minute peak.`,
      ),
    ),
  );
}

/** Says why there is no report; `signIn`: a link to the twin, where the sign-in form is. */
export function renderReportError(root: HTMLElement, message: string, signIn?: string): void {
  root.replaceChildren(h('h1', {}, 'Report unavailable'), h('p', { class: 'report-error', role: 'alert' }, message), ...(signIn ? [h('p', {}, h('a', { href: signIn }, 'Open the twin to sign in'))] : []));
}
