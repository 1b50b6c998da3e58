/**
 * The gateway's HTTP API as the viewer uses it (contract §7), same origin.
 * Every call returns parsed JSON or throws an `ApiError` that says which URL
 * failed and how, for the on-screen message. Each takes an optional
 * `AbortSignal`, so a viewer that is disposed cancels what is in flight.
 */
import type { Alarm, Kpis, ParkVitals, VitalSigns } from '@park/metrics';
import type { ParkModel } from '@park/telemetry';
import type { HistoryPoint } from '../lib/history.chart';

/** A park as GET /api/parks lists it. */
export interface ParkSummary {
  id: string;
  name: string;
  buildings: number;
  sensors: number;
}

/** Today's key figures (GET /api/parks/{park}/kpis?period=day): libs/metrics' `Kpis` and the period they cover. */
export type ParkKpis = Kpis & { period: string; from: string; to: string };

/** History resolutions of contract §7. */
export type HistoryEvery = '1m' | '15m' | '1h' | '1d';

/** A failed API call: the URL and what went wrong. */
export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`${url}: ${detail}`);
  }
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal });
  } catch (e) {
    throw new ApiError(url, undefined, `gateway unreachable (${(e as Error).message})`);
  }
  if (!res.ok) {
    let detail = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { message?: unknown; error?: unknown };
      const m = body.message ?? body.error;
      if (m) detail += `: ${typeof m === 'string' ? m : JSON.stringify(m)}`;
    } catch {
      // A non-JSON error body: the status says enough.
    }
    throw new ApiError(url, res.status, detail);
  }
  return (await res.json()) as T;
}

const park = (id: string) => `api/parks/${encodeURIComponent(id)}`;

/** The REST shape of the latest window: ISO times, or nulls before the first window closes. */
interface VitalsAnswer {
  window: { start: string; end: string } | null;
  park: VitalSigns | null;
  buildings: Record<string, VitalSigns> | null;
}

/**
 * The viewer's client of the gateway. URLs are relative (`api/...`) so the
 * viewer works under whatever path the gateway serves it from.
 */
export class ParkApi {
  parks(signal?: AbortSignal): Promise<ParkSummary[]> {
    return getJson('api/parks', signal);
  }

  model(parkId: string, signal?: AbortSignal): Promise<ParkModel> {
    return getJson(park(parkId), signal);
  }

  /** The latest closed window, normalised to the live stream's `ParkVitals`; null before the first. */
  async vitals(parkId: string, signal?: AbortSignal): Promise<ParkVitals | null> {
    const v = await getJson<VitalsAnswer>(`${park(parkId)}/vitals`, signal);
    if (!v?.window || !v.park) return null;
    const startMs = Date.parse(v.window.start);
    const endMs = Date.parse(v.window.end);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) return null;
    return { parkId, window: { startMs, endMs }, park: v.park, buildings: v.buildings ?? {} };
  }

  /** Active alarms. The REST answer adds an ISO `t`; `tsMs` is derived from it when missing. */
  async alarms(parkId: string, signal?: AbortSignal): Promise<Alarm[]> {
    const list = await getJson<Array<Alarm & { t?: string }>>(`${park(parkId)}/alarms`, signal);
    return (Array.isArray(list) ? list : []).map((a) => ({ ...a, parkId: a.parkId ?? parkId, tsMs: Number.isFinite(a.tsMs) ? a.tsMs : Date.parse(a.t ?? '') }));
  }

  kpis(parkId: string, signal?: AbortSignal): Promise<ParkKpis> {
    return getJson(`${park(parkId)}/kpis?period=day`, signal);
  }

  /** One metric over [from, to]; no building = park scope. */
  history(parkId: string, q: { metric: string; building?: string; fromMs: number; toMs: number; every: HistoryEvery }, signal?: AbortSignal): Promise<HistoryPoint[]> {
    const p = new URLSearchParams({ metric: q.metric, from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), every: q.every });
    if (q.building) p.set('building', q.building);
    return getJson(`${park(parkId)}/history?${p}`, signal);
  }
}
