/**
 * `npm run reset`: stops what an earlier `npm start` left running (its supervisor was killed and
 * could not stop its services and redis-server) and deletes its Redis data, so the next `npm start`
 * begins empty. Refuses while that `npm start` is still running.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  alive,
  commandLine,
  leftoverRedis,
  localDataDir,
  readLocalSystem,
  readRecord,
  redisPidFile,
  removeLocalSystem,
} from './local-system';

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once `pid` is gone. */
async function stop(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const dir = localDataDir();
  const running = readLocalSystem(dir);
  if (running) {
    say(`npm start (pid ${running.pid}) is running on ${dir}: stop it with Ctrl-C (or kill ${running.pid}) first.`);
    return 1;
  }
  const leftovers = new Set<number>();
  for (const pid of readRecord(dir)?.pids ?? []) {
    // Only processes that still are ours: a service (node) or the redis-server.
    if (alive(pid) && /\bnode\b|redis-server/.test(commandLine(pid))) leftovers.add(pid);
  }
  const redis = leftoverRedis(dir);
  if (redis !== undefined) leftovers.add(redis);
  for (const pid of leftovers) {
    say(`stopping ${commandLine(pid) || 'process'} (pid ${pid})`);
    await stop(pid);
  }
  const redisDir = join(dir, 'redis');
  rmSync(redisDir, { recursive: true, force: true });
  rmSync(redisPidFile(dir), { force: true });
  removeLocalSystem(dir);
  say(`${leftovers.size === 0 ? 'nothing was left running; ' : ''}deleted ${redisDir}: the next npm start begins with an empty Redis`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`reset failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
