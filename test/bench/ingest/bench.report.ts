/**
 * The ingest benchmark's printed output: a line per step as it runs, a
 * side-by-side table per load mode, soak and idle summaries.
 */
import type { LoadMode } from './bench.options';
import type { SegmentResult, StepResult } from './ingest.scenarios';

const n = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));

/** Lays rows out in columns: the first left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** "45 % (node-red 40 + mosquitto 5)" when there are several processes. */
function parts(total: number, byProcess: Record<string, number>, unit = ''): string {
  const names = Object.keys(byProcess);
  if (names.length <= 1) return `${n(total)}${unit}`;
  return `${n(total)}${unit} (${names.map((k) => `${k} ${n(byProcess[k])}`).join(' + ')})`;
}

export const STEP_HEADER = ['', 'offered/s', 'sent/s', 'held back', 'lost', 'all in (s)', 'p50 ms', 'p99 ms', 'CPU % (1 core)', 'RSS MB (max)', 'load CPU %', 'result'];
/** Column widths of the step lines, printed one by one as the steps end. */
const STEP_WIDTHS = [36, 9, 8, 9, 8, 10, 7, 7, 34, 34, 10, 0];

/** A row of the step table at fixed widths (first column left-aligned). */
export function stepLine(cells: string[]): string {
  return cells.map((cell, c) => (c === 0 ? cell.padEnd(STEP_WIDTHS[c]) : cell.padStart(STEP_WIDTHS[c]))).join('  ').trimEnd();
}

/** One step as a row of {@link STEP_HEADER}. */
export function stepRow(seg: SegmentResult, step: StepResult): string[] {
  return [
    `${seg.label}, ${modeLabel(seg.mode, seg.connections)}`,
    n(step.rate),
    n(step.sentPerS),
    n(step.heldBack),
    n(step.lost),
    step.drainMs === null ? 'never' : (step.drainMs / 1000).toFixed(1),
    n(step.latencyMs.p50),
    n(step.latencyMs.p99),
    parts(step.usage.cpuTotalPct, step.usage.cpuPct),
    parts(step.usage.rssMaxTotalMb, step.usage.rssMaxMb),
    step.generatorCpuPct.map((x) => n(x)).join('+'),
    step.pass ? 'pass' : `FAIL: ${step.why.join('; ')}`,
  ];
}

export function modeLabel(mode: LoadMode, connections: number): string {
  return mode === 'single' ? '1 connection' : `${n(connections)} devices`;
}

/** The highest passing rate, and the failed steps above it. */
export function sustained(seg: SegmentResult): { best?: StepResult; above: StepResult[] } {
  const passed = seg.steps.filter((s) => s.pass);
  const best = passed.length > 0 ? passed.reduce((a, b) => (b.rate > a.rate ? b : a)) : undefined;
  return { best, above: seg.steps.filter((s) => !s.pass && s.rate > (best?.rate ?? 0)) };
}

function aboveText(above: StepResult[]): string {
  if (above.length === 0) return 'no failing rate in the ladder';
  return above.map((s) => `${n(s.rate)}/s: ${s.why.join(', ')}`).join(' | ');
}

/** Figures of one segment for the comparison (and the JSON). */
export function summary(seg: SegmentResult): Record<string, unknown> {
  const { best, above } = sustained(seg);
  return {
    target: seg.target,
    mode: seg.mode,
    connections: seg.connections,
    auth: seg.auth,
    maxSustainedPerS: best?.rate ?? 0,
    rssMbAtMax: best?.usage.rssMaxTotalMb,
    rssMbAtMaxByProcess: best?.usage.rssMaxMb,
    cpuPctAtMax: best?.usage.cpuTotalPct,
    cpuPctAtMaxByProcess: best?.usage.cpuPct,
    latencyMsAtMax: best?.latencyMs,
    above: above.map((s) => ({ rate: s.rate, sentPerS: s.sentPerS, heldBack: s.heldBack, lost: s.lost, notInDeadline: s.sent - s.persistedInDeadline, why: s.why, rssMb: s.usage.rssMaxTotalMb })),
    error: seg.error,
  };
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '–');

