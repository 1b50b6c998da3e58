/**
 * Device faults the simulator injects, at given probabilities per reading.
 * What each one does to the stream, and how the gateway must react (contract
 * §3), is documented in docs/simulator.md; in short:
 *
 * | fault | applies to | effect |
 * |---|---|---|
 * | dropout | every reading | not sent; registers keep counting |
 * | spike | energy readings | `power_kw` 8-25 × contractedKw: absurd but within contract bounds, so stored |
 * | reset | register readings (energy, emission) | the register restarts from 0 |
 * | late | every reading | sent `lateMs` later with its original `ts` |
 * | duplicate | every reading | the same payload sent twice |
 * | malformed | every reading | replaced by a payload the gateway must reject (`bad_json` or `bad_field`) |
 * | glitch | register readings (energy, emission) | the register value of that one reading is absurd (a misread, a bit flip, up to 1.7e308); the register itself goes on: the gateway counts the two steps around it 0 (contract §8) |
 */
import { unitHash } from './prng';

export const FAULT_KINDS = ['dropout', 'spike', 'reset', 'late', 'duplicate', 'malformed', 'glitch'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Probability per reading of each fault, 0..1. */
export type FaultRates = Record<FaultKind, number>;

export const NO_FAULTS: FaultRates = { dropout: 0, spike: 0, reset: 0, late: 0, duplicate: 0, malformed: 0, glitch: 0 };

/** Default delay of a `late` reading, ms: beyond one 1-minute window. */
export const DEFAULT_LATE_MS = 90_000;

/**
 * Parses `dropout=0.01,spike=0.001,...` into rates. Unnamed faults are 0.
 * Returns an error naming the bad item rather than throwing.
 */
export function parseFaultSpec(spec: string): { ok: true; rates: FaultRates } | { ok: false; error: string } {
  const rates: FaultRates = { ...NO_FAULTS };
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(.+)$/.exec(item);
    if (!m) return { ok: false, error: `--faults: "${item}" must be <fault>=<probability>, e.g. dropout=0.01` };
    const [, name, value] = m;
    if (!(FAULT_KINDS as readonly string[]).includes(name)) {
      return { ok: false, error: `--faults: unknown fault "${name}"; use ${FAULT_KINDS.join(', ')}` };
    }
    const p = Number(value);
    if (!Number.isFinite(p) || p < 0 || p > 1) {
      return { ok: false, error: `--faults: ${name}=${value} must be a probability between 0 and 1` };
    }
    rates[name as FaultKind] = p;
  }
  return { ok: true, rates };
}

/** The faults that hit one reading. */
export type FaultDraw = Record<FaultKind, boolean>;

// One salt per fault kind so the draws are independent of each other.
const SALTS: Record<FaultKind, number> = { dropout: 0xd0, spike: 0x5b, reset: 0x7e, late: 0x1a, duplicate: 0xd2, malformed: 0xba, glitch: 0x9f };

/**
 * Decides the faults of the reading of `sensorKey` at `tMs`. Keyed hashing (not
 * a shared stream) keeps the physical readings identical whatever faults are
 * asked for, and the faults identical however the run is stepped. Faults that
 * cannot apply to the reading (`spike` without power, `reset` without a
 * register) are never drawn.
 */
export function drawFaults(
  rates: FaultRates,
  seed: number,
  sensorKey: number,
  tMs: number,
  applies: { power: boolean; register: boolean },
): FaultDraw {
  const hit = (k: FaultKind) => rates[k] > 0 && unitHash(seed, sensorKey, tMs, SALTS[k]) < rates[k];
  return {
    dropout: hit('dropout'),
    spike: applies.power && hit('spike'),
    reset: applies.register && hit('reset'),
    late: hit('late'),
    duplicate: hit('duplicate'),
    malformed: hit('malformed'),
    glitch: applies.register && hit('glitch'),
  };
}

/**
 * The register value a `glitch` reading carries instead of the true one:
 * valid JSON numbers a real meter has been seen to send (a register read
 * 1000× too large, 10⁹ kWh too high, the largest double: issue 8's
 * `1.7e308`). `u` in [0, 1) picks one. Any of them implies a rate far beyond
 * what the building can draw (contract §8).
 */
export function glitchRegisterValue(register: number, u: number): number {
  switch (Math.floor(u * 3)) {
    case 0:
      return Math.round(register * 1000 * 1000) / 1000 + 1e6;
    case 1:
      return Math.round((register + 1e9) * 1000) / 1000;
    default:
      return 1.7e308;
  }
}

/** `power_kw` of a spike: 8-25 × contracted, capped inside the contract's ±1e6 bound. */
export function spikePowerKw(contractedKw: number, u: number): number {
  return Math.min(999_999, Math.round(contractedKw * (8 + 17 * u) * 1000) / 1000);
}

/** A payload a gateway must reject, and the reason it must give (contract §3). */
export interface MalformedPayload {
  payload: string;
  expect: 'bad_json' | 'bad_field';
}

/**
 * Spoils a valid reading object the ways real devices do: a truncated
 * message, a line-protocol string instead of JSON, a number sent as a string,
 * a nested object, an out-of-range value. `u` in [0, 1) picks the variant.
 */
export function malformedPayload(reading: Record<string, number>, u: number): MalformedPayload {
  const fields = Object.keys(reading).filter((k) => k !== 'ts');
  const field = fields[0];
  const value = reading[field];
  const good = JSON.stringify(reading);
  switch (Math.floor(u * 5)) {
    case 0:
      return { payload: good.slice(0, Math.max(1, Math.floor(good.length / 2))), expect: 'bad_json' };
    case 1:
      return { payload: `${field}=${value} ts=${reading.ts}`, expect: 'bad_json' };
    case 2:
      return { payload: JSON.stringify({ ...reading, [field]: String(value) }), expect: 'bad_field' };
    case 3:
      return { payload: JSON.stringify({ ...reading, [field]: { value } }), expect: 'bad_field' };
    default:
      return { payload: JSON.stringify({ ...reading, [field]: OUT_OF_RANGE[field] ?? -1 }), expect: 'bad_field' };
  }
}

// Values outside contract §3's valid ranges, per field.
const OUT_OF_RANGE: Record<string, number> = {
  power_kw: 5e6,
  energy_kwh: -1,
  co2_ppm: 99_999,
  emission_kgco2e: -1,
  count: 2.5,
};
