#!/usr/bin/env node
// Operator CLI: a project-local Mosquitto broker, e.g. for MQTT_URL
// (docs/operations.md).
//   node deploy/mosquitto.mjs start|stop|status [--port 1883] [--data-dir .data/mosquitto]
import { runServiceCli } from './lib/service-cli.cjs';

process.exit(await runServiceCli('mosquitto', process.argv.slice(2)));
