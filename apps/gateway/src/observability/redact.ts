/**
 * Secrets out of what the gateway says (contract §8: no password, token or
 * credentials inside a URL ever appears in an answer or a log line; issue 8
 * finding 4).
 */

/** What a hidden secret is replaced with. */
export const REDACTED = '***';

/**
 * A URL with the password of its user info hidden: `mqtt://gw:s3cret@host`
 * → `mqtt://gw:***@host`. Works on text that is not a valid URL too (an
 * error message quoting a bad `MQTT_URL` must not leak it either), and on
 * several URLs inside one text. A user name alone is kept: brokers and
 * InfluxDB show it in their own logs.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s:]*):([^/?#@\s]*)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
}

/**
 * Log paths pino censors wherever they appear (request headers of a logged
 * request or upgrade, and fields named after secrets), so that a future
 * `log.info({ req })` cannot leak a token or a session cookie.
 */
export const LOG_REDACT_PATHS: string[] = [
  'authorization',
  'cookie',
  'password',
  'token',
  'sessionId',
  '*.authorization',
  '*.cookie',
  '*["set-cookie"]',
  '*.password',
  '*.token',
  '*.sessionId',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];
