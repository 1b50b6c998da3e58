/**
 * `npm run sim -- [options]`: the park simulator command (docs/simulator.md).
 * Wiring only: options → park models → one simulator and one MQTT connection
 * per park → the runner → summary. Exit codes: 0 done, 1 broker trouble,
 * 2 bad options or input files.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { ParkSimulator } from '@park/park-sim';
import { MqttPublisher } from './mqtt.publisher';
import { checkScenarioTargets, loadParkModels, readCredentials, SimInputError } from './sim.inputs';
import { parseSimArgs, SIM_USAGE } from './sim.options';
import { formatSummary, SimRunner } from './sim.runner';
import { readStoredState, resumePlan, StoredState } from './stored-state';

async function main(): Promise<number> {
  const nowMs = Date.now();
  const parsed = parseSimArgs(process.argv.slice(2), process.env, nowMs, () => crypto.randomInt(2 ** 32 - 1));
  if (!parsed.ok) {
    process.stderr.write(`sim: ${parsed.error}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(SIM_USAGE);
    return 0;
  }
  const { options, warnings } = parsed;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  warnings.forEach((w) => log(`sim: warning: ${w}`));

  let parks;
  let username = options.username;
  let password = options.password;
  try {
    parks = loadParkModels(options.parkModels);
    checkScenarioTargets(options.scenarios, parks);
    if (options.credentialsFile) {
      const c = readCredentials(options.credentialsFile);
      username ??= c.username;
      password ??= c.password;
    }
  } catch (e) {
    if (e instanceof SimInputError) {
      log(`sim: ${e.message}`);
      return 2;
    }
    throw e;
  }

  const askedStartMs = options.fromMs ?? nowMs;
  // --continue: each park goes on from what InfluxDB holds of it.
  const stored = new Map<string, StoredState | undefined>();
  if (options.resumeFrom) {
    for (const park of parks) {
      try {
        const state = await readStoredState(options.resumeFrom, park.id);
        stored.set(park.id, state);
        log(state
          ? `sim: ${park.id}: continuing the stored readings (newest ${new Date(state.resumeMs).toISOString()}, ${Object.keys(state.registers).length} registers)`
          : `sim: ${park.id}: nothing stored yet in ${options.resumeFrom.url} database ${options.resumeFrom.db}; starting afresh`);
      } catch (e) {
        log(`sim: warning: ${park.id}: cannot read what is stored (${(e as Error).message}); starting afresh`);
      }
    }
  }
  const plans = new Map(parks.map((p) => [p.id, resumePlan(askedStartMs, stored.get(p.id))]));
  const startMs = Math.min(...[...plans.values()].map((p) => p.startMs));
  const endMs = Math.min(options.toMs ?? Infinity, options.durationS !== undefined ? askedStartMs + options.durationS * 1000 : Infinity);
  if (endMs <= startMs) {
    log(`sim: nothing to send: the stored readings reach ${new Date(startMs).toISOString()}, past the end asked for`);
    return 0;
  }
  const publishers: MqttPublisher[] = [];
  try {
    for (const park of parks) {
      publishers.push(
        await MqttPublisher.connect({
          url: options.url,
          clientId: simClientId(username, park.id),
          username,
          password,
          qos: options.qos,
          maxInFlight: options.inFlight,
        }),
      );
    }
  } catch (e) {
    log(`sim: ${(e as Error).message}`);
    await Promise.all(publishers.map((p) => p.close(true)));
    return 1;
  }

  const truthOut = options.truthFile ? fs.createWriteStream(options.truthFile) : undefined;
  const runner = new SimRunner(
    parks.map((park, i) => {
      const plan = plans.get(park.id)!;
      const state = stored.get(park.id);
      const sim = new ParkSimulator(park, {
        seed: options.seed,
        startMs: plan.skipFromMs ?? plan.startMs,
        faults: options.faults,
        lateMs: options.lateMs,
        scenarios: options.scenarios,
        registers: state?.registers,
      });
      // The meters counted on while nothing was sent.
      if (plan.skipFromMs !== undefined) sim.skipUntil(plan.startMs);
      return { sim, sink: publishers[i] };
    }),
    { startMs, endMs, speed: options.speed, batch: options.batch },
    {
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      progress: options.quiet ? undefined : log,
      truth: truthOut ? (windows) => windows.forEach((w) => truthOut.write(JSON.stringify(w) + '\n')) : undefined,
    },
  );

  if (!options.quiet) {
    const until = Number.isFinite(endMs) ? new Date(endMs).toISOString() : 'Ctrl-C';
    log(
      `sim: seed ${options.seed}; parks ${parks.map((p) => p.id).join(', ')}; ${options.url} QoS ${options.qos}; ` +
        `${new Date(startMs).toISOString()} .. ${until}` +
        (options.speed ? ` at ${options.speed}x` : startMs < nowMs ? ' (past first, as fast as the broker acks)' : ' (real time)'),
    );
  }

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log(`sim: ${sig} again, exiting without waiting for acknowledgements`);
      process.exit(130);
    }
    log(`sim: ${sig}, finishing (flushing late readings, awaiting acknowledgements)`);
    runner.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const result = await runner.run();
  const drained = await Promise.all(publishers.map((p) => p.drain(15_000)));
  await Promise.all(publishers.map((p, i) => p.close(!drained[i])));
  if (truthOut) await new Promise<void>((r) => truthOut.end(r));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  process.stdout.write(formatSummary(result, publishers));
  const unacked = publishers.reduce((a, p) => a + p.inFlight + p.failed, 0);
  if (unacked > 0) {
    log(`sim: ${unacked} publish(es) were not acknowledged by ${options.url}`);
    return 1;
  }
  return 0;
}

/**
 * One client id per park's publisher (contract §8: a device's client id is
 * its username or starts with `<username>-`; at most 128 bytes).
 */
function simClientId(username: string | undefined, parkId: string): string {
  const suffix = crypto.randomBytes(4).toString('hex');
  const id = `${username ?? 'sim'}-${parkId}-${suffix}`;
  return Buffer.byteLength(id) <= 128 ? id : `${username}-${suffix}`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sim: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
