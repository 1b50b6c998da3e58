/**
 * The view controls of the top bar: the colour-mode picker (a radio group,
 * so arrows switch modes), the names toggle (hidden when the park is too
 * large for labels) and "Reset view" (hidden without a 3D view).
 */
import { COLOUR_MODES, SCALES, type ColourMode } from '../lib/colour.scale';
import { h } from './dom.helpers';

/** The elements of index.html this view fills and listens to. */
export interface ControlsElements {
  modes: HTMLElement;
  labels: HTMLInputElement;
  resetView: HTMLButtonElement;
}

/** What the controls ask for. */
export interface ControlsHandlers {
  mode(mode: ColourMode): void;
  labels(on: boolean): void;
  resetView(): void;
}

export class ControlsView {
  private readonly listeners = new AbortController();
  private readonly inputs = new Map<ColourMode, HTMLInputElement>();
  private readonly segments: HTMLElement[] = [];

  constructor(
    private readonly el: ControlsElements,
    options: { labelsAvailable: boolean; canResetView: boolean },
    handlers: ControlsHandlers,
  ) {
    const { signal } = this.listeners;
    for (const m of COLOUR_MODES) {
      const input = h('input', { type: 'radio', name: 'colour-mode', value: m, id: `mode-${m}` });
      input.addEventListener('change', () => input.checked && handlers.mode(m), { signal });
      const segment = h('label', { for: `mode-${m}`, class: 'segment' }, input, h('span', {}, SCALES[m].name));
      el.modes.append(segment);
      this.inputs.set(m, input);
      this.segments.push(segment);
    }
    if (!options.labelsAvailable) el.labels.closest('label')?.setAttribute('hidden', '');
    el.labels.addEventListener('change', () => handlers.labels(el.labels.checked), { signal });
    el.resetView.addEventListener('click', () => handlers.resetView(), { signal });
    el.resetView.hidden = !options.canResetView;
  }

  /** Checks the radio of a mode chosen elsewhere (the address, at start-up). */
  showMode(mode: ColourMode): void {
    const input = this.inputs.get(mode);
    if (input) input.checked = true;
  }

  dispose(): void {
    this.listeners.abort();
    for (const s of this.segments) s.remove();
  }
}
