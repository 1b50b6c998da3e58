/**
 * Building name labels over the canvas: placed above each roof, nearest
 * first, skipping any that would overlap one already placed (a wall of
 * overlapping names is unreadable). Parks larger than LABEL_LIMIT get names
 * on hover only: 500 labels are noise, not information.
 */
import type { TwinScene } from '../scene/twin.scene';
import type { BuildingSlot } from '../lib/park.geometry';
import { h, setText } from './dom.helpers';

export const LABEL_LIMIT = 60;
const GAP_PX = 10;

interface Label {
  root: HTMLElement;
  box: HTMLElement;
  name: HTMLElement;
  value: HTMLElement;
  /** The anomaly marker (trends alarms, contract §8); its text changes only when the anomaly does. */
  anomaly: HTMLElement;
  /** Measured width of the (constant) name line, px. */
  nameW: number;
  /** Where the label goes (canvas px); meaningful when `placed`. */
  rect: { x: number; y: number; w: number; h: number };
  placed: boolean;
  priority: number;
}

export class LabelsView {
  private readonly labels: Label[] = [];
  private enabled = true;
  /** Viewport width when last measured (the root font size follows it), 0 = not measured. */
  private measuredFor = 0;
  /** Average width of a character of the value line, and the box's padding and border, px. */
  private valueCharW = 0;
  private padW = 0;
  private boxH = 0;
  /** Total characters of the value lines when measured. */
  private measuredChars = 0;
  private readonly order: number[] = [];
  private readonly depth: Float32Array;
  private readonly placed: Int32Array;

  constructor(
    private readonly root: HTMLElement,
    private readonly slots: readonly BuildingSlot[],
    private readonly scene: TwinScene,
  ) {
    this.depth = new Float32Array(slots.length);
    this.placed = new Int32Array(slots.length);
    if (slots.length > LABEL_LIMIT) {
      this.enabled = false;
      return;
    }
    slots.forEach((s, i) => {
      const value = h('span', { class: 'label-value' });
      // The outer element sits on the anchor; CSS centres the box above it, so
      // a value that grows by a digit needs no re-measuring to stay centred.
      const name = h('span', { class: 'label-name' }, s.name);
      const anomaly = h('span', { class: 'label-anomaly', hidden: '' });
      const box = h('div', { class: 'label-box' }, anomaly, name, value);
      const el = h('div', { class: 'label', 'data-building': s.id }, box);
      root.append(el);
      this.labels.push({ root: el, box, name, value, anomaly, nameW: 0, rect: { x: 0, y: 0, w: 0, h: 0 }, placed: false, priority: 0 });
      this.order.push(i);
    });
  }

  /** Removes the labels from the page. */
  dispose(): void {
    this.enabled = false;
    this.labels.length = 0;
    this.root.replaceChildren();
    this.root.hidden = false;
  }

  /** Whether labels can be shown at all for this park. */
  get available(): boolean {
    return this.labels.length > 0;
  }

  setEnabled(on: boolean): void {
    this.enabled = on && this.available;
    this.root.hidden = !this.enabled;
    this.measuredFor = 0;
    this.layout();
  }

  setValue(i: number, text: string): void {
    const l = this.labels[i];
    if (!l) return;
    setText(l.value, text);
  }

  /**
   * Marks a building with an anomaly (a trends alarm: stuck meter, night
   * base load, demand forecast) or clears the mark (`text` null). Touches
   * the page only when the mark changes.
   */
  setAnomaly(i: number, text: string | null, severity: 'warn' | 'critical' | null): void {
    const l = this.labels[i];
    if (!l) return;
    const on = text !== null;
    if (l.anomaly.hidden === on) l.anomaly.hidden = !on;
    setText(l.anomaly, text ? `⚠ ${text}` : '');
    const sev = severity ?? '';
    if (l.anomaly.dataset.severity !== sev) l.anomaly.dataset.severity = sev;
    if (l.root.classList.contains('has-anomaly') !== on) l.root.classList.toggle('has-anomaly', on);
  }

