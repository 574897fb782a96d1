import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';

/** What `npm start` tells other local tools (`npm run demo`, `npm run reset`) about the system it runs. */
export interface LocalSystem {
  /** The supervisor (`npm start`'s node process). */
  pid: number;
  /** Every process it started: the services and its private redis-server. */
  pids?: number[];
  redisUrl: string;
  namespace?: string;
  orderUrl: string;
  inventoryUrls: string[];
}

/** Where `npm start` keeps its state: `LOCAL_DATA_DIR`, else `<repo>/.data` (git-ignored). */
export function localDataDir(): string {
  return process.env.LOCAL_DATA_DIR?.trim() || join(repoRoot(__dirname), '.data');
}

/** `<data>/local-system.json`. */
export function localSystemFile(dir = localDataDir()): string {
  return join(dir, 'local-system.json');
}

/** The pid file of the private redis-server (`--pidfile`): Redis writes it on start and removes it on a clean stop. */
export function redisPidFile(dir = localDataDir()): string {
  return join(dir, 'redis.pid');
}

/** True when `pid` is a running process (of any user we may signal). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of `pid` (Linux), or '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The pid in the redis pid file when that process is still a redis-server, else undefined. */
export function leftoverRedis(dir = localDataDir()): number | undefined {
  const file = redisPidFile(dir);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const command = commandLine(pid);
  return command === '' || command.includes('redis-server') ? pid : undefined;
}

/** Why `dir` cannot host another `npm start` now, or undefined when it can. */
export function dataDirInUse(dir = localDataDir()): string | undefined {
  const running = readLocalSystem(dir);
  if (running) return `another npm start (pid ${running.pid}) is running on ${dir}.`;
  const redis = leftoverRedis(dir);
  if (redis !== undefined) return `a redis-server (pid ${redis}) left by an earlier npm start still uses ${join(dir, 'redis')}.`;
  return undefined;
}

/** Records the running system (readable by the owner only: the Redis URL may carry a password). */
export function writeLocalSystem(system: LocalSystem, dir = localDataDir()): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(localSystemFile(dir), `${JSON.stringify(system, null, 2)}\n`, { mode: 0o600 });
}

/** The recorded system, if its supervisor is still alive. */
export function readLocalSystem(dir = localDataDir()): LocalSystem | undefined {
  const record = readRecord(dir);
  return record && alive(record.pid) ? record : undefined;
}

/** The record whether or not its supervisor is alive (`npm run reset` cleans up after a dead one). */
export function readRecord(dir = localDataDir()): LocalSystem | undefined {
  try {
    return JSON.parse(readFileSync(localSystemFile(dir), 'utf8')) as LocalSystem;
  } catch {
    return undefined;
  }
}

/** Removes the record (on shutdown). */
export function removeLocalSystem(dir = localDataDir()): void {
  rmSync(localSystemFile(dir), { force: true });
}
