/**
 * Which parks this gateway derives (contract §8, scale-out): the pull side
 * of the cluster feature, read by the vitals derivation on each tick and by
 * the health route. One gateway alone derives every park it serves.
 */
export interface ParkOwnership {
  /** Whether this gateway derives the park's vitals and alarms now. */
  owns(parkId: string): boolean;
  /**
   * Whether other gateways may have derived the park until just now (several
   * gateways share the parks): a new owner then waits for their readings to
   * be in InfluxDB before it reads its context.
   */
  readonly shared: boolean;
  /** What `/api/health` shows of the ownership (undefined: nothing to show, one gateway alone). */
  status(): OwnershipStatus | undefined;
}

/** The cluster as one gateway sees it. */
export interface OwnershipStatus {
  /** This gateway's member id. */
  member: string;
  /** Parks this gateway derives now. */
  owned: string[];
  /** Every park's lease as seen here: its owner (member id) and lease epoch; owner null while free. */
  leases: Array<{ park: string; owner: string | null; epoch: number }>;
  /** Gateways seen alive, with the parks they serve. */
  members: Array<{ id: string; http?: string; parks: number }>;
}

/** One gateway alone: it derives every park. */
export const SOLE_OWNER: ParkOwnership = { owns: () => true, shared: false, status: () => undefined };

/** Injection token of the {@link ParkOwnership}. */
export const PARK_OWNERSHIP = Symbol('PARK_OWNERSHIP');
