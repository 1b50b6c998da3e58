import { Duplex } from 'node:stream';
import { LiveMessage } from '@park/metrics';
import { WebSocket, WebSocketServer } from 'ws';
import { inScope, Operator } from '../auth/api-tokens';
import { OperatorAuth } from '../auth/operator.auth';
import { wwwAuthenticate } from '../auth/operator.guard';
import { originAllowed } from '../auth/origin.check';
import { Clock, TimerHandle } from '../core/clock';
import { Unsubscribe } from '../core/event.bus';
import { GatewayBus } from '../core/gateway.events';
import { UpgradeHandler } from '../core/upgrade.router';
import { GatewayMetrics } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { alarmJson } from '../vitals/vitals.presenter';
import { VitalsReadModel } from '../vitals/vitals.read-model';

/** Bytes a client may have unsent before updates to it are dropped. */
export const MAX_CLIENT_BUFFER_BYTES = 512 * 1024;
/** A ping goes to every client this often; one that has not answered the previous ping is cut off. */
export const LIVE_PING_INTERVAL_MS = 30_000;

interface LiveClient {
  ws: WebSocket;
  parkId: string;
  operator: Operator;
  dropped: number;
  /** Answered the last ping (or has just connected). */
  alive: boolean;
}

/** Limits of the live stream (issue 8 item 9). */
export interface LiveOptions {
  /** Clients at most; the next upgrade is refused with 503 (LIVE_MAX_CLIENTS). */
  maxClients: number;
  pingIntervalMs?: number;
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade with an HTTP error, before any WebSocket exists. */
function refuse(socket: Duplex, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${extra}connection: close\r\n\r\n${text}`);
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
 *
 * Who may connect (contract §8): a browser's `Origin` must be the gateway's
 * own or in ALLOWED_ORIGINS (else 403), the request must carry a token or
 * session cookie (else 401), the park must be in the token's scope (else
 * the unknown-park 404), and there must be room (LIVE_MAX_CLIENTS, else
 * 503); all refused before the upgrade. Every 30 s each client is pinged; one
 * that did not answer the last ping, or whose token was revoked since, is
 * disconnected.
 */
export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<LiveClient>();
  private readonly subscriptions: Unsubscribe[] = [];
  private nowSubscription?: Unsubscribe;
  private pingTimer?: TimerHandle;

  constructor(
    private readonly parkIds: () => string[],
    private readonly vitals: VitalsReadModel,
    private readonly bus: GatewayBus,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly auth: OperatorAuth,
    private readonly options: LiveOptions,
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
    this.pingTimer = this.clock.setInterval(() => this.ping(), this.options.pingIntervalMs ?? LIVE_PING_INTERVAL_MS);
  }

  /** Cuts off clients that did not answer the last ping or whose token was revoked; pings the rest. */
  ping(): void {
    for (const c of [...this.clients]) {
      if (!this.auth.stillValid(c.operator)) {
        this.log.info({ operator: c.operator.name }, 'live client closed: its token was revoked');
        c.ws.close(1008, 'token revoked');
        this.remove(c);
      } else if (!c.alive) {
        this.log.info({ operator: c.operator.name }, 'live client closed: it did not answer a ping');
        c.ws.terminate();
        this.remove(c);
      } else {
        c.alive = false;
        c.ws.ping();
      }
    }
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
      if (!originAllowed(req, this.auth.tls, this.auth.config.allowedOrigins)) {
        this.log.warn({ origin: String(req.headers.origin).slice(0, 200) }, 'live stream refused: foreign Origin');
        refuse(socket, 403, { error: 'forbidden', message: 'this origin may not open the live stream; add it to ALLOWED_ORIGINS if it is yours' });
        return true;
      }
      const { operator, presented } = this.auth.authenticate(req);
      if (!operator) {
        refuse(socket, 401, { error: 'unauthorized', message: 'a token is needed: Authorization: Bearer <token>, or the session cookie of POST /api/session' }, { 'www-authenticate': wwwAuthenticate(presented) });
        return true;
      }
      const ids = this.parkIds().filter((id) => inScope(operator, id));
      const parkId = url.searchParams.get('park') ?? ids[0] ?? '';
      // Out of scope looks exactly like unknown (contract §8).
      if (!ids.includes(parkId)) {
        refuse(socket, 404, { error: 'not_found', message: `unknown park "${parkId}"` });
        return true;
      }
      if (this.clients.size >= this.options.maxClients) {
        this.metrics.liveRefusedClients++;
        refuse(socket, 503, { error: 'unavailable', message: `the live stream has its maximum of ${this.options.maxClients} clients (LIVE_MAX_CLIENTS); try again later` }, { 'retry-after': '30' });
        return true;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, parkId, operator));
      return true;
    };
  }

  private accept(ws: WebSocket, parkId: string, operator: Operator): void {
    const client: LiveClient = { ws, parkId, operator, dropped: 0, alive: true };
    ws.on('pong', () => (client.alive = true));
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
    if (this.pingTimer !== undefined) this.clock.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const u of this.subscriptions.splice(0)) u();
    for (const c of [...this.clients]) {
      c.ws.terminate();
      this.remove(c);
    }
    this.wss.close();
  }
}
