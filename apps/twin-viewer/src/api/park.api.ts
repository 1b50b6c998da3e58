/**
 * The gateway's HTTP API as the viewer uses it (contract §7), same origin.
 * Every call returns parsed JSON or throws an `ApiError` that says which URL
 * failed and how, for the on-screen message. Each takes an optional
 * `AbortSignal`, so a viewer that is disposed cancels what is in flight.
 */
import type { Alarm, Kpis, MonthlyReport, ParkVitals, VitalSigns } from '@park/metrics';
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

/** A day-ahead forecast (contract §8): when it was fitted and its steps with the 80 % interval. */
export interface ParkForecast {
  generated: string;
  points: Array<{ t: string; value: number; lo: number; hi: number }>;
}

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

/** Who is signed in (GET/POST /api/session, contract §8). */
export interface SessionInfo {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  parks: string[] | null;
}

/** A 401: no session, or one that ended (expired, token revoked, gateway restarted). */
export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401;
}

async function request<T>(url: string, init: RequestInit, onUnauthorized: (() => void) | undefined): Promise<T> {
  let res: Response;
  try {
    // Same origin: the session cookie goes along by itself.
    res = await fetch(url, { ...init, headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) }, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(url, undefined, `gateway unreachable (${(e as Error).message})`);
  }
  if (res.status === 401) onUnauthorized?.();
  if (res.status === 204) return undefined as T;
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
 * viewer works under whatever path the gateway serves it from. Requests are
 * authenticated by the session cookie (contract §8); a 401 from any of them
 * calls `onUnauthorized`, which the controller answers with the sign-in form.
 */
export class ParkApi {
  /** Called on every 401 answer. */
  onUnauthorized: (() => void) | undefined;

  /** Trades a token for a session cookie (POST /api/session); the token is not kept. */
  signIn(token: string): Promise<SessionInfo> {
    // A bad token is the form's business, not a reason to ask again.
    return request('api/session', { method: 'POST', body: JSON.stringify({ token }) }, undefined);
  }

  /** Who is signed in; 401 (ApiError) when nobody. */
  session(signal?: AbortSignal): Promise<SessionInfo> {
    return request('api/session', { signal }, undefined);
  }

  signOut(): Promise<void> {
    return request('api/session', { method: 'DELETE' }, undefined);
  }

  parks(signal?: AbortSignal): Promise<ParkSummary[]> {
    return this.getJson('api/parks', signal);
  }

  model(parkId: string, signal?: AbortSignal): Promise<ParkModel> {
    return this.getJson(park(parkId), signal);
  }

  /** The latest closed window, normalised to the live stream's `ParkVitals`; null before the first. */
  async vitals(parkId: string, signal?: AbortSignal): Promise<ParkVitals | null> {
    const v = await this.getJson<VitalsAnswer>(`${park(parkId)}/vitals`, signal);
    if (!v?.window || !v.park) return null;
    const startMs = Date.parse(v.window.start);
    const endMs = Date.parse(v.window.end);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) return null;
    return { parkId, window: { startMs, endMs }, park: v.park, buildings: v.buildings ?? {} };
  }

  /** Active alarms. The REST answer adds an ISO `t`; `tsMs` is derived from it when missing. */
  async alarms(parkId: string, signal?: AbortSignal): Promise<Alarm[]> {
    const list = await this.getJson<Array<Alarm & { t?: string }>>(`${park(parkId)}/alarms`, signal);
    return (Array.isArray(list) ? list : []).map((a) => ({ ...a, parkId: a.parkId ?? parkId, tsMs: Number.isFinite(a.tsMs) ? a.tsMs : Date.parse(a.t ?? '') }));
  }

  kpis(parkId: string, signal?: AbortSignal): Promise<ParkKpis> {
    return this.getJson(`${park(parkId)}/kpis?period=day`, signal);
  }

  /**
   * The forecast of `load_kw` or `energy_kwh` from the step holding now
   * (contract §8); no building = park scope. A 409 (too little history)
   * is an ApiError whose message says how much is needed.
   */
  forecast(parkId: string, q: { metric: 'load_kw' | 'energy_kwh'; building?: string; every: '15m' | '1h'; horizon?: string }, signal?: AbortSignal): Promise<ParkForecast> {
    const p = new URLSearchParams({ metric: q.metric, every: q.every, horizon: q.horizon ?? '24h' });
    if (q.building) p.set('building', q.building);
    return this.getJson(`${park(parkId)}/forecast?${p}`, signal);
  }

  /** The monthly report (contract §8) of a park month `YYYY-MM` (park time); the current month when absent. */
  report(parkId: string, month?: string, signal?: AbortSignal): Promise<MonthlyReport> {
    const p = new URLSearchParams({ period: 'month', format: 'json' });
    if (month) p.set('month', month);
    return this.getJson(`${park(parkId)}/report?${p}`, signal);
  }

  /** One metric over [from, to]; no building = park scope. */
  history(parkId: string, q: { metric: string; building?: string; fromMs: number; toMs: number; every: HistoryEvery }, signal?: AbortSignal): Promise<HistoryPoint[]> {
    const p = new URLSearchParams({ metric: q.metric, from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), every: q.every });
    if (q.building) p.set('building', q.building);
    return this.getJson(`${park(parkId)}/history?${p}`, signal);
  }

  private getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
    return request(url, { signal }, this.onUnauthorized);
  }
}
