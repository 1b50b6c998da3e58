/**
 * The 3D view as an input: hovering a building highlights it and shows a
 * tooltip with its value in the chosen mode; a click (not the end of an
 * orbit drag) selects it. Picking runs at most once a frame, whatever the
 * pointer's event rate.
 */
import type { BuildingModel } from '@park/telemetry';
import type { TwinScene } from '../scene/twin.scene';
import { h } from './dom.helpers';

/** A press that moves more than this (CSS px) before release is a drag, not a click. */
const CLICK_SLOP_PX = 5;

export class CanvasInputView {
  private readonly listeners = new AbortController();
  private px = 0;
  private py = 0;
  private hoverFrame = 0;
  private down = false;
  private downX = 0;
  private downY = 0;

  constructor(
    private readonly scene: TwinScene,
    private readonly tooltip: HTMLElement,
    private readonly buildings: readonly BuildingModel[],
    /** The tooltip's value line for a building, e.g. "Load vs contract: 412 kW · 82 %". */
    private readonly valueText: (index: number) => string,
    private readonly select: (index: number) => void,
  ) {
    const canvas = scene.canvas;
    const { signal } = this.listeners;
    canvas.addEventListener(
      'pointermove',
      (e) => {
        this.px = e.offsetX;
        this.py = e.offsetY;
        if (this.hoverFrame === 0) this.hoverFrame = requestAnimationFrame(this.hover);
      },
      { signal },
    );
    canvas.addEventListener(
      'pointerleave',
      () => {
        tooltip.hidden = true;
        scene.setHovered(-1);
      },
      { signal },
    );
    canvas.addEventListener(
      'pointerdown',
      (e) => {
        this.down = true;
        this.downX = e.offsetX;
        this.downY = e.offsetY;
      },
      { signal },
    );
    canvas.addEventListener(
      'pointerup',
      (e) => {
        if (!this.down || Math.hypot(e.offsetX - this.downX, e.offsetY - this.downY) > CLICK_SLOP_PX || e.button !== 0) return;
        this.down = false;
        this.select(scene.pick(e.offsetX, e.offsetY));
      },
      { signal },
    );
  }

  private readonly hover = (): void => {
    this.hoverFrame = 0;
    const { scene, tooltip } = this;
    const i = scene.pick(this.px, this.py);
    scene.setHovered(i);
    scene.canvas.style.cursor = i >= 0 ? 'pointer' : '';
    if (i < 0) {
      tooltip.hidden = true;
      return;
    }
    const b = this.buildings[i];
    tooltip.replaceChildren(
      h('strong', {}, b.name),
      h('span', { class: 'tooltip-id' }, ` ${b.id}`),
      h('div', {}, this.valueText(i)),
      h('div', { class: 'tooltip-hint' }, 'Click for details'),
    );
    tooltip.hidden = false;
    const { width } = scene.size();
    const left = this.px + 16 + tooltip.offsetWidth > width ? this.px - 16 - tooltip.offsetWidth : this.px + 16;
    tooltip.style.transform = `translate(${Math.round(left)}px, ${Math.round(this.py + 16)}px)`;
  };

  dispose(): void {
    this.listeners.abort();
    cancelAnimationFrame(this.hoverFrame);
    this.hoverFrame = 0;
    this.tooltip.hidden = true;
  }
}
