import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@eo/testing';

/** What `npm start` tells other local tools (`npm run demo`) about the system it runs. */
export interface LocalSystem {
  pid: number;
  redisUrl: string;
  namespace?: string;
  orderUrl: string;
  inventoryUrls: string[];
}

/** `<repo>/.data/local-system.json` (git-ignored with the rest of `.data/`). */
export function localSystemFile(): string {
  return join(repoRoot(__dirname), '.data', 'local-system.json');
}

/** Records the running system (readable by the owner only: the Redis URL may carry a password). */
export function writeLocalSystem(system: LocalSystem): void {
  const file = localSystemFile();
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(system, null, 2)}\n`, { mode: 0o600 });
}

/** The recorded system, if its supervisor is still alive. */
export function readLocalSystem(): LocalSystem | undefined {
  try {
    const system = JSON.parse(readFileSync(localSystemFile(), 'utf8')) as LocalSystem;
    process.kill(system.pid, 0);
    return system;
  } catch {
    return undefined;
  }
}

/** Removes the record (on shutdown). */
export function removeLocalSystem(): void {
  rmSync(localSystemFile(), { force: true });
}
