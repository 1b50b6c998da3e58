/**
 * The test harness against the real InfluxDB (Debian's 1.6): the shared
 * server of global-setup.ts takes line protocol with precision ms (contract
 * section 5) and answers InfluxQL; a private server keeps its data across
 * restart(), which the outage tests rely on.
 */
import { influxQuery, influxWrite, rowsOf, sharedInfluxUrl, startInflux, uniqueDb, waitFor, type InfluxdbServer } from '../support/services';
import { influxdb } from '../support/deploy';

jest.setTimeout(60_000);

const TS = Date.UTC(2025, 10, 27, 8, 30, 0, 123);

describe('shared InfluxDB of the test run', () => {
  it('answers /ping as InfluxDB 1.x', async () => {
    const pong = await influxdb.ping(sharedInfluxUrl());
    expect(pong?.status).toBe(204);
    expect(pong?.version).toMatch(/^1\./);
  });

  it('stores a line written with precision ms and returns it through InfluxQL', async () => {
    const url = sharedInfluxUrl();
    const db = await uniqueDb('harness');
    await influxWrite(url, db, `energy,park=demo,building=b01,sensor=m01,source=grid power_kw=412.5,energy_kwh=1203344.25 ${TS}`);

    const rows = rowsOf(await influxQuery(url, db, 'SELECT power_kw, energy_kwh, sensor FROM energy'));
    expect(rows).toEqual([{ time: TS, power_kw: 412.5, energy_kwh: 1203344.25, sensor: 'm01' }]);

    const iso = rowsOf(await influxQuery(url, db, 'SELECT power_kw FROM energy', { epoch: null }));
    expect(iso).toEqual([{ time: '2025-11-27T08:30:00.123Z', power_kw: 412.5 }]);
  });

  it('gives each uniqueDb its own database', async () => {
    const url = sharedInfluxUrl();
    const [a, b] = [await uniqueDb('iso'), await uniqueDb('iso')];
    expect(a).not.toBe(b);
    await influxWrite(url, a, `occupancy,park=demo,building=b01,sensor=o01 count=7i ${TS}`);
    expect(await influxQuery(url, b, 'SELECT * FROM occupancy')).toEqual([]);
    const names = (await influxQuery(url, undefined, 'SHOW DATABASES')).flatMap((s) => s.values.map((v) => v[0]));
    expect(names).toEqual(expect.arrayContaining([a, b]));
  });

  it('reports a rejected write with the server message', async () => {
    const db = await uniqueDb('bad');
    await expect(influxWrite(sharedInfluxUrl(), db, 'energy power_kw=')).rejects.toThrow(/answered 400/);
  });
});

describe('private InfluxDB', () => {
  let server: InfluxdbServer & { dispose(): Promise<void> };

  beforeAll(async () => {
    server = await startInflux();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('keeps its data across stop and restart on the same port', async () => {
    await influxdb.createDatabase(server.url, 'park');
    await influxWrite(server.url, 'park', [
      `carbon,park=demo,building=b02,sensor=c01 co2_ppm=640 ${TS}`,
      `carbon,park=demo,building=b02,sensor=c01 co2_ppm=655 ${TS + 60_000}`,
    ]);
    const firstPid = server.pid;

    await server.stop();
    expect(await influxdb.ping(server.url)).toBeUndefined();

    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    const rows = await waitFor(
      async () => {
        const found = rowsOf(await influxQuery(server.url, 'park', 'SELECT co2_ppm FROM carbon'));
        return found.length === 2 && found;
      },
      { what: 'both carbon points after the restart' },
    );
    expect(rows).toEqual([
      { time: TS, co2_ppm: 640 },
      { time: TS + 60_000, co2_ppm: 655 },
    ]);
  });
});

describe('waitFor', () => {
  it('names what it waited for, with the last error, on timeout', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { what: 'the impossible', timeoutMs: 200, intervalMs: 50 },
      ),
    ).rejects.toThrow(/waiting for the impossible; last error: not yet/);
  });
});
