#!/usr/bin/env node
// Operator CLI: a project-local InfluxDB without the demo (docs/operations.md).
//   node deploy/influxdb.mjs start|stop|status [--port 8086] [--data-dir .data/influxdb]
import { runServiceCli } from './lib/service-cli.cjs';

process.exit(await runServiceCli('influxdb', process.argv.slice(2)));
