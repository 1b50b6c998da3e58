import * as http from 'node:http';
import * as net from 'node:net';

/** Handles an HTTP upgrade if it is for its path; returns false otherwise. */
export type UpgradeHandler = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => boolean;

/**
 * Who a WebSocket path is for (contract §8, "Listeners"): `device` paths
 * (`/mqtt`) belong on MQTT_HOST, `operator` paths (`/api/live`) on
 * HTTP_HOST. When the two hosts are the same, one server carries both.
 */
export type Audience = 'device' | 'operator';

/**
 * One `upgrade` listener on the HTTP server that hands WebSocket upgrades to
 * the feature that owns the path (`/mqtt`: the embedded broker; `/api/live`:
 * the live stream), and refuses the rest. Each feature module adds its own
 * handler when it starts; main.ts only attaches the router to the server.
 */
export class UpgradeRouter {
  private readonly handlers: Array<{ handler: UpgradeHandler; audience: Audience }> = [];

  add(handler: UpgradeHandler, audience: Audience = 'operator'): void {
    this.handlers.push({ handler, audience });
  }

  /** Serves the paths of these audiences on `server`; any other upgrade is a 404. */
  attach(server: http.Server, audiences: readonly Audience[] = ['device', 'operator']): void {
    const mine = () => this.handlers.filter((h) => audiences.includes(h.audience));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      // A socket error after the upgrade was handed on is the handler's; before, ours.
      socket.on('error', () => socket.destroy());
      for (const h of mine()) if (h.handler(req, socket, head)) return;
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    });
  }
}
