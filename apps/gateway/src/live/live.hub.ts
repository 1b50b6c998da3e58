import { LiveMessage } from '@park/metrics';
import { WebSocket, WebSocketServer } from 'ws';
import { Clock } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { UpgradeHandler } from '../core/upgrade.router';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';
import { alarmJson } from '../vitals/vitals.presenter';
import { VitalsReadModel } from '../vitals/vitals.read-model';

/** Bytes a client may have unsent before updates to it are dropped. */
export const MAX_CLIENT_BUFFER_BYTES = 512 * 1024;

interface LiveClient {
  ws: WebSocket;
  parkId: string;
  dropped: number;
}

/**
 * WebSocket `/api/live` (contract §7). A slow client never stalls the
 * gateway: when a client's socket has more than MAX_CLIENT_BUFFER_BYTES
 * unsent, further `now` updates to it are dropped (the next one supersedes
 * them anyway) and counted; vitals and alarm messages are dropped only when
 * the buffer is 4× over, and counted too. A snapshot goes out on connect.
 *
 * Messages come from the bus: `vitals` (closed windows, not revisions),
 * `alarm`, and `now`, to which the hub subscribes only while it has clients
 * (nobody derives the state for no one).
 */
export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<LiveClient>();
  private readonly subscriptions: Unsubscribe[] = [];
  private nowSubscription?: Unsubscribe;

  constructor(
    private readonly parkIds: () => string[],
    private readonly vitals: VitalsReadModel,
    private readonly bus: GatewayBus,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    metrics.gauges.gateway_live_clients = { help: 'Connected /api/live WebSocket clients.', read: () => this.clients.size };
  }

  get size(): number {
    return this.clients.size;
  }

  /** Subscribes to the bus. */
  start(): void {
    this.subscriptions.push(
      this.bus.subscribe('vitals', ({ vitals, revision }) => {
        if (!revision) this.broadcast(vitals.parkId, { type: 'vitals', ...vitals });
      }),
      this.bus.subscribe('alarm', ({ alarm }) => this.broadcast(alarm.parkId, { type: 'alarm', alarm: alarmJson(alarm) })),
    );
  }

  /** The first message of a client (contract §7). */
  snapshot(parkId: string): LiveMessage {
    const atMs = this.clock.now();
    const now = this.vitals.now(parkId, atMs) ?? { park: { grid_kw: 0, pv_kw: 0, occupancy: 0, sensors_online: 0, sensors_total: 0 }, buildings: {} };
    return { type: 'snapshot', parkId, t: new Date(atMs).toISOString(), now, vitals: this.vitals.latest(parkId) ?? null, alarms: this.vitals.activeAlarms(parkId).map(alarmJson) };
  }

  /** The upgrade handler for the UpgradeRouter. */
  upgradeHandler(): UpgradeHandler {
    return (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/live') return false;
      const ids = this.parkIds();
      const parkId = url.searchParams.get('park') ?? ids[0];
      if (!ids.includes(parkId)) {
        socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: 'not_found', message: `unknown park "${parkId}"` })}`);
        return true;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, parkId));
      return true;
    };
  }

  private accept(ws: WebSocket, parkId: string): void {
    const client: LiveClient = { ws, parkId, dropped: 0 };
    this.clients.add(client);
    this.nowSubscription ??= this.bus.subscribe('now', ({ parkId: id, atMs, state }) => this.broadcast(id, { type: 'now', parkId: id, t: new Date(atMs).toISOString(), park: state.park, buildings: state.buildings }));
    const gone = () => this.remove(client);
    ws.on('close', gone);
    ws.on('error', gone);
    // Clients only listen; anything they send is ignored.
    ws.on('message', () => undefined);
    ws.send(JSON.stringify(this.snapshot(parkId)));
  }

  private remove(client: LiveClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0 && this.nowSubscription) {
      this.nowSubscription();
      this.nowSubscription = undefined;
    }
  }

  /** Sends a message to every client of its park. Serialised once. */
  broadcast(parkId: string, msg: LiveMessage): void {
    if (this.clients.size === 0) return;
    let text: string | undefined;
    const important = msg.type !== 'now';
    for (const c of this.clients) {
      if (c.parkId !== parkId || c.ws.readyState !== WebSocket.OPEN) continue;
      const limit = important ? MAX_CLIENT_BUFFER_BYTES * 4 : MAX_CLIENT_BUFFER_BYTES;
      if (c.ws.bufferedAmount > limit) {
        c.dropped++;
        this.metrics.liveDroppedMessages++;
        if (c.dropped === 1 || c.dropped % 100 === 0) this.log.warn({ dropped: c.dropped, buffered: c.ws.bufferedAmount }, 'live client is slow; dropping updates to it');
        continue;
      }
      text ??= JSON.stringify(msg);
      c.ws.send(text);
    }
  }

  close(): void {
    for (const u of this.subscriptions.splice(0)) u();
    for (const c of [...this.clients]) {
      c.ws.terminate();
      this.remove(c);
    }
    this.wss.close();
  }
}
