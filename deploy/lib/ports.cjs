// Free TCP ports for services we start ourselves (tests, several demos side by
// side). The port is free when we return it; another process may still take
// it before our service binds, which the callers surface as a start-up error.
'use strict';
const net = require('node:net');

/**
 * A TCP port that nothing listens on right now.
 * @param {string} [host] address to probe (default 127.0.0.1)
 * @returns {Promise<number>}
 */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether something accepts TCP connections on host:port.
 * @param {number} port
 * @param {string} [host]
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
function isListening(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a TCP port can be bound on host right now (for a clear message
 * before starting a service that would otherwise fail with EADDRINUSE).
 * @param {number} port
 * @param {string} [host]
 * @returns {Promise<boolean>}
 */
function canBind(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

module.exports = { freePort, isListening, canBind };
