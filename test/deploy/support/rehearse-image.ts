/**
 * A dry run of `docker build --target <service>` without Docker: the file system the runtime image
 * would hold, assembled in a directory by following the Dockerfile. The `manifests` stage's COPYs
 * and the `prod-deps` stage's `npm ci` run for real (registry or npm cache); the `build` stage is
 * the repository's own `npm run build` output; apt-get steps are skipped. Running the services from
 * that directory proves the image has everything they load at runtime (production dependencies
 * only, the @eo libs' symlinks, their dist, and the Lua scripts of the engine and the service).
 */
import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { repoRoot } from '@eo/local';
import { parseInstructions, type Instruction } from './dockerfile';

interface StageSteps {
  name: string;
  from: string;
  steps: Instruction[];
}

function stages(text: string): StageSteps[] {
  const out: StageSteps[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [from, , name] = instruction.args.split(/\s+/);
      out.push({ name: name ?? from, from, steps: [] });
    } else out.at(-1)?.steps.push(instruction);
  }
  return out;
}

/** `COPY [--from=x] a b dest` → flags, sources, destination. */
function copyArgs(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

/**
 * Assembles the image of `target` under `dir` (the image's `/app` is `dir`) and returns `dir`.
 * Needs `npm run build` to have run in the repository.
 */
export function rehearseImage(target: string, dir: string, root: string = repoRoot()): string {
  const all = stages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const byName = new Map(all.map((s) => [s.name, s]));
  let workdir = '/';
  const inImage = (stage: StageSteps, path: string): string => {
    const absolute = posix.isAbsolute(path) ? path : posix.join(workdir, path);
    if (!absolute.startsWith('/app')) throw new Error(`${stage.name}: ${path} is outside /app`);
    return join(dir, absolute.slice('/app'.length));
  };
  const copy = (source: string, destination: string): void => {
    mkdirSync(destination.endsWith('/') ? destination : dirname(destination), { recursive: true });
    cpSync(source, destination.endsWith('/') ? join(destination, source.split('/').pop()!) : destination, {
      recursive: true,
      verbatimSymlinks: true,
    });
  };

  // The stages the runtime image copies from, and the target's own chain.
  const chain: StageSteps[] = [];
  for (let stage = byName.get(target); stage; stage = byName.get(stage.from)) chain.unshift(stage);
  const manifests = byName.get('manifests')!;
  const prodDeps = byName.get('prod-deps')!;
  mkdirSync(dir, { recursive: true });

  for (const step of manifests.steps) {
    if (step.keyword === 'WORKDIR') workdir = step.args;
    if (step.keyword !== 'COPY') continue;
    const { sources, dest } = copyArgs(step.args);
    for (const source of sources) copy(join(root, source), inImage(manifests, dest) + (dest.endsWith('/') ? '/' : ''));
  }
  for (const step of prodDeps.steps.filter((s) => s.keyword === 'RUN')) {
    execSync(step.args.replace(/--mount=\S+\s*/g, ''), {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, npm_config_prefer_offline: 'true' },
    });
  }
  workdir = '/';
  for (const stage of chain) {
    for (const step of stage.steps) {
      if (step.keyword === 'WORKDIR') workdir = step.args;
      if (step.keyword !== 'COPY') continue;
      const { from, sources, dest } = copyArgs(step.args);
      if (from === 'prod-deps') continue; // already in place: prod-deps ran in `dir`
      if (from !== 'build') throw new Error(`${stage.name}: cannot rehearse COPY ${step.args}`);
      for (const source of sources) {
        const local = join(root, source.slice('/app/'.length));
        if (!existsSync(local)) throw new Error(`${local} does not exist: run npm run build first`);
        const destination = inImage(stage, dest);
        copy(local, dest.endsWith('/') ? `${destination}/` : destination);
      }
    }
  }
  return dir;
}
