/**
 * The park in the top bar: its name (also the page title), its size, and the
 * park selector when the gateway serves several parks (GET /api/parks,
 * contract §7). Choosing another park reloads the page on `?park=<id>`.
 */
import type { ParkModel } from '@park/telemetry';
import type { ParkSummary } from '../api/park.api';
import { formatNumber } from '../lib/units.format';
import { h, setText } from './dom.helpers';

/** The elements of index.html this view fills. */
export interface ParkHeaderElements {
  name: HTMLElement;
  meta: HTMLElement;
  select: HTMLSelectElement;
}

export class ParkHeaderView {
  private readonly listeners = new AbortController();

  constructor(
    private readonly el: ParkHeaderElements,
    model: ParkModel,
    summary: ParkSummary,
    parks: readonly ParkSummary[],
  ) {
    document.title = `${model.name} — park twin`;
    setText(el.name, model.name);
    setText(el.meta, `${model.buildings.length} buildings · ${summary.sensors} sensors${model.landAreaKm2 ? ` · ${formatNumber(model.landAreaKm2, 2)} km²` : ''}`);
    if (parks.length < 2) {
      el.select.closest('label')?.setAttribute('hidden', '');
      return;
    }
    el.select.replaceChildren(...parks.map((p) => h('option', { value: p.id, selected: p.id === model.id }, p.name)));
    el.select.addEventListener(
      'change',
      () => {
        const q = new URLSearchParams(location.search);
        q.set('park', el.select.value);
        location.search = q.toString();
      },
      { signal: this.listeners.signal },
    );
  }

  dispose(): void {
    this.listeners.abort();
    this.el.select.replaceChildren();
  }
}
