import { Module } from '@nestjs/common';
import { PARK_OWNERSHIP, SOLE_OWNER } from './park-ownership';

/**
 * Scale-out (contract §8): which parks this gateway derives. Alone, it
 * derives every park it serves.
 */
@Module({
  providers: [{ provide: PARK_OWNERSHIP, useValue: SOLE_OWNER }],
  exports: [PARK_OWNERSHIP],
})
export class ClusterModule {}
