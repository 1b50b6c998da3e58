import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** PEM files of a throw-away PKI, made for one test run. */
export interface TestPki {
  dir: string;
  /** The CA that signs the server and the trusted client certificates (TLS_CA). */
  caCert: string;
  /** Server certificate for localhost, 127.0.0.1 and 127.0.0.2 (TLS_CERT), and its key (TLS_KEY). */
  serverCert: string;
  serverKey: string;
  /** Makes a client certificate with this CN, signed by the CA (or by a CA nobody trusts). */
  clientCert(commonName: string, options?: { untrusted?: boolean }): { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKeyAndCsr(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
}

/**
 * A self-signed CA, a server certificate and client certificates, made with
 * the `openssl` command (Node has no X.509 generator; Debian ships openssl).
 * EC P-256 keys: quick to make. Valid for two days.
 */
export function makeTestPki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const ca = (name: string) => openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  ca('test-ca');
  ca('other-ca');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  newKeyAndCsr(dir, 'server', 'localhost');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.crt', '-CAkey', 'test-ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  let n = 0;
  return {
    dir,
    caCert: path.join(dir, 'test-ca.crt'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
    clientCert(commonName, { untrusted = false } = {}) {
      const name = `client-${++n}`;
      const signer = untrusted ? 'other-ca' : 'test-ca';
      newKeyAndCsr(dir, name, commonName);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', 'client.ext']);
      return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
    },
  };
}
