#!/usr/bin/env node
// Operator CLI: a project-local Mosquitto broker, e.g. for MQTT_URL
// (docs/operations.md).
//   node deploy/mosquitto.mjs start|stop|status [--port 1883] [--data-dir .data/mosquitto]
import { ensureDebianPackages } from './lib/packages.cjs';
import { startMosquitto } from './lib/mosquitto.cjs';
import { isListening } from './lib/ports.cjs';
import { runServiceCli } from './lib/service-cli.cjs';

const code = await runServiceCli(
  {
    name: 'mosquitto',
    defaultPort: 1883,
    start: ({ port, dataDir }) => {
      ensureDebianPackages(['mosquitto']);
      return startMosquitto({ port, dataDir, detached: true });
    },
    probe: (url) => {
      const { hostname, port } = new URL(url);
      return isListening(Number(port), hostname);
    },
  },
  process.argv.slice(2),
);
process.exit(code);
