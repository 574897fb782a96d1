import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The monorepo root: the nearest folder above `from` whose package.json declares workspaces. Works
 * from `src/` (jest) and `dist/` (built tools) alike.
 */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
        if (Array.isArray(parsed.workspaces)) return dir;
      } catch {
        // an unreadable package.json is not the root; keep walking up
      }
    }
    if (dirname(dir) === dir) throw new Error(`no workspace root (package.json with "workspaces") above ${from}`);
  }
}

/** The services this harness runs. */
export type ServiceName = 'order' | 'inventory';

/** Absolute path of a service's built entry point; throws with the fix when it has not been built. */
export function serviceEntry(service: ServiceName, root: string = repoRoot()): string {
  const entry = join(root, service, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build first (npm run build)`);
  return entry;
}