/** The side-by-side table of one mode (one column per target, and gateway/peer when both ran). */
export function comparisonTable(mode: LoadMode, segments: SegmentResult[], describe: string): string {
  const cols = segments.map((seg) => ({ seg, ...sustained(seg) }));
  const both = cols.length === 2;
  const rows: string[][] = [['', ...cols.map((c) => c.seg.label), ...(both ? ['gateway/peer'] : [])]];
  const add = (label: string, cells: string[], r?: string) => rows.push([label, ...cells, ...(both ? [r ?? ''] : [])]);
  const [g, p] = [cols[0]?.best, cols[1]?.best];
  add('max sustained, nothing lost', cols.map((c) => (c.seg.error && !c.best ? 'error' : c.best ? `${n(c.best.rate)}/s` : 'none passed')), ratio(g?.rate, p?.rate));
  add('RSS at that rate (max)', cols.map((c) => (c.best ? parts(c.best.usage.rssMaxTotalMb, c.best.usage.rssMaxMb, ' MB') : '–')), ratio(g?.usage.rssMaxTotalMb, p?.usage.rssMaxTotalMb));
  add('CPU at that rate (% of one core)', cols.map((c) => (c.best ? parts(c.best.usage.cpuTotalPct, c.best.usage.cpuPct, ' %') : '–')), ratio(g?.usage.cpuTotalPct, p?.usage.cpuTotalPct));
  add('latency p50 / p99 at that rate', cols.map((c) => (c.best ? `${n(c.best.latencyMs.p50)} / ${n(c.best.latencyMs.p99)} ms` : '–')), ratio(g?.latencyMs.p99, p?.latencyMs.p99));
  const lines = [`\n== ${modeLabel(mode, segments[0]?.connections ?? 0)}: ${describe} ==`, table(rows)];
  for (const c of cols) lines.push(`  above it, ${c.seg.label}: ${c.seg.error ? `error: ${c.seg.error}` : aboveText(c.above)}`);
  return lines.join('\n');
}

/** Soak summary of one segment. */
export function soakReport(seg: SegmentResult): string {
  const step = seg.steps[0];
  if (!seg.soak || !step) return `${seg.label} soak: ${seg.error ?? 'no samples'}`;
  const s = seg.soak;
  return [
    `\n== soak, ${seg.label}, ${modeLabel(seg.mode, seg.connections)}: ${n(step.rate)}/s for ${(step.seconds / 60).toFixed(1)} min ==`,
    table([
      ['RSS (MB, every 10 s)', 'first', 'last', 'min', 'max', 'growth first→last'],
      ['', n(s.firstMb), n(s.lastMb), n(s.minMb), n(s.maxMb), `${s.growthPct.toFixed(1)} %`],
    ]),
    `  sent ${n(step.sent)} (${n(step.sentPerS)}/s, held back ${n(step.heldBack)}), lost ${n(step.lost)}, latency p50 / p99 ${n(step.latencyMs.p50)} / ${n(step.latencyMs.p99)} ms (${step.latencyMs.n} probes), CPU ${parts(step.usage.cpuTotalPct, step.usage.cpuPct, ' %')}${step.heapSnapshot ? `, heap snapshot ${step.heapSnapshot}` : ''}`,
  ].join('\n');
}

/** Idle-connections summary of one segment. */
export function idleReport(seg: SegmentResult): string {
  const i = seg.idle;
  if (!i) return `${seg.label} idle connections: ${seg.error ?? 'not measured'}`;
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return [
    `\n== idle device connections, ${seg.label}${seg.auth ? ' (authenticated)' : ''} ==`,
    table([
      ['', 'connections', 'connect time', 'RSS before', 'RSS with them', 'per connection', 'RSS after closing', 'CPU idle (% of one core)'],
      [
        seg.label,
        `${n(i.connections)}${i.failed ? ` (+${n(i.failed)} failed)` : ''}`,
        `${(i.connectMs / 1000).toFixed(1)} s`,
        parts(total(i.rssBeforeMb), i.rssBeforeMb, ' MB'),
        parts(total(i.rssAfterMb), i.rssAfterMb, ' MB'),
        `${i.perConnectionKb.toFixed(1)} KB`,
        parts(total(i.rssClosedMb), i.rssClosedMb, ' MB'),
        parts(total(i.cpuIdlePct), i.cpuIdlePct),
      ],
    ]),
    ...(i.heapSnapshots.length > 0 ? [`  heap snapshots: ${i.heapSnapshots.join(', ')} (writing them costs memory: the RSS after the first one is inflated; measure RSS without --heap-snapshot)`] : []),
  ].join('\n');
}
