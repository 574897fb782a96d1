/**
 * The Dockerfile and .dockerignore, checked statically (no Docker engine here): what each target's
 * image config says, and that every COPY source exists in the build context and survives
 * .dockerignore. The charts and compose tests run the targets' CMD and ENV against the services.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dockerignore, parseInstructions, readImageConfig } from './support/dockerfile';
import { root } from './charts';

const DOCKERFILE = join(root, 'Dockerfile');
const text = readFileSync(DOCKERFILE, 'utf8');
const ignored = dockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
const SERVICES = [
  { target: 'order', port: '3001' },
  { target: 'inventory', port: '3002' },
] as const;

/** Every file under `dir` (relative to the repository root), skipping node_modules and .git. */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === '.git') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(relative(root, path));
  }
  return out;
}

describe('the Dockerfile', () => {
  it.each(SERVICES)(
    'builds $target as a small, non-root Node 24 image with tini, NODE_ENV=production, a HEALTHCHECK and version labels',
    ({ target, port }) => {
      const image = readImageConfig(DOCKERFILE, target, { VERSION: '1.2.3' });
      expect(image.baseImage).toMatch(/^node:24(\.\d+)*-(bookworm|bullseye|trixie)-slim$/);
      expect(image.user).toMatch(/^[1-9]\d*:[1-9]\d*$/); // numeric: runAsNonRoot can verify it
      expect(image.entrypoint).toEqual(['/usr/bin/tini', '--']);
      expect(image.cmd).toEqual(['node', `/app/${target}/dist/main.js`]);
      expect(image.workdir).toBe('/app');
      expect(image.env).toMatchObject({ NODE_ENV: 'production', PORT: port, DD_SERVICE: target, DD_VERSION: '1.2.3' });
      expect(image.expose).toEqual([port]);
      expect(image.healthcheck?.slice(0, 2)).toEqual(['node', '-e']);
      expect(image.healthcheck?.[2]).toContain("'/health/ready'");
      expect(image.labels).toMatchObject({
        'org.opencontainers.image.title': `eo-${target}`,
        'org.opencontainers.image.version': '1.2.3',
        'com.datadoghq.tags.service': target,
        'com.datadoghq.tags.version': '1.2.3',
      });
      // The runtime image carries the service's dist and Lua scripts, the libs' dist and the engine's Lua, and the
      // production node_modules — nothing from the build stage's dev dependencies.
      const copies = image.steps.filter((s) => s.keyword === 'COPY').map((s) => s.args);
      expect(copies).toEqual(
        expect.arrayContaining([
          '--from=prod-deps /app/node_modules node_modules',
          '--from=build /app/libs/exactly-once/dist libs/exactly-once/dist',
          '--from=build /app/libs/exactly-once/lua libs/exactly-once/lua',
          '--from=build /app/libs/contract/dist libs/contract/dist',
          '--from=build /app/libs/platform/dist libs/platform/dist',
          `--from=build /app/${target}/dist ${target}/dist`,
          `--from=build /app/${target}/lua ${target}/lua`,
        ]),
      );
      expect(image.steps.some((s) => s.keyword === 'RUN' && /apt-get install .*\btini\b/.test(s.args))).toBe(true);
    },
  );

  it('installs production dependencies from the lock file only (npm ci --omit=dev), without install scripts', () => {
    const runs = parseInstructions(text).filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args));
    expect(runs.length).toBe(2);
    for (const run of runs) {
      expect(run.args).toMatch(/\bnpm ci\b/);
      expect(run.args).toContain('--ignore-scripts');
    }
    expect(runs.filter((r) => r.args.includes('--omit=dev'))).toHaveLength(1);
    // No production dependency needs an install script, so --ignore-scripts loses nothing.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; hasInstallScript?: boolean }>;
    };
    const scripted = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript && !p.dev);
    expect(scripted.map(([name]) => name)).toEqual([]);
  });

  it('copies only what exists in the build context and is not excluded by .dockerignore', () => {
    const context = files(root).filter((path) => !ignored(path));
    for (const copy of parseInstructions(text).filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(root, source)) }).toEqual({ source, exists: true });
        const shipped = context.filter((path) => path === source || path.startsWith(`${source}/`));
        expect({ source, shipped: shipped.length > 0 }).toEqual({ source, shipped: true });
      }
    }
    // What the build needs is in the context, and what must not leak is not.
    for (const needed of [
      'package-lock.json',
      'tsconfig.base.json',
      'libs/exactly-once/lua/includes/fence.lua',
      'inventory/lua/reserve-stock.lua',
      'libs/platform/src/index.ts',
      'order/src/main.ts',
      'inventory/src/main.ts',
    ]) {
      expect({ needed, ignored: ignored(needed) }).toEqual({ needed, ignored: false });
    }
    for (const kept of [
      'node_modules/ioredis/package.json',
      'order/dist/main.js',
      'libs/platform/node_modules/x',
      '.git/HEAD',
      '.cache/helm/x',
      'order/src/orders/orders.service.spec.ts',
    ]) {
      expect({ kept, ignored: ignored(kept) }).toEqual({ kept, ignored: true });
    }
  });

  it('ships a Node the engines and the README claim, and one CI runs the tests on', () => {
    const shipped = /^node:(\d+)/.exec(readImageConfig(DOCKERFILE, 'order', {}).baseImage)?.[1];
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const ranges = engines.split('||').map((range) => range.trim());
    expect(ranges).toContain(`^${shipped}.0.0`);
    // The Node running this test (the machine's, or the image's in .ci/run's second pass) is claimed too.
    const [major, minor] = process.versions.node.split('.').map(Number);
    const claimed = ranges.some((range) => {
      const [m, n] = range.replace('^', '').split('.').map(Number);
      return major === m && minor >= n;
    });
    expect({ node: process.versions.node, engines, claimed }).toMatchObject({ claimed: true });
    // .ci/run reads the major it installs from the Dockerfile, so the two cannot drift apart.
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toContain("sed -n 's/^ARG NODE_IMAGE=node:");
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`Node.js 20.19+ or ${shipped}`);
  });
});
