import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { ConfigError, TlsConfig } from './gateway-config';

/** The PEM contents of TLS_CERT, TLS_KEY and TLS_CA, checked. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

function read(variable: string, file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(`${variable}=${file}: cannot read the file (${err.code ?? err.message}); point ${variable} at a readable PEM file holding ${what}, or unset TLS_CERT and TLS_KEY to serve without TLS`);
  }
}

/**
 * Reads and checks the TLS files (contract §8): each must parse as PEM of
 * its kind and the key must belong to the certificate. Throws ConfigError
 * naming the variable, the file and the fix, so that start-up (or a SIGHUP
 * reload, which then keeps the old files) says what is wrong.
 */
export function readTlsFiles(config: TlsConfig): TlsMaterial {
  const cert = read('TLS_CERT', config.certFile, 'the server certificate (-----BEGIN CERTIFICATE-----)');
  const key = read('TLS_KEY', config.keyFile, 'its private key (-----BEGIN PRIVATE KEY-----)');
  const ca = config.caFile ? read('TLS_CA', config.caFile, 'the CA certificate(s) that sign device certificates') : undefined;
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch (e) {
    throw new ConfigError(`TLS_CERT=${config.certFile}: not a PEM certificate (${(e as Error).message}); it must start with -----BEGIN CERTIFICATE-----`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch (e) {
    throw new ConfigError(`TLS_KEY=${config.keyFile}: not a PEM private key (${(e as Error).message}); it must start with -----BEGIN PRIVATE KEY----- (an encrypted key is not supported: decrypt it with openssl pkey)`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`TLS_KEY=${config.keyFile} is not the private key of TLS_CERT=${config.certFile}; point both at the same certificate's files`);
  }
  if (ca) {
    try {
      new crypto.X509Certificate(ca);
    } catch (e) {
      throw new ConfigError(`TLS_CA=${config.caFile}: not a PEM certificate (${(e as Error).message}); it must hold the CA certificate(s) that sign device certificates`);
    }
  }
  try {
    tls.createSecureContext({ cert, key, ca });
  } catch (e) {
    throw new ConfigError(`TLS_CERT=${config.certFile}, TLS_KEY=${config.keyFile}: OpenSSL refuses them (${(e as Error).message})`);
  }
  return { cert, key, ca };
}

/**
 * Server options of a TLS listener. With a CA, devices may present a client
 * certificate: it is asked for but not required (`rejectUnauthorized:
 * false`), and the broker's authenticate step trusts it only when
 * `authorized` (it chains to TLS_CA); otherwise the device logs in with
 * username and password as without TLS_CA.
 */
export function tlsServerOptions(m: TlsMaterial, { clientCertificates }: { clientCertificates: boolean }): Pick<tls.TlsOptions, 'cert' | 'key' | 'ca' | 'requestCert' | 'rejectUnauthorized' | 'minVersion'> {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca && clientCertificates ? { ca: m.ca, requestCert: true, rejectUnauthorized: false } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * The CN of a client certificate the TLS layer verified against TLS_CA, or
 * undefined (no TLS, no certificate, or one that does not chain to the CA).
 */
export function verifiedClientName(socket: unknown): string | undefined {
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  // A certificate may carry several CNs (an array): ambiguous, so none.
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

/** Anything whose certificate can be swapped without a restart (tls.Server, https.Server). */
export interface SecureContextHolder {
  setSecureContext(options: tls.SecureContextOptions): void;
}
