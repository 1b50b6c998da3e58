import * as http from 'node:http';
import * as net from 'node:net';

/** Handles an HTTP upgrade if it is for its path; returns false otherwise. */
export type UpgradeHandler = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => boolean;

/**
 * One `upgrade` listener on the HTTP server that hands WebSocket upgrades to
 * the feature that owns the path (`/mqtt`: the embedded broker; `/api/live`:
 * the live stream), and refuses the rest. Each feature module adds its own
 * handler when it starts; main.ts only attaches the router to the server.
 */
export class UpgradeRouter {
  private readonly handlers: UpgradeHandler[] = [];

  add(handler: UpgradeHandler): void {
    this.handlers.push(handler);
  }

  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      for (const h of this.handlers) if (h(req, socket, head)) return;
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    });
  }
}
