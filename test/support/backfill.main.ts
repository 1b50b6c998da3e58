/**
 * `npm run backfill -- --days 14 [--seed 1] [--vitals-only] [--scenario <kind>:<building>[@from-to]] [--park <id>]`
 *
 * Writes `--days` of simulated history, up to now, straight to InfluxDB:
 * the simulator's readings (unless `--vitals-only`) and the one-minute
 * vital signs the gateway's engine derives from them (docs/trends.md).
 * Configured like the gateway: INFLUX_URL, INFLUX_DB (or the 2.x
 * variables), PARK_MODEL. Run it before starting the gateway (or stop the
 * gateway's simulator): the gateway then finds the history and forecasts
 * from it at its first refit.
 */
import { parseScenarios } from '@park/park-sim';
import { ConfigError, loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { InfluxHttpClient } from '../../apps/gateway/src/influx/influx-http.client';
import { loadParks } from '../../apps/gateway/src/park/park-model.loader';
import { backfillInflux } from './backfill';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n\n`);
  process.stderr.write('usage: npm run backfill -- --days <n> [--seed <n>] [--vitals-only] [--scenario <kind>:<building>[@from-to]]... [--park <id>]\n  configured by INFLUX_URL, INFLUX_DB and PARK_MODEL like the gateway\n');
  process.exit(msg ? 2 : 0);
}

async function main(argv: string[]): Promise<void> {
  let days = 14;
  let seed = 1;
  let readings = true;
  let park: string | undefined;
  const scenarioSpecs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--days') days = Number(val());
    else if (a === '--seed') seed = Number(val());
    else if (a === '--vitals-only') readings = false;
    else if (a === '--scenario') scenarioSpecs.push(val());
    else if (a === '--park') park = val();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  if (!(days > 0 && days <= 366)) usage('--days: expected a number of days in (0, 366]');
  if (!Number.isInteger(seed)) usage('--seed: expected an integer');
  const scenarios = parseScenarios(scenarioSpecs);
  if (!scenarios.ok) usage(scenarios.error);
  const config = loadConfig();
  const parks = loadParks(config.parkModelFiles).filter((p) => !park || p.model.id === park);
  if (parks.length === 0) usage(`no park "${park}" in ${config.parkModelFiles.join(', ')}`);
  const influx = new InfluxHttpClient(config.influx);
  const api = await influx.detect(config.influx.api);
  if (api === 'v1' && config.influx.createDb) await influx.createDatabase();
  const toMs = Math.floor(Date.now() / 60_000) * 60_000;
  const fromMs = toMs - Math.round(days * 86_400_000);
  const write = async (lines: string[]) => {
    const outcome = await influx.write(lines.join('\n'));
    if (!outcome.ok) throw new Error(`writing to InfluxDB failed: ${outcome.message}`);
  };
  for (const p of parks) {
    const started = Date.now();
    let lastReport = 0;
    const res = await backfillInflux(p, {
      seed,
      fromMs,
      toMs,
      scenarios: scenarios.scenarios,
      readings,
      write,
      onProgress: (t, n) => {
        if (Date.now() - lastReport < 2000) return;
        lastReport = Date.now();
        process.stderr.write(`${p.model.id}: ${new Date(t).toISOString()} (${n} readings)\n`);
      },
    });
    process.stdout.write(JSON.stringify({ park: p.model.id, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), seed, readings: readings ? res.readings : 0, vitals_points: res.vitalsPoints, seconds: Math.round((Date.now() - started) / 100) / 10 }) + '\n');
  }
  influx.close();
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`backfill failed: ${e instanceof ConfigError ? e.message : (e as Error).stack}\n`);
  process.exit(1);
});
