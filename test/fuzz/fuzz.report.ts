import { CATEGORIES, FuzzReport } from './fuzz.harness';

/** The report as the console shows it. */
export function printReport(r: FuzzReport, say: (line: string) => void): void {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  say(`seed ${r.seed}, now ${r.nowMs} (replay the whole run with --seed ${r.seed} --now ${r.nowMs})`);
  for (const c of CATEGORIES) say(`  ${c.padEnd(5)} ${String(r.cases[c]).padStart(9)} cases in ${s(r.durationMs[c]).padStart(6)} s  (${Math.round(r.cases[c] / Math.max(0.001, r.durationMs[c] / 1000))}/s)`);
  say(`  total ${String(r.totalCases).padStart(9)} cases in ${s(r.durationMs.total).padStart(6)} s  (${r.casesPerS}/s); ${r.packets} MQTT packets; HTTP statuses ${JSON.stringify(r.httpStatuses)}`);
  say(`  stored: ${Object.entries(r.stored).map(([m, x]) => `${m} ${x.points} points`).join(', ') || 'nothing'}`);
  say(`  gateway up: ${r.gatewayUp}; unhandled rejections in the harness: ${r.harnessUnhandled}; findings: ${r.findings.length}`);
  for (const f of r.findings) say(`  FINDING [${f.category}] ${f.what}${f.replay ? ` (replay: --replay ${f.replay} --now ${r.nowMs})` : ''}${f.input ? `\n      input: ${f.input}` : ''}`);
}
