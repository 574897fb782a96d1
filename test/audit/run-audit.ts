import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';

/** The built CLI (`npm run audit` runs it after `npm run build`). */
export const AUDIT_CLI = join(repoRoot(), 'tools', 'dist', 'audit.js');

/** How one CLI run ended. */
export interface AuditRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node tools/dist/audit.js …args` in `cwd`, writing `stdin` (if given) and closing it; `env`
 * replaces the Datadog variables (the test's own DD_* never leak in). Kills it after `timeoutMs`.
 */
export function runAudit(
  args: readonly string[],
  options: { cwd?: string; stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<AuditRun> {
  if (!existsSync(AUDIT_CLI)) throw new Error(`${AUDIT_CLI} does not exist: build first (npm run build)`);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('DD_') && key !== 'DEBUG') env[key] = value;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [AUDIT_CLI, ...args], { cwd: options.cwd ?? repoRoot(), env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
