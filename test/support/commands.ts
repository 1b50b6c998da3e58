import { spawn } from 'node:child_process';
import { processes } from './deploy';

/**
 * Runs `npm run recompute -- ...` with the given environment (a gateway's,
 * so it reads the same InfluxDB and park model); resolves with the exit code
 * and output. Killed after 60 s.
 */
export function runRecompute(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript('recompute', args, env);
}

/**
 * Runs `npm run sim -- ...` (the compiled simulator) with the given
 * environment; resolves with the exit code and output. Killed after 60 s.
 */
export function runSim(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript('sim', args, env);
}

function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: processes.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
