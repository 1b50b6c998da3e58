/** Injection tokens of what CoreModule provides to every feature. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const CLOCK = Symbol('CLOCK');
export const BUS = Symbol('BUS');
export const UPGRADE_ROUTER = Symbol('UPGRADE_ROUTER');
/** The checked TLS files (TlsMaterial), or null without TLS (contract §8). */
export const TLS = Symbol('TLS');
