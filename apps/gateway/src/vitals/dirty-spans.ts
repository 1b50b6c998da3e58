/**
 * What of a park must be derived again from the stored readings, gathered
 * between two re-derivations (contract §8, late readings), bounded.
 *
 * Two kinds of span: the times of late readings (with their sensors; the
 * windows they change reach to those readings' neighbours, found when the
 * work is done), and ranges of windows to derive as they are (a gap the
 * gateway did not derive, windows a live revision touched).
 */
export interface ReadingSpan {
  /** Earliest and latest late reading, epoch ms (inclusive). */
  fromMs: number;
  toMs: number;
  /** `building/sensor` of the late readings, each with the time of its latest one (epoch ms). */
  sensors: Map<string, number>;
  /** Clock time the span last received a reading: while recent, more of its readings may be on their way. */
  lastAddedMs: number;
}

/** Windows `[fromMs, toMs)` to derive again. */
export interface WindowSpan {
  fromMs: number;
  toMs: number;
}

/** Everything gathered for one park: take it all at once. */
export interface DirtyWork {
  readings: ReadingSpan[];
  windows: WindowSpan[];
}

/** The time spans of some work: each late-reading span (its last reading included) and each window span. */
export function spansOf(work: DirtyWork): WindowSpan[] {
  return [...work.readings.map((r) => ({ fromMs: r.fromMs, toMs: r.toMs + 1 })), ...work.windows.map((w) => ({ fromMs: w.fromMs, toMs: w.toMs }))];
}

/**
 * Collects dirty spans, merging those closer than `mergeGapMs` (deriving the
 * windows between two close spans costs less than two passes) and, beyond
 * `maxSpans` of a kind, the two closest: memory stays bounded whatever
 * arrives, at the price of deriving more windows.
 */
export class DirtySpans {
  private readings: ReadingSpan[] = [];
  private windows: WindowSpan[] = [];
  /** Index of the reading span touched last: a burst of buffered readings tends to stay in one. */
  private hint = 0;

  constructor(
    private readonly mergeGapMs: number,
    private readonly maxSpans = 64,
  ) {}

  get isEmpty(): boolean {
    return this.readings.length === 0 && this.windows.length === 0;
  }

  /** A late reading of `sensor` (`building/sensor`) at `tsMs`, received at clock time `nowMs`. */
  addReading(sensor: string, tsMs: number, nowMs = 0): void {
    const near = (s: ReadingSpan) => tsMs >= s.fromMs - this.mergeGapMs && tsMs <= s.toMs + this.mergeGapMs;
    let s = this.readings[this.hint];
    if (!s || !near(s)) {
      this.hint = this.readings.findIndex(near);
      s = this.readings[this.hint];
    }
    if (s) {
      s.sensors.set(sensor, Math.max(s.sensors.get(sensor) ?? -Infinity, tsMs));
      s.lastAddedMs = Math.max(s.lastAddedMs, nowMs);
      if (tsMs < s.fromMs || tsMs > s.toMs) {
        s.fromMs = Math.min(s.fromMs, tsMs);
        s.toMs = Math.max(s.toMs, tsMs);
        this.readings = mergeSorted(this.readings, this.mergeGapMs, this.maxSpans, mergeReadingSpans);
        this.hint = 0;
      }
      return;
    }
    this.readings = mergeSorted(
      [...this.readings, { fromMs: tsMs, toMs: tsMs, sensors: new Map([[sensor, tsMs]]), lastAddedMs: nowMs }],
      this.mergeGapMs,
      this.maxSpans,
      mergeReadingSpans,
    );
    this.hint = 0;
  }

  /** Windows `[fromMs, toMs)` to derive as they are. */
  addWindows(fromMs: number, toMs: number): void {
    if (toMs <= fromMs) return;
    this.windows = mergeSorted([...this.windows, { fromMs, toMs }], 0, this.maxSpans, (a, b) => ({ fromMs: Math.min(a.fromMs, b.fromMs), toMs: Math.max(a.toMs, b.toMs) }));
  }

  /** The time spans gathered (late readings' and windows'), left in place. */
  peek(): WindowSpan[] {
    return spansOf({ readings: this.readings, windows: this.windows });
  }

  /** Everything gathered so far, in time order; the collector is empty afterwards. */
  take(): DirtyWork {
    const work = { readings: this.readings, windows: this.windows };
    this.readings = [];
    this.windows = [];
    this.hint = 0;
    return work;
  }

  /** Puts work back (a re-derivation that failed, to be tried again). */
  restore(work: DirtyWork): void {
    for (const r of work.readings) for (const [sensor, latestMs] of r.sensors) {
      this.addReading(sensor, r.fromMs, r.lastAddedMs);
      this.addReading(sensor, latestMs, r.lastAddedMs);
    }
    for (const w of work.windows) this.addWindows(w.fromMs, w.toMs);
  }
}

function mergeReadingSpans(a: ReadingSpan, b: ReadingSpan): ReadingSpan {
  const sensors = new Map(a.sensors);
  for (const [sensor, latestMs] of b.sensors) sensors.set(sensor, Math.max(sensors.get(sensor) ?? -Infinity, latestMs));
  return { fromMs: Math.min(a.fromMs, b.fromMs), toMs: Math.max(a.toMs, b.toMs), sensors, lastAddedMs: Math.max(a.lastAddedMs, b.lastAddedMs) };
}

/** Sorts spans by start and merges those within `gapMs`; then, while more than `max`, the two closest. */
function mergeSorted<T extends { fromMs: number; toMs: number }>(spans: T[], gapMs: number, max: number, merge: (a: T, b: T) => T): T[] {
  const sorted = [...spans].sort((a, b) => a.fromMs - b.fromMs);
  const out: T[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.fromMs <= last.toMs + gapMs) out[out.length - 1] = merge(last, s);
    else out.push(s);
  }
  while (out.length > max) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++) if (out[i + 1].fromMs - out[i].toMs < out[best + 1].fromMs - out[best].toMs) best = i;
    out.splice(best, 2, merge(out[best], out[best + 1]));
  }
  return out;
}
