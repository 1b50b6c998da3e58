/**
 * The alarm panel: alarm transitions newest first (contract §6: raised when
 * the condition starts, cleared when it ends), each with time, building,
 * rule, severity and the value against its threshold. A cleared alarm stays
 * listed, marked cleared. A transition found late (contract §8: in windows
 * derived again after readings arrived for them late) is tagged `late` and
 * listed at its window's time. Re-rendered only when the log changes.
 */
import type { BuildingModel } from '@park/telemetry';
import { RULE_LABEL, activeCounts, type AlarmEntry, type TwinState } from '../lib/live.reducer';
import { formatClock, formatNumber } from '../lib/units.format';
import { h, setText } from './dom.helpers';

export class AlarmPanelView {
  private readonly list: HTMLOListElement;
  private readonly count: HTMLElement;
  private readonly empty: HTMLElement;
  private shown: readonly AlarmEntry[] | null = null;
  private readonly rows = new Map<string, HTMLLIElement>();

  constructor(
    private readonly root: HTMLElement,
    private readonly buildings: ReadonlyMap<string, BuildingModel>,
    private readonly select: (buildingId: string) => void,
  ) {
    this.count = h('span', { class: 'badge', 'aria-label': 'active alarms' }, '0');
    this.list = h('ol', { class: 'alarm-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.empty = h('p', { class: 'empty' }, 'No alarms since the viewer opened.');
    root.append(h('h2', { class: 'panel-title' }, 'Alarms ', this.count), this.empty, this.list);
  }

  update(state: TwinState): void {
    if (state.log === this.shown) return;
    this.shown = state.log;
    const n = activeCounts(state);
    setText(this.count, String(n.total));
    this.count.className = `badge ${n.critical ? 'critical' : n.warn ? 'warn' : ''}`;
    this.empty.hidden = state.log.length > 0;
    // Keyed rows: an entry keeps its element (and focus) as newer ones arrive above it.
    const keep = new Set<string>();
    let prev: Element | null = null;
    for (const e of state.log) {
      keep.add(e.key);
      let row = this.rows.get(e.key);
      if (!row) {
        row = this.row(e);
        this.rows.set(e.key, row);
      } else this.refresh(row, e);
      const want: Element | null = prev ? prev.nextElementSibling : this.list.firstElementChild;
      if (want !== row) this.list.insertBefore(row, want);
      prev = row;
    }
    for (const [k, row] of this.rows) {
      if (!keep.has(k)) {
        row.remove();
        this.rows.delete(k);
      }
    }
  }

  dispose(): void {
    this.root.replaceChildren();
    this.rows.clear();
  }

  private row(e: AlarmEntry): HTMLLIElement {
    const a = e.alarm;
    const b = this.buildings.get(a.building);
    const name = b?.name ?? a.building;
    const go = h('button', { type: 'button', class: 'link', 'aria-label': `Show ${name}` }, name);
    go.addEventListener('click', () => this.select(a.building));
    const row = h(
      'li',
      { class: a.late ? 'alarm late' : 'alarm', 'data-building': a.building, 'data-rule': a.rule, 'data-severity': a.severity, ...(a.late ? { 'data-late': 'true' } : {}) },
      h('span', { class: `sev ${a.severity}` }, a.severity),
      h('div', { class: 'what' }, go),
      h('time', { class: 'when', datetime: new Date(a.tsMs).toISOString() }, formatClock(a.tsMs)),
      h(
        'div',
        { class: 'rule' },
        RULE_LABEL[a.rule] ?? a.rule,
        // Contract §8: found when closed windows were derived again from readings that arrived late.
        ...(a.late ? [' ', h('span', { class: 'late-tag', title: 'Found late: readings for this window arrived after it closed, and it was derived again' }, 'late')] : []),
      ),
      // The gateway's message says it best; value against threshold when it sent none.
      h('div', { class: 'detail', title: a.message }, a.message || `${formatNumber(a.value, a.value < 10 ? 2 : 0)} against ${formatNumber(a.threshold, a.threshold < 10 ? 2 : 0)}`),
      h('div', { class: 'ended' }),
    );
    this.refresh(row, e);
    return row;
  }

  private refresh(row: HTMLLIElement, e: AlarmEntry): void {
    row.dataset.state = e.ended ?? 'active';
    row.classList.toggle('is-ended', !!e.ended);
    const ended = row.querySelector('.ended') as HTMLElement;
    setText(ended, e.ended === 'cleared' ? `cleared ${formatClock(e.endedAtMs)}` : e.ended === 'superseded' ? `changed severity ${formatClock(e.endedAtMs)}` : 'active');
  }
}
