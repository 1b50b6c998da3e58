import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';

/** The JSON form of an alarm in the API and the live stream: the alarm plus an ISO time. */
export function alarmJson(a: Alarm): Alarm & { t: string } {
  return { ...a, t: new Date(a.tsMs).toISOString() };
}

/** The JSON form of a window's vitals (contract §7 `GET .../vitals`). */
export function vitalsJson(v: ParkVitals | undefined): { window: { start: string; end: string } | null; park: VitalSigns | null; buildings: Record<string, VitalSigns> } {
  if (!v) return { window: null, park: null, buildings: {} };
  return { window: { start: new Date(v.window.startMs).toISOString(), end: new Date(v.window.endMs).toISOString() }, park: v.park, buildings: v.buildings };
}
