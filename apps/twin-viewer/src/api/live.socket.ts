/**
 * The live stream (WebSocket /api/live?park=<id>, contract §7) with
 * automatic reconnect. Reconnects with backoff when the socket closes or
 * errors, and also when it stays open but silent for longer than
 * `silenceMs` (a half-open TCP connection after a gateway crash looks like
 * an open socket that never speaks again).
 */
import type { LiveMessage } from '@park/metrics';
import type { ConnectionState } from '../lib/live.reducer';
import { backoffDelayMs } from '../lib/reconnect.backoff';

/** What the owner of the socket hears. */
export interface LiveSocketListener {
  message(msg: LiveMessage): void;
  connection(state: ConnectionState): void;
  /**
   * The socket closed without ever opening: the gateway refused the upgrade
   * (401 without a valid session, 403, 404, 503) or was unreachable. A
   * browser does not tell which; the owner can ask (GET /api/session).
   */
  refused?(): void;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private stopped = false;
  /** Main-thread time of the last message: JSON parse plus the listener (the benchmark reads it). */
  lastHandleMs = 0;

  constructor(
    private readonly parkId: string,
    private readonly listener: LiveSocketListener,
    private readonly silenceMs = 10_000,
  ) {}

  /** ws(s)://same-host/.../api/live?park=id, resolved against the page so a sub-path mount works. */
  url(): string {
    const u = new URL(`api/live?park=${encodeURIComponent(this.parkId)}`, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  start(): void {
    this.stopped = false;
    this.connect();
    this.silenceTimer = setInterval(() => {
      if (this.ws?.readyState === WebSocket.OPEN && performance.now() - this.lastMessageAt > this.silenceMs) this.ws.close(4000, 'silent');
    }, 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.silenceTimer);
    this.ws?.close(1000, 'viewer closed');
    this.ws = null;
  }

  private connect(): void {
    this.listener.connection('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastMessageAt = performance.now();
      this.listener.connection('open');
    };
    ws.onmessage = (ev) => {
      const t0 = performance.now();
      this.lastMessageAt = t0;
      // A good message proves the link: the next drop starts the backoff over.
      this.attempt = 0;
      let msg: LiveMessage;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as LiveMessage;
      } catch {
        return; // not JSON: ignore it, the next `now` will do
      }
      if (msg && typeof msg === 'object' && typeof msg.type === 'string') this.listener.message(msg);
      this.lastHandleMs = performance.now() - t0;
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.listener.connection('closed');
      if (!opened) this.listener.refused?.();
      this.scheduleRetry();
    };
    // An error is always followed by close; the close handler retries.
    ws.onerror = () => undefined;
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), backoffDelayMs(this.attempt++));
  }
}
