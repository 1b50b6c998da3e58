import * as http from 'node:http';
import * as net from 'node:net';
import { LiveMessage } from '@park/metrics';
import { WebSocket, WebSocketServer } from 'ws';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { Logger } from '../observability/logger';

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
 */
export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<LiveClient>();

  constructor(
    private readonly parkIds: () => string[],
    private readonly snapshot: (parkId: string) => LiveMessage,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    metrics.gauges.gateway_live_clients = { help: 'Connected /api/live WebSocket clients.', read: () => this.clients.size };
  }

  get size(): number {
    return this.clients.size;
  }

  /** The upgrade handler for the UpgradeRouter. */
  upgradeHandler(): (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => boolean {
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
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    // Clients only listen; anything they send is ignored.
    ws.on('message', () => undefined);
    ws.send(JSON.stringify(this.snapshot(parkId)));
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
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    this.wss.close();
  }
}
