import { BadRequestException, NotFoundException } from '@nestjs/common';
import { ParkIndex } from '@park/telemetry';
import { ParkRegistry } from '../park/park.registry';

/** 404 with a JSON error (contract §7). */
export function unknownPark(id: string): NotFoundException {
  return new NotFoundException({ error: 'not_found', message: `unknown park "${id}"` });
}

/** 400 naming the parameter (contract §7). */
export function badParam(parameter: string, message: string): BadRequestException {
  return new BadRequestException({ error: 'bad_request', parameter, message: `${parameter}: ${message}` });
}

export function parkOr404(parks: ParkRegistry, id: string): ParkIndex {
  const p = parks.get(id);
  if (!p) throw unknownPark(id);
  return p;
}

/** Parses an optional positive integer query parameter. */
export function intParam(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw badParam(name, `expected an integer in ${min}..${max}, got "${raw}"`);
  return v;
}

/** Does `table` have `key` as its own property? `key in table` also finds `constructor`, `__proto__`, `toString` (issue 8, item 9). */
export function ownKey<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/**
 * An optional query parameter as one string. Express turns `?a=1&a=2` into an
 * array and `?a[b]=1` into an object: both are a 400 naming the parameter,
 * never a 500 further down.
 */
export function stringParam(name: string, raw: unknown): string | undefined {
  if (raw === undefined || typeof raw === 'string') return raw;
  throw badParam(name, 'expected one value');
}
