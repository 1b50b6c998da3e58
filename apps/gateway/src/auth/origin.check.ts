import * as http from 'node:http';

/**
 * The `Origin` check of a browser WebSocket upgrade (contract §8): the page
 * that opens `/api/live` must come from the gateway itself (same scheme,
 * host and port as the request's `Host`), or from one of ALLOWED_ORIGINS.
 * Without it any web page an operator visits could open the live stream
 * with the operator's cookie (cross-site WebSocket hijacking; issue 8
 * finding 3). A request without `Origin` is not from a browser page (or
 * from one that sends none, which browsers do not for WebSockets) and is
 * judged by its credentials alone, as Jupyter and Grafana do.
 *
 * @returns true when the upgrade may proceed.
 */
export function originAllowed(req: http.IncomingMessage, tls: boolean, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.includes(o.origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  let own: URL;
  try {
    own = new URL(`${tls ? 'https' : 'http'}://${host}`);
  } catch {
    return false;
  }
  return o.origin === own.origin;
}
