// The services we run for real (docs/operations.md) come from Debian packages.
// We check for their programs and, where allowed, install what is missing, so
// `npm start` and `npm test` work on a fresh Debian/Ubuntu machine.
//
// CLI: node deploy/lib/packages.cjs influxdb mosquitto chromium
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Program each package must provide; absolute paths are checked as they are. */
const PROGRAMS = {
  influxdb: 'influxd',
  mosquitto: 'mosquitto',
  chromium: '/usr/bin/chromium',
  // The TLS tests make their certificates with it (Node has no X.509 generator).
  openssl: 'openssl',
};

let aptUpdated = false;

/**
 * Where a program is installed, or undefined. Looks in PATH and in the sbin
 * folders, which are not in a normal user's PATH although Debian's mosquitto
 * lives in /usr/sbin.
 * @param {string} program a name or an absolute path
 * @returns {string | undefined}
 */
function findProgram(program) {
  if (path.isAbsolute(program)) return isExecutable(program) ? program : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The program path of an installed package, or a thrown error that says how
 * to install it.
 * @param {'influxdb' | 'mosquitto' | 'chromium' | 'openssl'} pkg
 * @returns {string}
 */
function programOf(pkg) {
  const program = PROGRAMS[pkg];
  if (!program) throw new Error(`unknown package "${pkg}" (known: ${Object.keys(PROGRAMS).join(', ')})`);
  const found = findProgram(program);
  if (!found) throw new Error(missingMessage([pkg]));
  return found;
}

/**
 * Makes sure the Debian packages are installed. Missing ones are installed
 * with apt-get when we run as root or ALLOW_APT=1 (with sudo when not root);
 * ALLOW_APT=0 forbids installing even as root. Otherwise fails with the
 * command to run.
 * @param {Array<'influxdb' | 'mosquitto' | 'chromium' | 'openssl'>} packages
 * @param {{log?: (line: string) => void}} [options]
 * @returns {Record<string, string>} package name -> program path
 */
function ensureDebianPackages(packages, { log = (line) => console.log(line) } = {}) {
  for (const pkg of packages) {
    if (!PROGRAMS[pkg]) throw new Error(`unknown package "${pkg}" (known: ${Object.keys(PROGRAMS).join(', ')})`);
  }
  const missing = packages.filter((pkg) => !findProgram(PROGRAMS[pkg]));
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    const allowed = process.env.ALLOW_APT === '1' || (isRoot && process.env.ALLOW_APT !== '0');
    if (!allowed) throw new Error(missingMessage(missing));
    const sudo = isRoot ? [] : ['sudo'];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      run([...sudo, 'apt-get', 'update'], env, log);
      aptUpdated = true;
    }
    run([...sudo, 'apt-get', 'install', '-y', '--no-install-recommends', ...missing], env, log);
    const still = missing.filter((pkg) => !findProgram(PROGRAMS[pkg]));
    if (still.length > 0) {
      throw new Error(`apt-get installed ${still.join(', ')} but ${still.map((p) => PROGRAMS[p]).join(', ')} is still missing`);
    }
  }
  return Object.fromEntries(packages.map((pkg) => [pkg, findProgram(PROGRAMS[pkg])]));
}

function missingMessage(missing) {
  const programs = missing.map((pkg) => `${pkg} (${PROGRAMS[pkg]})`).join(', ');
  return (
    `missing Debian package(s): ${programs}. Install with:\n` +
    `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}\n` +
    `or rerun as root or with ALLOW_APT=1 to let this script do it.`
  );
}

function run(argv, env, log) {
  log(`$ DEBIAN_FRONTEND=noninteractive ${argv.join(' ')}`);
  const result = spawnSync(argv[0], argv.slice(1), { env, stdio: 'inherit' });
  if (result.error) throw new Error(`${argv.join(' ')} could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed with exit code ${result.status}`);
}

module.exports = { findProgram, programOf, ensureDebianPackages };

if (require.main === module) {
  const wanted = process.argv.slice(2);
  try {
    const found = ensureDebianPackages(wanted.length > 0 ? wanted : Object.keys(PROGRAMS));
    for (const [pkg, program] of Object.entries(found)) console.log(`${pkg}: ${program}`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
