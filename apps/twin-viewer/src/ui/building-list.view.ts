/**
 * The building list: the keyboard (and screen-reader) way to the same
 * buildings the canvas shows. Each entry is a button with the building's
 * colour swatch and current value for the chosen scale; arrow keys move
 * between entries, Enter or Space selects.
 */
import type { BuildingModel } from '@park/telemetry';
import { h, setText } from './dom.helpers';

interface Row {
  button: HTMLButtonElement;
  swatch: HTMLElement;
  value: HTMLElement;
  colour: string;
}

export class BuildingListView {
  private readonly rows: Row[] = [];
  private selected = -1;
  /** Rows on screen: only they are refreshed on each live update (a 500-building park scrolls). */
  private readonly onScreen: Uint8Array;
  private readonly observer: IntersectionObserver;

  constructor(
    private readonly root: HTMLElement,
    buildings: readonly BuildingModel[],
    private readonly select: (index: number) => void,
    private readonly hover: (index: number) => void,
    /** Called when a row scrolls into view, to bring its value up to date. */
    private readonly reveal: (index: number) => void,
  ) {
    this.onScreen = new Uint8Array(buildings.length);
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const i = Number((e.target as HTMLElement).dataset.index);
          this.onScreen[i] = e.isIntersecting ? 1 : 0;
          if (e.isIntersecting) this.reveal(i);
        }
      },
      { root, rootMargin: '200px 0px' },
    );
    this.observer = io;
    const list = h('ul', { class: 'building-list', 'aria-label': 'Buildings' });
    buildings.forEach((b, i) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      const value = h('span', { class: 'value' }, '—');
      const button = h(
        'button',
        { type: 'button', class: 'building', 'data-building': b.id, 'data-index': i, 'aria-pressed': 'false', tabindex: i === 0 ? 0 : -1 },
        swatch,
        h('span', { class: 'name' }, b.name),
        value,
      );
      button.addEventListener('click', () => this.select(i));
      button.addEventListener('focus', () => this.hover(i));
      button.addEventListener('blur', () => this.hover(-1));
      button.addEventListener('pointerenter', () => this.hover(i));
      button.addEventListener('pointerleave', () => this.hover(-1));
      button.addEventListener('keydown', (e) => this.key(e, i));
      list.append(h('li', {}, button));
      this.rows.push({ button, swatch, value, colour: '' });
      io.observe(button);
    });
    root.append(h('h2', { class: 'panel-title' }, 'Buildings ', h('span', { class: 'badge' }, String(buildings.length))), list);
  }

  dispose(): void {
    this.observer.disconnect();
    this.root.replaceChildren();
  }

  private key(e: KeyboardEvent, i: number): void {
    const n = this.rows.length;
    const to = e.key === 'ArrowDown' ? (i + 1) % n : e.key === 'ArrowUp' ? (i - 1 + n) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    this.rows[i].button.tabIndex = -1;
    this.rows[to].button.tabIndex = 0;
    this.rows[to].button.focus();
  }

  /** Whether a row is on screen (or about to be) and worth refreshing. */
  isOnScreen(i: number): boolean {
    return this.onScreen[i] === 1;
  }

  /** Sets a row's swatch colour and value text. */
  setValue(i: number, colour: string, text: string): void {
    const r = this.rows[i];
    if (r.colour !== colour) {
      r.colour = colour;
      r.swatch.style.background = colour;
    }
    setText(r.value, text);
  }

  setAlarm(i: number, severity: 'warn' | 'critical' | undefined): void {
    const b = this.rows[i].button;
    b.classList.toggle('alarm-warn', severity === 'warn');
    b.classList.toggle('alarm-critical', severity === 'critical');
  }

  setSelected(i: number): void {
    if (this.selected === i) return;
    if (this.selected >= 0) this.rows[this.selected].button.setAttribute('aria-pressed', 'false');
    this.selected = i;
    if (i >= 0) {
      const b = this.rows[i].button;
      b.setAttribute('aria-pressed', 'true');
      for (const r of this.rows) r.button.tabIndex = -1;
      b.tabIndex = 0;
      b.scrollIntoView({ block: 'nearest' });
    }
  }
}
