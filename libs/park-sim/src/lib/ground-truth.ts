/**
 * The energy and emissions that physically happened in the simulated park,
 * per building and 1-minute window: what a correct gateway's vital signs
 * (contract §6 `energy_kwh`, `pv_kwh`, the direct part of `carbon_kgco2e`)
 * must come back to.
 *
 * Every meter holds its power constant between two of its readings, so the
 * energy of a window is Σ P × (overlap of each reading interval with the
 * window), exactly what the contract's linear spreading of register increases
 * reproduces. Only intervals that end in a reading the simulator generated are
 * counted: before a meter's first reading nobody can know its consumption.
 */

// Math functions as module constants: global lookups are slow inside the vm
// contexts Jest runs tests in (Node 20), and these run several times per reading.
const { floor, max, min } = Math;

/** Window length of contract §6, ms. */
export const WINDOW_MS = 60_000;

/** One line of the `--truth` NDJSON file. */
export interface TruthWindow {
  park: string;
  building: string;
  /** Window start, ISO 8601 UTC; windows are aligned to epoch minutes. */
  windowStart: string;
  /** Grid import, kWh. */
  energy_kwh: number;
  /** PV generation, kWh. */
  pv_kwh: number;
  /** Increase of direct-emission registers (boilers, generators), kg CO2e. */
  emission_kgco2e: number;
}

export type TruthField = 'energy_kwh' | 'pv_kwh' | 'emission_kgco2e';
const FIELDS: readonly TruthField[] = ['energy_kwh', 'pv_kwh', 'emission_kgco2e'];

/** Per-building sums over the whole run. */
export type TruthTotals = Record<string, Record<TruthField, number>>;

/** Accumulates rate × time into 1-minute windows per building. */
export class GroundTruth {
  private readonly index = new Map<string, number>();
  /** window start ms → [building × field] sums. */
  private readonly windows = new Map<number, Float64Array>();
  private readonly sums: Float64Array;
  private readonly firstWindowMs: number;
  private drainedUpToMs: number;

  constructor(
    readonly parkId: string,
    private readonly buildingIds: readonly string[],
    startMs: number,
  ) {
    buildingIds.forEach((b, i) => this.index.set(b, i));
    this.sums = new Float64Array(buildingIds.length * FIELDS.length);
    this.firstWindowMs = floor(startMs / WINDOW_MS) * WINDOW_MS;
    this.drainedUpToMs = this.firstWindowMs;
  }

  /** Adds a constant `ratePerH` (kW or kg/h) held over (fromMs, toMs]. */
  add(building: string, field: TruthField, fromMs: number, toMs: number, ratePerH: number): void {
    if (ratePerH === 0 || toMs <= fromMs) return;
    const slot = this.index.get(building)! * FIELDS.length + FIELDS.indexOf(field);
    for (let w = floor(fromMs / WINDOW_MS) * WINDOW_MS; w < toMs; w += WINDOW_MS) {
      const overlapMs = min(toMs, w + WINDOW_MS) - max(fromMs, w);
      if (overlapMs <= 0) continue;
      let row = this.windows.get(w);
      if (!row) {
        row = new Float64Array(this.sums.length);
        this.windows.set(w, row);
      }
      const amount = (ratePerH * overlapMs) / 3_600_000;
      row[slot] += amount;
      this.sums[slot] += amount;
    }
  }

  /**
   * Windows that end at or before `finalMs` and were not returned before, one
   * line per building (zeros included), oldest first. `finalMs = Infinity`
   * returns the rest, up to the last window touched (the end of a run).
   */
  drain(finalMs: number): TruthWindow[] {
    const out: TruthWindow[] = [];
    const end = Number.isFinite(finalMs) ? finalMs : this.lastTouchedMs() + WINDOW_MS;
    for (let w = this.drainedUpToMs; w + WINDOW_MS <= end; w += WINDOW_MS) {
      out.push(...this.rows(w));
      this.drainedUpToMs = w + WINDOW_MS;
    }
    return out;
  }

  /** Every window from the start up to the last one touched, one line per building. */
  all(): TruthWindow[] {
    const last = this.lastTouchedMs();
    const out: TruthWindow[] = [];
    for (let w = this.firstWindowMs; w <= last; w += WINDOW_MS) out.push(...this.rows(w));
    return out;
  }

  /** Totals per building over everything added so far. */
  totals(): TruthTotals {
    const t: TruthTotals = {};
    this.buildingIds.forEach((b, i) => {
      t[b] = { energy_kwh: this.sums[i * 3], pv_kwh: this.sums[i * 3 + 1], emission_kgco2e: this.sums[i * 3 + 2] };
    });
    return t;
  }

  private lastTouchedMs(): number {
    let last = this.firstWindowMs;
    for (const w of this.windows.keys()) last = max(last, w);
    return last;
  }

  private rows(w: number): TruthWindow[] {
    const row = this.windows.get(w);
    const windowStart = new Date(w).toISOString();
    return this.buildingIds.map((building, i) => ({
      park: this.parkId,
      building,
      windowStart,
      energy_kwh: row ? row[i * 3] : 0,
      pv_kwh: row ? row[i * 3 + 1] : 0,
      emission_kgco2e: row ? row[i * 3 + 2] : 0,
    }));
  }
}
