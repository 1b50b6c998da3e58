/**
 * The park's vital signs (contract §6) and the live-stream messages
 * (contract §7). Keys of `VitalSigns` are the contract's field names because
 * they are the wire and storage format (InfluxDB `vitals` fields, API JSON).
 */

export type Severity = 'warn' | 'critical';
export type VitalStatus = 'ok' | Severity;
/** The rules of contract §6, decided on each closed window by the vitals engine. */
export type VitalsAlarmRule = 'demand' | 'co2' | 'crowding' | 'offline';
/** The rules of contract §8 (trends), decided by the trends feature from forecasts, readings and night loads. */
export type TrendAlarmRule = 'demand_forecast' | 'stuck_meter' | 'baseload';
export type AlarmRule = VitalsAlarmRule | TrendAlarmRule;

/** Vital signs of one scope (a building or the park) over one window. */
export interface VitalSigns {
  energy_kwh: number;
  pv_kwh: number;
  load_kw: number;
  peak_kw: number;
  /** Absent when energy_kwh and pv_kwh are both 0. */
  renewable_share?: number;
  carbon_kgco2e: number;
  occupancy: number;
  /** Absent when capacity is 0. */
  occupancy_rate?: number;
  /** Absent when the window has no co2_ppm reading. */
  co2_ppm_avg?: number;
  co2_ppm_max?: number;
  /** Absent when the scope has no sensors in the model. */
  online_ratio?: number;
  status: VitalStatus;
}

/** A tumbling event-time window, epoch ms, [startMs, endMs). */
export interface Window {
  startMs: number;
  endMs: number;
}

/** The vital signs of every scope of a park for one closed window. */
export interface ParkVitals {
  parkId: string;
  window: Window;
  park: VitalSigns;
  buildings: Record<string, VitalSigns>;
}

/** An alarm transition (contract §6) or an active alarm. */
export interface Alarm {
  parkId: string;
  building: string;
  rule: AlarmRule;
  severity: Severity;
  state: 'raised' | 'cleared';
  /** The value that triggered (or cleared) it, e.g. load_kw. */
  value: number;
  threshold: number;
  message: string;
  /** Epoch ms of the transition (the end of the window that decided it). */
  tsMs: number;
  /**
   * Contract §8: decided when the window was derived again because readings
   * arrived for it after it closed (or the gateway caught up a gap), not when
   * it closed live. Absent for live transitions.
   */
  late?: boolean;
}

/** Instantaneous state of one scope (contract §7, `now` message). */
export interface NowState {
  /** Sum of the latest power_kw of the grid meters, kW. */
  grid_kw: number;
  /** Sum of the latest power_kw of the PV meters, kW. */
  pv_kw: number;
  /** Sum of the latest count of the occupancy sensors (silent ones count 0). */
  occupancy: number;
  /** Latest co2_ppm: the mean of the latest reading of each CO2 sensor; absent if none. */
  co2_ppm?: number;
  sensors_online: number;
  sensors_total: number;
  /**
   * Sensors whose latest reading is stamped ahead of the gateway clock
   * (contract §8: a device clock running fast); absent when none.
   */
  sensors_skewed?: number;
  /** Epoch ms of the newest reading behind these values. */
  latest_ts_ms?: number;
}

/** Messages of WebSocket `/api/live` (contract §7). */
export type LiveMessage =
  | {
      type: 'snapshot';
      parkId: string;
      t: string;
      now: { park: NowState; buildings: Record<string, NowState> };
      vitals: ParkVitals | null;
      alarms: Alarm[];
    }
  | { type: 'now'; parkId: string; t: string; park: NowState; buildings: Record<string, NowState> }
  | ({ type: 'vitals' } & ParkVitals)
  | { type: 'alarm'; alarm: Alarm };
