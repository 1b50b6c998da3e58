/**
 * How live the figures are: the status chip of the top bar ("Live ·
 * 12:00:01", "Stale", "Reconnecting…") and the banner over the 3D view that
 * says why the data may no longer be true (no `now` for more than 3 s, or
 * the socket closed; lib/live.reducer.ts `isStale`).
 */
import type { TwinState } from '../lib/live.reducer';
import { formatAge, formatClock } from '../lib/units.format';
import { setText } from './dom.helpers';

/** The elements of index.html this view fills. */
export interface LiveStatusElements {
  banner: HTMLElement;
  chip: HTMLElement;
}

export class LiveStatusView {
  private shownStale: boolean | null = null;

  constructor(private readonly el: LiveStatusElements) {}

  update(state: TwinState, stale: boolean, clockMs: number): void {
    const { banner, chip } = this.el;
    if (stale) {
      const why =
        state.connection === 'open'
          ? `No live update for ${formatAge(clockMs - (state.nowAtMs ?? clockMs))}`
          : state.nowAtMs === null
            ? 'Connecting to the live stream…'
            : `Live stream lost — last update ${formatAge(clockMs - state.nowAtMs)}. Reconnecting…`;
      setText(banner, why);
    }
    banner.dataset.connection = state.connection;
    setText(chip, stale ? (state.connection === 'open' ? 'Stale' : 'Reconnecting…') : `Live · ${formatClock(state.nowAtMs)}`);
    chip.dataset.state = stale ? 'stale' : 'live';
    if (stale === this.shownStale) return;
    this.shownStale = stale;
    banner.hidden = !stale;
  }
}
