import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { makeTestPki, TestPki } from '../testing/test-pki';
import { ConfigError, TlsConfig } from './gateway-config';
import { readTlsFiles, tlsServerOptions, verifiedClientName } from './tls-files';

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-tls-'));
  pki = makeTestPki(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = (over: Partial<TlsConfig> = {}): TlsConfig => ({ certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, mqttPort: 8883, ...over });

describe('readTlsFiles (contract §8: TLS by file)', () => {
  it('reads a certificate, its key and a CA', () => {
    const m = readTlsFiles(config());
    expect(m.cert.toString()).toMatch(/BEGIN CERTIFICATE/);
    expect(m.ca).toBeDefined();
  });

  it.each([
    ['a missing certificate', () => ({ certFile: path.join(dir, 'none.crt') }), /TLS_CERT=.*none\.crt: cannot read the file \(ENOENT\); point TLS_CERT at a readable PEM file/],
    ['a missing key', () => ({ keyFile: path.join(dir, 'none.key') }), /TLS_KEY=.*none\.key: cannot read the file/],
    ['a missing CA', () => ({ caFile: path.join(dir, 'none-ca.crt') }), /TLS_CA=.*none-ca\.crt: cannot read the file/],
    ['a key as the certificate', () => ({ certFile: pki.serverKey }), /TLS_CERT=.*server\.key: not a PEM certificate/],
    ['a certificate as the key', () => ({ keyFile: pki.serverCert }), /TLS_KEY=.*server\.crt: not a PEM private key/],
    ['garbage as the CA', () => ({ caFile: pki.serverKey }), /TLS_CA=.*: not a PEM certificate/],
    ['the key of another certificate', () => ({ keyFile: path.join(dir, 'test-ca.key') }), /TLS_KEY=.*test-ca\.key is not the private key of TLS_CERT=/],
  ])('%s stops start-up naming the variable, the file and the fix', (_what, over, message) => {
    expect(() => readTlsFiles(config(over()))).toThrow(ConfigError);
    expect(() => readTlsFiles(config(over()))).toThrow(message);
  });
});

describe('client certificates (contract §8: TLS_CA)', () => {
  /** A TLS server with our options; resolves the name a client connection yields. */
  async function nameOf(client: { cert: string; key: string } | undefined, withCa = true): Promise<string | undefined> {
    const m = readTlsFiles(config(withCa ? {} : { caFile: undefined }));
    const server = tls.createServer(tlsServerOptions(m, { clientCertificates: true }));
    const seen = new Promise<string | undefined>((resolve) => server.once('secureConnection', (s) => resolve(verifiedClientName(s))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(pki.caCert), servername: 'localhost', ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}) });
    socket.on('error', () => undefined);
    try {
      return await seen;
    } finally {
      socket.destroy();
      server.close();
    }
  }

  it('a certificate signed by TLS_CA yields its CN', async () => {
    expect(await nameOf(pki.clientCert('b01-m01'))).toBe('b01-m01');
  });
  it('no certificate, or one from another CA, yields none (the device logs in with a password)', async () => {
    expect(await nameOf(undefined)).toBeUndefined();
    expect(await nameOf(pki.clientCert('b01-m01', { untrusted: true }))).toBeUndefined();
  });
  it('without TLS_CA no certificate is asked for', async () => {
    expect(tlsServerOptions(readTlsFiles(config({ caFile: undefined })), { clientCertificates: true }).requestCert).toBeUndefined();
    expect(await nameOf(pki.clientCert('b01-m01'), false)).toBeUndefined();
  });
});
