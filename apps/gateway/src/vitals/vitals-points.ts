import { Point } from '@influxdata/influxdb-client';
import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';

/** The `window` tag of contract §5: `1m` for the contract's one-minute windows. */
export function windowLabel(windowMs: number): string {
  if (windowMs % 60_000 === 0) return `${windowMs / 60_000}m`;
  return `${windowMs / 1000}s`;
}

function vitalsPoint(parkId: string, scope: 'park' | 'building', building: string | undefined, v: VitalSigns, startMs: number, window: string): Point {
  const p = new Point('vitals').tag('park', parkId).tag('scope', scope);
  if (building) p.tag('building', building);
  p.tag('window', window);
  for (const [k, value] of Object.entries(v)) {
    if (value === undefined) continue;
    // Every numeric vital is a float field, always, so that InfluxDB never
    // sees one field with two types (occupancy is a sum of counts, but a
    // float keeps the schema uniform across windows).
    if (k === 'status') p.stringField(k, value as string);
    else p.floatField(k, value as number);
  }
  return p.timestamp(startMs);
}

/**
 * The `vitals` points of one closed window (contract §5): one per building
 * and one for the park, at the window start, tagged with the scope. Writing
 * the same window again overwrites it (same measurement, tags and time).
 */
export function vitalsToLines(v: ParkVitals, windowMs: number): string[] {
  const window = windowLabel(windowMs);
  const lines = [vitalsPoint(v.parkId, 'park', undefined, v.park, v.window.startMs, window).toLineProtocol() as string];
  for (const [id, b] of Object.entries(v.buildings)) lines.push(vitalsPoint(v.parkId, 'building', id, b, v.window.startMs, window).toLineProtocol() as string);
  return lines;
}

/** The `alarms` point of one transition (contract §5). */
export function alarmToLine(a: Alarm): string {
  return new Point('alarms')
    .tag('park', a.parkId)
    .tag('building', a.building)
    .tag('rule', a.rule)
    .tag('severity', a.severity)
    .floatField('value', a.value)
    .floatField('threshold', a.threshold)
    .stringField('state', a.state)
    .stringField('message', a.message)
    .timestamp(a.tsMs)
    .toLineProtocol() as string;
}

/** The JSON form of an alarm in the API and the live stream: the alarm plus an ISO time. */
export function alarmJson(a: Alarm): Alarm & { t: string } {
  return { ...a, t: new Date(a.tsMs).toISOString() };
}

/** The JSON form of a window's vitals (contract §7 `GET .../vitals`). */
export function vitalsJson(v: ParkVitals | undefined): { window: { start: string; end: string } | null; park: VitalSigns | null; buildings: Record<string, VitalSigns> } {
  if (!v) return { window: null, park: null, buildings: {} };
  return { window: { start: new Date(v.window.startMs).toISOString(), end: new Date(v.window.endMs).toISOString() }, park: v.park, buildings: v.buildings };
}
