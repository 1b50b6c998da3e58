#!/usr/bin/env node
// Operator CLI: a project-local InfluxDB without the demo (docs/operations.md).
//   node deploy/influxdb.mjs start|stop|status [--port 8086] [--data-dir .data/influxdb]
import { ensureDebianPackages } from './lib/packages.cjs';
import { ping, startInfluxdb } from './lib/influxdb.cjs';
import { runServiceCli } from './lib/service-cli.cjs';

const code = await runServiceCli(
  {
    name: 'influxdb',
    defaultPort: 8086,
    start: ({ port, dataDir }) => {
      ensureDebianPackages(['influxdb']);
      return startInfluxdb({ port, dataDir, detached: true });
    },
    probe: async (url) => (await ping(url))?.status === 204,
  },
  process.argv.slice(2),
);
process.exit(code);
