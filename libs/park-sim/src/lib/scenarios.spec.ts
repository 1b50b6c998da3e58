import { parseScenarios, scenarioActive } from './scenarios';

describe('parseScenarios', () => {
  it('reads repeated and comma-separated items, with optional windows and parks', () => {
    const r = parseScenarios(['overload:b01', 'co2:b03@60-600,crowding:demo/b02@300-', 'silent:b05@-120']);
    expect(r).toEqual({
      ok: true,
      scenarios: [
        { kind: 'overload', building: 'b01', fromS: 0, toS: Infinity },
        { kind: 'co2', building: 'b03', fromS: 60, toS: 600 },
        { kind: 'crowding', park: 'demo', building: 'b02', fromS: 300, toS: Infinity },
        { kind: 'silent', building: 'b05', fromS: 0, toS: 120 },
      ],
    });
  });

  it.each([
    ['overload', /must be <kind>:<building>/],
    ['flood:b01', /unknown kind "flood"/],
    ['co2:B01', /must be a building id or park\/building/],
    ['co2:a/b/c', /must be a building id/],
    ['co2:b01@60', /must be @<from>-<to>/],
    ['co2:b01@-', /must be @<from>-<to>/],
    ['co2:b01@600-60', /end 60 s must be after the start 600 s/],
  ])('rejects %s', (spec, message) => {
    const r = parseScenarios([spec]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('scenarioActive', () => {
  const start = 1_764_201_600_000;
  const r = parseScenarios(['co2:b03@60-600', 'silent:other/b05']);
  const scenarios = r.ok ? r.scenarios : [];

  it('holds on [from, to) seconds after the start, for the named building only', () => {
    expect(scenarioActive(scenarios, 'co2', 'demo', 'b03', start, start + 59_999)).toBe(false);
    expect(scenarioActive(scenarios, 'co2', 'demo', 'b03', start, start + 60_000)).toBe(true);
    expect(scenarioActive(scenarios, 'co2', 'demo', 'b03', start, start + 599_999)).toBe(true);
    expect(scenarioActive(scenarios, 'co2', 'demo', 'b03', start, start + 600_000)).toBe(false);
    expect(scenarioActive(scenarios, 'co2', 'demo', 'b04', start, start + 100_000)).toBe(false);
    expect(scenarioActive(scenarios, 'overload', 'demo', 'b03', start, start + 100_000)).toBe(false);
  });

  it('restricts a park-qualified scenario to that park', () => {
    expect(scenarioActive(scenarios, 'silent', 'other', 'b05', start, start)).toBe(true);
    expect(scenarioActive(scenarios, 'silent', 'demo', 'b05', start, start)).toBe(false);
  });
});
