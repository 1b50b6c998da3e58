import { Alarm, ParkVitals, VitalSigns } from '@park/metrics';
import { alarmJson, alarmToLine, vitalsJson, vitalsToLines, windowLabel } from './vitals-points';

const START = Date.parse('2026-11-27T08:00:00.000Z');

const parkSigns: VitalSigns = { energy_kwh: 12.5, pv_kwh: 0, load_kw: 750, peak_kw: 810.25, carbon_kgco2e: 5.25, occupancy: 110, occupancy_rate: 1, online_ratio: 1, status: 'warn' };
const b1: VitalSigns = { energy_kwh: 10, pv_kwh: 2.5, load_kw: 600, peak_kw: 640, renewable_share: 0.2, carbon_kgco2e: 4.2, occupancy: 100, occupancy_rate: 1, co2_ppm_avg: 1100.5, co2_ppm_max: 1300, online_ratio: 1, status: 'warn' };
/** Optional fields absent: no PV, no CO2 reading, no capacity. */
const b2: VitalSigns = { energy_kwh: 2.5, pv_kwh: 0, load_kw: 150, peak_kw: 170.25, carbon_kgco2e: 1.05, occupancy: 10, online_ratio: 1, status: 'ok' };

function parkVitals(overrides: Partial<VitalSigns> = {}): ParkVitals {
  return { parkId: 'tp', window: { startMs: START, endMs: START + 60_000 }, park: { ...parkSigns, ...overrides }, buildings: { b1, b2 } };
}

/** `measurement,tags` and the timestamp of a line: the point's identity in InfluxDB. */
function identity(line: string): string {
  const [seriesKey] = line.split(' ');
  return `${seriesKey} @${line.slice(line.lastIndexOf(' ') + 1)}`;
}

describe('windowLabel (contract §5 `window` tag)', () => {
  it.each([
    [60_000, '1m'],
    [300_000, '5m'],
    [5_000, '5s'],
    [1_500, '1.5s'],
  ])('%i ms → %s', (ms, label) => {
    expect(windowLabel(ms)).toBe(label);
  });
});

describe('vitalsToLines (contract §5 `vitals`)', () => {
  it('writes one park point and one point per building at the window start, tagged park, scope, building (building scope only) and window', () => {
    expect(vitalsToLines(parkVitals(), 60_000)).toEqual([
      `vitals,park=tp,scope=park,window=1m carbon_kgco2e=5.25,energy_kwh=12.5,load_kw=750,occupancy=110,occupancy_rate=1,online_ratio=1,peak_kw=810.25,pv_kwh=0,status="warn" ${START}`,
      `vitals,building=b1,park=tp,scope=building,window=1m carbon_kgco2e=4.2,co2_ppm_avg=1100.5,co2_ppm_max=1300,energy_kwh=10,load_kw=600,occupancy=100,occupancy_rate=1,online_ratio=1,peak_kw=640,pv_kwh=2.5,renewable_share=0.2,status="warn" ${START}`,
      `vitals,building=b2,park=tp,scope=building,window=1m carbon_kgco2e=1.05,energy_kwh=2.5,load_kw=150,occupancy=10,online_ratio=1,peak_kw=170.25,pv_kwh=0,status="ok" ${START}`,
    ]);
  });

  it('writes every numeric vital as a float (no `i` suffix, even for whole numbers) and status as a string', () => {
    const fields = vitalsToLines(parkVitals(), 60_000).flatMap((l) => l.split(' ')[1].split(','));
    for (const f of fields) {
      const [key, value] = f.split('=');
      if (key === 'status') expect(value).toMatch(/^"(ok|warn|critical)"$/);
      else expect(value).toMatch(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/);
    }
  });

  it('leaves absent optional fields out instead of writing placeholders', () => {
    const b2Line = vitalsToLines(parkVitals(), 60_000)[2];
    for (const absent of ['renewable_share', 'occupancy_rate', 'co2_ppm_avg', 'co2_ppm_max']) expect(b2Line).not.toContain(`${absent}=`);
  });

  it('labels a shorter test window in seconds', () => {
    for (const line of vitalsToLines(parkVitals(), 5_000)) expect(line.split(' ')[0]).toMatch(/,window=5s$/);
  });

  it('writing the same window again has the same identity (measurement, tags, time), so InfluxDB overwrites it', () => {
    const first = vitalsToLines(parkVitals(), 60_000);
    const revised = vitalsToLines(parkVitals({ energy_kwh: 13, load_kw: 780, status: 'critical' }), 60_000);
    expect(revised[0]).not.toBe(first[0]);
    expect(revised.map(identity)).toEqual(first.map(identity));
  });
});

describe('alarmToLine (contract §5 `alarms`)', () => {
  const alarm: Alarm = {
    parkId: 'tp', building: 'b1', rule: 'demand', severity: 'critical', state: 'raised',
    value: 612.5, threshold: 500, message: 'load 612.5 kW above contracted 500 kW, "b1"', tsMs: START + 60_000,
  };

  it('tags park, building, rule and severity; value and threshold are floats; state and message strings; time = the transition', () => {
    expect(alarmToLine(alarm)).toBe(
      `alarms,building=b1,park=tp,rule=demand,severity=critical message="load 612.5 kW above contracted 500 kW, \\"b1\\"",state="raised",threshold=500,value=612.5 ${START + 60_000}`,
    );
  });

  it('a clear of the same alarm is a second point of the same series (the state field changes)', () => {
    const cleared = alarmToLine({ ...alarm, state: 'cleared', value: 300, tsMs: START + 180_000 });
    expect(cleared.split(' ')[0]).toBe(alarmToLine(alarm).split(' ')[0]);
    expect(cleared).toContain('state="cleared"');
    expect(cleared.endsWith(` ${START + 180_000}`)).toBe(true);
  });

  it('alarmJson adds the ISO time of the transition', () => {
    expect(alarmJson(alarm)).toEqual({ ...alarm, t: '2026-11-27T08:01:00.000Z' });
  });
});

describe('vitalsJson (contract §7 `GET .../vitals`)', () => {
  it('gives the window as ISO times with the park and building vitals', () => {
    expect(vitalsJson(parkVitals())).toEqual({
      window: { start: '2026-11-27T08:00:00.000Z', end: '2026-11-27T08:01:00.000Z' },
      park: parkSigns,
      buildings: { b1, b2 },
    });
  });

  it('answers a null window before the first window closed', () => {
    expect(vitalsJson(undefined)).toEqual({ window: null, park: null, buildings: {} });
  });
});
