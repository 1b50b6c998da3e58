/** Injection tokens of the gateway's components (injected explicitly by token, see main.ts). */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const PARKS = Symbol('PARKS');
export const BUS = Symbol('BUS');
export const REJECTIONS = Symbol('REJECTIONS');
export const INFLUX = Symbol('INFLUX');
export const INGEST = Symbol('INGEST');
