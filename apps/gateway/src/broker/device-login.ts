import { clientIdFits, clientIdOwnershipProblem, clientIdProblem, ConnectIds, usernameProblem } from '../auth/client-id.rule';
import { DeviceAuthenticator, DeviceIdentity } from '../auth/device-credentials';
import { LoginQueueFullError } from '../auth/login.queue';
import { Clock } from '../core/clock';
import { GatewayMetrics, MqttRefusal } from '../observability/gateway.metrics';
import { Logger } from '../observability/logger';
import { LogThrottle } from '../observability/log.throttle';
import { untrustedOptional, untrustedText } from '../observability/untrusted-text';

/** A CONNECT as the broker saw it. */
export interface ConnectAttempt extends ConnectIds {
  username?: string;
  password?: Buffer | string;
  /** The CN of a client certificate the TLS layer verified against TLS_CA (contract §8). */
  certificateName?: string;
  /** The peer's address, for the log. */
  remote: string;
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 that a login can end with. */
export type RefusalCode = 2 | 3 | 4;

export type LoginOutcome =
  | { ok: true; identity?: DeviceIdentity }
  | { ok: false; returnCode: RefusalCode; reason: MqttRefusal; why: string };

/** Refused logins written to the log per period; the rest are counted and summed up. */
const LOGGED_REFUSALS = 20;
const LOG_PERIOD_MS = 10_000;

/**
 * Who may connect to the embedded broker (contract §8 "Devices"; issue 8
 * findings 5 and 6), decided per CONNECT, cheapest checks first:
 *
 * 1. the client id as sent: at most 128 bytes, zero-length only with a clean
 *    session → 0x02 identifier rejected;
 * 2. a username over 128 bytes → 0x04;
 * 3. with MQTT_AUTH=off nothing else (no username, no identity);
 * 4. a client id that does not fit the claimed username → 0x02, before any
 *    password is checked;
 * 5. a client certificate verified against TLS_CA whose CN is a known
 *    device (and the username, if one is given), else the password (the
 *    verified-credential cache, else scrypt through the bounded queue; a full
 *    queue → 0x03 server unavailable at once);
 * 6. the id must belong to the device: not a longer username's
 *    (`b1` may not use `b1-gw-7` when `b1-gw` exists) → 0x02.
 *
 * Refusals are logged with the peer's strings cut short and escaped, at most
 * 20 lines per 10 s, the rest counted and summed up.
 */
export class DeviceLogin {
  private readonly throttle: LogThrottle;

  constructor(
    private readonly authenticator: DeviceAuthenticator | undefined,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    clock: Clock,
  ) {
    this.throttle = new LogThrottle(LOGGED_REFUSALS, LOG_PERIOD_MS, clock, (n) =>
      this.log.warn({ suppressed: n, periodS: LOG_PERIOD_MS / 1000 }, `${n} more refused MQTT connections were not logged one by one (see gateway_mqtt_connections_refused_total)`),
    );
  }

  async admit(a: ConnectAttempt): Promise<LoginOutcome> {
    const idProblem = clientIdProblem(a);
    if (idProblem) return this.refuse(a, 2, 'identifier', idProblem);
    const nameProblem = usernameProblem(a.username);
    if (nameProblem) return this.refuse(a, 4, 'credentials', nameProblem);
    const auth = this.authenticator;
    if (!auth) return { ok: true };
    if (a.username && !clientIdFits(a.clientId, a.username)) {
      return this.refuse(a, 2, 'identifier', clientIdOwnershipProblem(a.clientId, a.username, undefined) as string);
    }
    // A certificate logs its device in without a password; a username other
    // than the CN is judged by its password, as without a certificate.
    const cn = a.certificateName;
    let identity: DeviceIdentity | undefined = cn !== undefined && (a.username === undefined || a.username === cn) ? auth.authenticateCertificate(cn) : undefined;
    try {
      identity ??= await auth.authenticate(a.username, a.password);
    } catch (e) {
      const why = e instanceof LoginQueueFullError ? `too many logins pending: ${e.message}` : `authentication failed: ${(e as Error).message}`;
      return this.refuse(a, 3, 'busy', why);
    }
    if (!identity) return this.refuse(a, 4, 'credentials', 'bad username or password');
    const ownership = clientIdOwnershipProblem(a.clientId, identity.username, auth.ownerOf(a.clientId));
    if (ownership) return this.refuse(a, 2, 'identifier', ownership);
    return { ok: true, identity };
  }

  /** Reports a connection closed at accept by the per-address rate limit. */
  rateLimited(remote: string): void {
    this.metrics.mqttRefused.rate_limited++;
    if (this.throttle.take()) this.log.warn({ remote: untrustedText(remote, 64) }, 'MQTT connection closed: too many connection attempts from this address (MQTT_CONNECT_RATE)');
  }

  private refuse(a: ConnectAttempt, returnCode: RefusalCode, reason: MqttRefusal, detail: string): LoginOutcome {
    // The detail may quote the claimed username: it goes to the log and to aedes' error events.
    const why = untrustedText(detail, 400);
    this.metrics.mqttRefused[reason]++;
    if (this.throttle.take()) {
      this.log.warn(
        { remote: untrustedText(a.remote, 64), clientId: untrustedText(a.clientId), username: untrustedOptional(a.username), returnCode },
        `MQTT connection refused: ${why}`,
      );
    }
    return { ok: false, returnCode, reason, why };
  }
}
