/**
 * Device identity on the embedded broker (contract §8 "Devices"): which
 * client ids a device may use. Pure functions; the broker turns a problem
 * into CONNACK 0x02 "identifier rejected" (MQTT 3.1/3.1.1; 0x85 in MQTT 5,
 * which the embedded broker does not speak).
 */

/** Contract §8: client ids and usernames are at most 128 bytes, for every protocol version. */
export const MAX_CLIENT_ID_BYTES = 128;
export const MAX_USERNAME_BYTES = 128;

/** The identity fields of a CONNECT packet, as sent. */
export interface ConnectIds {
  /** As sent: '' for a zero-length client id (before the broker assigns one). */
  clientId: string;
  clean: boolean;
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1. */
  protocolVersion: number;
}

/**
 * What is wrong with a CONNECT's client id whoever sends it (with or without
 * MQTT_AUTH), or undefined: at most 128 bytes; zero-length only with a
 * clean session [MQTT-3.1.3-8] (the server then assigns a unique id), and
 * never in MQTT 3.1, whose client ids are 1-23 characters (§3.1.3; the
 * contract lifts the 23 to 128 bytes).
 */
export function clientIdProblem(c: ConnectIds): string | undefined {
  const bytes = Buffer.byteLength(c.clientId);
  if (bytes > MAX_CLIENT_ID_BYTES) return `the client id is ${bytes} bytes; at most ${MAX_CLIENT_ID_BYTES} are allowed (contract §8)`;
  if (bytes === 0 && c.protocolVersion === 3) return 'MQTT 3.1 needs a client id (zero-length client ids came with MQTT 3.1.1)';
  if (bytes === 0 && !c.clean) return 'a zero-length client id needs a clean session [MQTT-3.1.3-8]';
  return undefined;
}

/** A username over 128 bytes (contract §8), or undefined. */
export function usernameProblem(username: string | undefined): string | undefined {
  if (username === undefined) return undefined;
  const bytes = Buffer.byteLength(username);
  return bytes > MAX_USERNAME_BYTES ? `the username is ${bytes} bytes; at most ${MAX_USERNAME_BYTES} are allowed (contract §8)` : undefined;
}

/** Contract §8: is this client id `username` itself or `username-...`? (A zero-length id is the server's to assign.) */
export function clientIdFits(clientId: string, username: string): boolean {
  return clientId === '' || clientId === username || (clientId.length > username.length && clientId.startsWith(`${username}-`));
}

/**
 * What keeps an authenticated device from using this client id, or
 * undefined. Besides the contract's prefix rule, an id that also fits a
 * longer username belongs to that device: with devices `b1` and `b1-gw`,
 * `b1-gw-7` is `b1-gw`'s, so that `b1` cannot take over its session (a
 * CONNECT with a connected client's id closes that client, [MQTT-3.1.4-2]).
 * `owner` is the longest known username the id fits (see
 * DeviceAuthenticator.ownerOf).
 */
export function clientIdOwnershipProblem(clientId: string, username: string, owner: string | undefined): string | undefined {
  if (clientId === '') return undefined;
  if (!clientIdFits(clientId, username)) return `device "${username}" must use the client id "${username}" or one starting with "${username}-" (contract §8)`;
  if (owner !== undefined && owner !== username) return `the client id belongs to device "${owner}", whose username it starts with`;
  return undefined;
}
