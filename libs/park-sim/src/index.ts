export * from './lib/park.simulator';
export type { TruthTotals, TruthWindow } from './lib/ground-truth';
export * from './lib/message-batch';
export { DEFAULT_LATE_MS, NO_FAULTS, parseFaultSpec } from './lib/faults';
export type { FaultRates } from './lib/faults';
export { parseScenarios, SCENARIO_EFFECTS, SCENARIO_KINDS } from './lib/scenarios';
export type { Scenario, ScenarioKind } from './lib/scenarios';
export * from './lib/anomalies';
export { scenarioActive } from './lib/scenarios';
