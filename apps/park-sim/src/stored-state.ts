/**
 * What InfluxDB already holds of a park (`npm run sim -- --continue`): the
 * newest reading, and each register's last value. A simulation started
 * again continues from there: its meters count on from their stored values
 * (a register never goes backwards, so no "reset" worth the whole register),
 * and nothing is sent for a period that already has readings (issue 11:
 * restarting the demo must not corrupt its history).
 */

/** Where the readings are: the gateway's InfluxDB (contract §5), read with InfluxQL through `/query`. */
export interface InfluxSource {
  url: string;
  db: string;
  /** InfluxDB 2.x/3.x: a token (the v1-compatible `/query` takes it as `Token`). */
  token?: string;
}

/** A park's stored state. */
export interface StoredState {
  /** Time of the park's newest stored reading, epoch ms. */
  resumeMs: number;
  /** Per `building/sensor`: a register's last stored value and its time. */
  registers: Record<string, { value: number; atMs: number }>;
}

type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

interface Series {
  tags?: Record<string, string>;
  values: unknown[][];
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function query(src: InfluxSource, influxql: string, fetchFn: Fetch): Promise<Series[]> {
  const url = `${src.url.replace(/\/+$/, '')}/query?db=${encodeURIComponent(src.db)}&epoch=ms&q=${encodeURIComponent(influxql)}`;
  const res = await fetchFn(url, { headers: src.token ? { authorization: `Token ${src.token}` } : {}, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`InfluxDB ${src.url} answered ${res.status}: ${body.slice(0, 200)}`);
  const doc = JSON.parse(body) as { results?: Array<{ series?: Series[]; error?: string }>; error?: string };
  const error = doc.error ?? doc.results?.find((r) => r.error)?.error;
  if (error) throw new Error(`InfluxDB ${src.url}: ${error}`);
  return doc.results?.flatMap((r) => r.series ?? []) ?? [];
}

/**
 * Reads a park's stored state; undefined when InfluxDB holds no reading of
 * it (a first run). Throws with the server's answer when it cannot be read.
 */
export async function readStoredState(src: InfluxSource, parkId: string, fetchFn: Fetch = fetch): Promise<StoredState | undefined> {
  const park = `"park" = ${quote(parkId)}`;
  const registers: StoredState['registers'] = {};
  let resumeMs = -Infinity;
  const take = (series: Series[], register: boolean) => {
    for (const s of series) {
      const [time, value] = s.values[0] ?? [];
      if (typeof time !== 'number' || typeof value !== 'number') continue;
      resumeMs = Math.max(resumeMs, time);
      if (register) registers[`${s.tags?.building ?? ''}/${s.tags?.sensor ?? ''}`] = { value, atMs: time };
    }
  };
  take(await query(src, `SELECT last("energy_kwh") FROM "energy" WHERE ${park} GROUP BY "building", "sensor"`, fetchFn), true);
  take(await query(src, `SELECT last("emission_kgco2e") FROM "carbon" WHERE ${park} GROUP BY "building", "sensor"`, fetchFn), true);
  take(await query(src, `SELECT last("power_kw") FROM "energy" WHERE ${park} GROUP BY "building", "sensor"`, fetchFn), false);
  take(await query(src, `SELECT last("co2_ppm") FROM "carbon" WHERE ${park} GROUP BY "building", "sensor"`, fetchFn), false);
  take(await query(src, `SELECT last("count") FROM "occupancy" WHERE ${park} GROUP BY "building", "sensor"`, fetchFn), false);
  return resumeMs === -Infinity ? undefined : { resumeMs, registers };
}

/**
 * Where a park's simulation starts when it continues a stored series: at
 * the newest stored reading if that is later than the asked start (nothing
 * is sent again for a period that has readings), else at the asked start,
 * the meters having counted on from their stored values meanwhile
 * (`skipFromMs`: where that counting starts).
 */
export function resumePlan(askedStartMs: number, state: StoredState | undefined): { startMs: number; skipFromMs?: number } {
  if (!state) return { startMs: askedStartMs };
  if (state.resumeMs >= askedStartMs) return { startMs: state.resumeMs };
  return { startMs: askedStartMs, skipFromMs: state.resumeMs };
}
