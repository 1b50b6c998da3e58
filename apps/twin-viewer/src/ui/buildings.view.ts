/**
 * Every building wherever it shows: its colour and alarm highlight in the 3D
 * view, its row in the building list, its label. Recolouring the park is
 * O(buildings) and allocates nothing in the scene; text is formatted only
 * where someone can read it: the labels (parks of up to LABEL_LIMIT
 * buildings) and the list rows on screen.
 */
import type { BuildingModel } from '@park/telemetry';
import { metricText, metricValue } from '../lib/building.metric';
import { SCALES, colourInto, rgbToHex, type ColourMode, type Rgb } from '../lib/colour.scale';
import { alarmSeverity, anomalyOf, RULE_LABEL, type TwinState } from '../lib/live.reducer';
import type { AlarmLevel, TwinScene } from '../scene/twin.scene';
import type { BuildingListView } from './building-list.view';
import type { LabelsView } from './labels.view';

export class BuildingsView {
  private readonly scratch: Rgb = { r: 0, g: 0, b: 0 };

  constructor(
    private readonly buildings: readonly BuildingModel[],
    private readonly scene: TwinScene | null,
    private readonly list: BuildingListView,
    private readonly labels: LabelsView | null,
  ) {}

  /** Recolours every building for a mode and state. */
  recolour(mode: ColourMode, state: TwinState): void {
    const scale = SCALES[mode];
    const c = this.scratch;
    const withLabels = this.labels?.available === true;
    for (let i = 0; i < this.buildings.length; i++) {
      const b = this.buildings[i];
      colourInto(scale, metricValue(mode, b, state), c);
      this.scene?.setColour(i, c.r, c.g, c.b);
      const inList = this.list.isOnScreen(i);
      if (!inList && !withLabels) continue;
      const text = metricText(mode, b, state);
      if (inList) this.list.setValue(i, rgbToHex(c.r, c.g, c.b), text);
      this.labels?.setValue(i, text);
    }
  }

  /** Brings one list row up to date (it scrolled into view). */
  refreshRow(i: number, mode: ColourMode, state: TwinState): void {
    const b = this.buildings[i];
    const c = colourInto(SCALES[mode], metricValue(mode, b, state), this.scratch);
    this.list.setValue(i, rgbToHex(c.r, c.g, c.b), metricText(mode, b, state));
  }

  /** Highlights the buildings with an active alarm; their labels are placed first. */
  applyAlarms(state: TwinState): void {
    for (let i = 0; i < this.buildings.length; i++) {
      const sev = alarmSeverity(state, this.buildings[i].id);
      const level: AlarmLevel = sev === 'critical' ? 2 : sev === 'warn' ? 1 : 0;
      this.scene?.setAlarm(i, level);
      this.list.setAlarm(i, sev);
      this.labels?.setPriority(i, level);
      const anomaly = anomalyOf(state, this.buildings[i].id);
      this.labels?.setAnomaly(i, anomaly ? RULE_LABEL[anomaly.rule] : null, anomaly?.severity ?? null);
    }
  }

  setSelected(i: number): void {
    this.scene?.setSelected(i);
    this.list.setSelected(i);
  }

  setHovered(i: number): void {
    this.scene?.setHovered(i);
  }
}
