import { Point } from '@influxdata/influxdb-client';
import { KIND_FIELDS, Reading } from './reading';
import { SensorModel } from './park-model';

/** Contract §5: every point is written with millisecond precision. */
export const WRITE_PRECISION = 'ms' as const;

const INT_FIELDS = new Set(['count']);

/**
 * Maps a reading to its InfluxDB point (contract §5). Tags come from the
 * topic and the park model, never from the payload, so that the same reading
 * delivered twice has the same identity (measurement + tags + ts) and ends as
 * one point. `sensor` is the model's entry, absent for unregistered sensors.
 */
export function readingToPoint(r: Reading, sensor?: SensorModel): Point {
  const p = new Point(r.kind).tag('park', r.park).tag('building', r.building).tag('sensor', r.sensor);
  if (r.kind === 'energy') p.tag('source', sensor?.source ?? 'grid');
  if (r.kind === 'occupancy' && sensor?.zone) p.tag('zone', sensor.zone);
  for (const { json, prop } of KIND_FIELDS[r.kind]) {
    const v = r[prop] as number | undefined;
    if (v === undefined) continue;
    if (INT_FIELDS.has(json)) p.intField(json, v);
    else p.floatField(json, v);
  }
  // A number timestamp is written as-is, in the write API's precision (ms).
  return p.timestamp(r.tsMs);
}

/** The line-protocol text of a reading's point (for spooling and tests). */
export function readingToLine(r: Reading, sensor?: SensorModel): string {
  return readingToPoint(r, sensor).toLineProtocol() as string;
}
