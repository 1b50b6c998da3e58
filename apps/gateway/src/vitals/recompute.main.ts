/**
 * `npm run recompute -- --from <time> --to <time> [--park <id>] [--dry-run]`
 *
 * Recomputes the vital signs of a time range from the raw readings stored in
 * InfluxDB and overwrites the `vitals` points (same measurement, tags and
 * time), e.g. after late readings or a gap longer than the live revision
 * horizon. Alarms are not rewritten: they are facts of the moment they were
 * raised. Configured by the gateway's environment (INFLUX_*, PARK_MODEL,
 * VITALS_WINDOW_MS). Times: ISO 8601, epoch ms, or relative like -2h, -30m,
 * -7d, now.
 */
import { parseTimeArg } from '@park/telemetry';
import { ConfigError, loadConfig } from '../config/gateway-config';
import { loadParks } from '../park/park-model.loader';
import { InfluxHttpClient } from '../influx/influx-http.client';
import { recomputeRange } from './vitals-recompute';

const WRITE_BATCH = 5000;

function parseTime(raw: string, nowMs: number): number {
  const ms = parseTimeArg(raw, nowMs);
  if (!Number.isFinite(ms)) throw new ConfigError(`"${raw}" is not a time: use ISO 8601, epoch ms, now, or -<n>s|m|h|d`);
  return ms;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n\n`);
  process.stderr.write('usage: npm run recompute -- --from <time> --to <time> [--park <id>] [--dry-run]\n  times: ISO 8601, epoch ms, now, or relative like -2h\n');
  process.exit(msg ? 2 : 0);
}

async function main(argv: string[]): Promise<void> {
  const opts: { from?: string; to?: string; park?: string; dryRun: boolean } = { dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--from') opts.from = val();
    else if (a === '--to') opts.to = val();
    else if (a === '--park') opts.park = val();
    else if (a === '--dry-run') opts.dryRun = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  if (!opts.from) usage('--from is required');
  const config = loadConfig();
  const nowMs = Date.now();
  const fromMs = parseTime(opts.from, nowMs);
  const toMs = parseTime(opts.to ?? 'now', nowMs);
  if (fromMs >= toMs) usage('--from must be before --to');
  const parks = loadParks(config.parkModelFiles).filter((p) => !opts.park || p.model.id === opts.park);
  if (parks.length === 0) usage(`no park "${opts.park}" in ${config.parkModelFiles.join(', ')}`);
  const influx = new InfluxHttpClient(config.influx);
  await influx.detect(config.influx.api);
  const windowMs = config.vitals.windowMs;
  const write = async (lines: string[]) => {
    if (opts.dryRun) return;
    for (let i = 0; i < lines.length; i += WRITE_BATCH) {
      const outcome = await influx.write(lines.slice(i, i + WRITE_BATCH).join('\n'));
      if (!outcome.ok) throw new Error(`writing vitals to InfluxDB failed: ${outcome.message}`);
    }
  };
  for (const park of parks) {
    const res = await recomputeRange(influx, park, { fromMs, toMs }, windowMs, write, (c) =>
      process.stderr.write(`${park.model.id}: ${new Date(c.fromMs).toISOString()} .. ${new Date(c.toMs).toISOString()}: ${c.windows} windows from ${c.readings} readings\n`),
    );
    process.stdout.write(JSON.stringify({ park: park.model.id, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), windows: res.windows, readings: res.readings, written: !opts.dryRun }) + '\n');
  }
  influx.close();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`recompute failed: ${e instanceof ConfigError ? e.message : (e as Error).stack}\n`);
    process.exit(1);
  });
}
