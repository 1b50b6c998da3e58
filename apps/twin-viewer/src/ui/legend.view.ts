/** The legend of the chosen colour scale: title, unit, one swatch per band (worst first), "no data". */
import { legendOf, type ColourScale } from '../lib/colour.scale';
import { h } from './dom.helpers';

export class LegendView {
  constructor(private readonly root: HTMLElement) {}

  show(scale: ColourScale): void {
    const legend = legendOf(scale);
    this.root.replaceChildren(
      h('div', { class: 'legend-title' }, legend.title),
      ...(legend.unit ? [h('div', { class: 'legend-unit' }, legend.unit)] : []),
      h(
        'ul',
        { class: 'legend-entries' },
        ...legend.entries.map((e) => {
          const sw = h('span', { class: 'legend-swatch', 'aria-hidden': 'true' });
          sw.style.background = e.swatch;
          return h('li', {}, sw, e.label);
        }),
      ),
    );
    this.root.dataset.mode = scale.mode;
  }

  dispose(): void {
    this.root.replaceChildren();
    delete this.root.dataset.mode;
  }
}