  /** Buildings with an alarm are placed first so their names always show. */
  setPriority(i: number, p: number): void {
    const l = this.labels[i];
    if (l) l.priority = p;
  }

  /** Whether a canvas point is free of labels (for the test probe). */
  isClear(x: number, y: number): boolean {
    for (const l of this.labels) {
      const r = l.rect;
      // 6 px of slack: the width of the value line is estimated from its length.
      if (l.placed && x >= r.x - 6 && x <= r.x + r.w + 6 && y >= r.y - 6 && y <= r.y + r.h + GAP_PX) return false;
    }
    return true;
  }

  private measure(): void {
    let chars = 0;
    let px = 0;
    for (const l of this.labels) {
      l.nameW = l.name.offsetWidth;
      chars += l.value.textContent?.length ?? 0;
      px += l.value.offsetWidth;
      this.padW = l.box.offsetWidth - Math.max(l.nameW, l.value.offsetWidth);
      this.boxH = l.box.offsetHeight;
    }
    this.valueCharW = chars > 0 ? px / chars : 6;
    this.measuredFor = window.innerWidth;
    this.measuredChars = chars;
  }

  // Preallocated so re-placing labels while the camera moves allocates nothing.
  private readonly point = { x: 0, y: 0 };
  private readonly byPriority = (a: number, b: number): number => this.labels[b].priority - this.labels[a].priority || this.depth[a] - this.depth[b];

  layout(): void {
    if (!this.enabled) {
      for (const l of this.labels) l.placed = false;
      return;
    }
    // Measuring forces a layout, so it happens once (and again when the root
    // font size changes with the viewport); on live updates the width of a
    // value line is estimated from its length.
    let chars = 0;
    for (const l of this.labels) chars += l.value.textContent?.length ?? 0;
    // ...and when the texts changed in kind (no data → figures, another colour mode).
    if (this.measuredFor !== window.innerWidth || Math.abs(chars - this.measuredChars) > 0.3 * Math.max(chars, this.measuredChars)) this.measure();
    for (const l of this.labels) {
      l.rect.w = this.padW + Math.max(l.nameW, (l.value.textContent?.length ?? 0) * this.valueCharW);
      l.rect.h = this.boxH;
    }
    const p = this.point;
    const { width, height } = this.scene.size();
    for (let i = 0; i < this.labels.length; i++) {
      const rp = this.slots[i].roofPoints[0];
      const x = rp[0];
      const y = rp[1];
      const z = rp[2];
      const l = this.labels[i];
      l.placed = false;
      if (this.scene.projectPoint(x, y, z, p)) {
        this.depth[i] = this.scene.depthOf(x, y, z);
        l.rect.x = p.x - l.rect.w / 2;
        l.rect.y = p.y - l.rect.h - GAP_PX;
      } else this.depth[i] = Infinity;
    }
    this.order.sort(this.byPriority);
    let placedCount = 0;
    for (const i of this.order) {
      const l = this.labels[i];
      const r = l.rect;
      let ok = Number.isFinite(this.depth[i]) && r.x >= 0 && r.y >= 0 && r.x + r.w <= width && r.y + r.h <= height;
      for (let k = 0; ok && k < placedCount; k++) {
        const q = this.labels[this.placed[k]].rect;
        if (!(r.x + r.w < q.x || q.x + q.w < r.x || r.y + r.h < q.y || q.y + q.h < r.y)) ok = false;
      }
      if (ok) {
        l.placed = true;
        this.placed[placedCount++] = i;
        l.root.style.transform = `translate(${Math.round(r.x + r.w / 2)}px, ${Math.round(r.y + r.h + GAP_PX)}px)`;
      }
      if (l.root.classList.contains('is-hidden') === ok) l.root.classList.toggle('is-hidden', !ok);
    }
  }
}
