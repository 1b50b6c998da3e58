/** The legend of the chosen colour scale: title, unit, one swatch per band (worst first), "no data". */
import { legendOf, type ColourScale } from '../lib/colour.scale';
import { h } from './dom.helpers';

export function renderLegend(root: HTMLElement, scale: ColourScale): void {
  const legend = legendOf(scale);
  root.replaceChildren(
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
  root.dataset.mode = scale.mode;
}
