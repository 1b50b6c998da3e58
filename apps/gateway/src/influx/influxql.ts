/** An InfluxQL string literal: single-quoted, with `\` and `'` escaped. */
export function influxString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
