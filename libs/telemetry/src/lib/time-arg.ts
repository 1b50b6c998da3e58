const RELATIVE = /^([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a time argument of the commands (`sim`, `recompute`): `now`,
 * relative (`-2h`, `+10m`), epoch ms, or an ISO 8601 date-time. NaN when it
 * is none of them.
 */
export function parseTimeArg(value: string, nowMs: number): number {
  if (value === 'now') return nowMs;
  const rel = RELATIVE.exec(value);
  if (rel) return Math.round(nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[rel[3]]);
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) return Date.parse(value);
  return NaN;
}
