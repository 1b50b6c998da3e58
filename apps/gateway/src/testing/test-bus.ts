import { EventBus } from '../core/event.bus';
import { GatewayBus, GatewayEvents } from '../core/gateway.events';

/** A real bus for specs whose subscriber errors fail the test instead of being logged. */
export function testBus(): GatewayBus {
  return new EventBus<GatewayEvents>((type, err) => {
    throw new Error(`bus subscriber of "${String(type)}" failed: ${(err as Error)?.stack ?? String(err)}`);
  });
}
