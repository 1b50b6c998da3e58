import { SENSOR_KINDS, SensorAddress, SensorKind } from './reading';

/** Identifier rule of contract §2 for park, building and sensor. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The telemetry topic prefix; everything under it must parse. */
export const TOPIC_ROOT = 'park';

export type TopicResult = { ok: true; address: SensorAddress } | { ok: false; detail: string };

/**
 * Parses `park/{park}/{building}/{kind}/{sensor}` (contract §2).
 * Never throws: a topic that does not match yields `ok: false` with why
 * (the caller rejects it as `bad_topic`).
 */
export function parseTopic(topic: string): TopicResult {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== TOPIC_ROOT) {
    return { ok: false, detail: 'topic must be park/{park}/{building}/{kind}/{sensor}' };
  }
  const [, park, building, kind, sensor] = parts;
  for (const [name, value] of [
    ['park', park],
    ['building', building],
    ['sensor', sensor],
  ] as const) {
    if (!ID_PATTERN.test(value)) {
      return { ok: false, detail: `${name} "${value.slice(0, 70)}" must match ${ID_PATTERN.source}` };
    }
  }
  if (!(SENSOR_KINDS as readonly string[]).includes(kind)) {
    return { ok: false, detail: `kind "${kind.slice(0, 70)}" must be one of ${SENSOR_KINDS.join(', ')}` };
  }
  return { ok: true, address: { park, building, kind: kind as SensorKind, sensor } };
}

/** The topic a sensor publishes on. */
export function sensorTopic(a: SensorAddress): string {
  return `${TOPIC_ROOT}/${a.park}/${a.building}/${a.kind}/${a.sensor}`;
}
