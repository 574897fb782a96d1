import { readFileSync } from 'node:fs';

/** One instruction of a Dockerfile, its continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** What a build target leaves in the image config (own stage plus the stages it is built FROM). */
export interface ImageConfig {
  target: string;
  /** The external image at the bottom of the chain (e.g. node:22-bookworm-slim). */
  baseImage: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  workdir: string;
  user: string | undefined;
  entrypoint: string[];
  cmd: string[];
  expose: string[];
  healthcheck: string[] | undefined;
  /** Every RUN and COPY of the chain, base stage first (for static checks). */
  steps: Instruction[];
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending !== '' && line.trim().startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match) out.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start });
  });
  return out;
}

/** `["a", "b"]` (exec form) as is; a shell-form string as `/bin/sh -c <string>`. */
function commandForm(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return ['/bin/sh', '-c', args];
}

/** `A=1 B="two words"` (or the legacy `A 1`) as pairs. */
function keyValues(args: string): Array<[string, string]> {
  if (!args.includes('=')) {
    const [key, ...rest] = args.split(/\s+/);
    return [[key, rest.join(' ')]];
  }
  const pairs: Array<[string, string]> = [];
  const pattern = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (let m = pattern.exec(args); m; m = pattern.exec(args)) {
    let value = m[2];
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    pairs.push([m[1], value]);
  }
  return pairs;
}

function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced: string, fallback: string, bare: string) => {
      const name = braced ?? bare;
      return vars[name] ?? fallback ?? '';
    },
  );
}

interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

/**
 * Resolves what `docker build --target <target>` would put in the image's config: ENV, LABEL,
 * WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE and HEALTHCHECK, inherited through FROM <stage>, with
 * ARG defaults substituted (build args can be given as `buildArgs`). Nothing is built.
 */
export function resolveTarget(text: string, target: string, buildArgs: Record<string, string> = {}): ImageConfig {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!m) throw new Error(`line ${instruction.line}: cannot parse FROM ${instruction.args}`);
      stages.push({ name: m[2], from: substitute(m[1], { ...globalArgs, ...buildArgs }), instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') for (const [k, v] of keyValues(instruction.args)) globalArgs[k] = v;
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name!, s]));
  const chain: Stage[] = [];
  for (let stage = byName.get(target); stage; stage = byName.get(stage.from)) {
    if (chain.includes(stage)) throw new Error(`stage cycle at ${stage.name}`);
    chain.unshift(stage);
  }
  if (chain.length === 0) throw new Error(`no stage named ${target}`);

  const config: ImageConfig = {
    target,
    baseImage: chain[0].from,
    env: {},
    labels: {},
    workdir: '/',
    user: undefined,
    entrypoint: [],
    cmd: [],
    expose: [],
    healthcheck: undefined,
    steps: [],
  };
  for (const stage of chain) {
    const args: Record<string, string> = {};
    const vars = (): Record<string, string> => ({ ...args, ...config.env });
    for (const instruction of stage.instructions) {
      const value = instruction.args;
      switch (instruction.keyword) {
        case 'ARG':
          for (const [k, v] of keyValues(value)) args[k] = buildArgs[k] ?? (v === '' ? (globalArgs[k] ?? '') : v);
          break;
        case 'ENV':
          for (const [k, v] of keyValues(value)) config.env[k] = substitute(v, vars());
          break;
        case 'LABEL':
          for (const [k, v] of keyValues(value)) config.labels[k] = substitute(v, vars());
          break;
        case 'WORKDIR':
          config.workdir = substitute(value, vars());
          break;
        case 'USER':
          config.user = substitute(value, vars());
          break;
        case 'ENTRYPOINT':
          config.entrypoint = commandForm(value);
          // Docker resets CMD when a stage sets ENTRYPOINT.
          config.cmd = [];
          break;
        case 'CMD':
          config.cmd = commandForm(value);
          break;
        case 'EXPOSE':
          config.expose.push(...value.split(/\s+/));
          break;
        case 'HEALTHCHECK': {
          const cmd = /\bCMD\s+(.*)$/s.exec(value);
          config.healthcheck = value.trim() === 'NONE' || !cmd ? undefined : commandForm(cmd[1].trim());
          break;
        }
        case 'RUN':
        case 'COPY':
        case 'ADD':
          config.steps.push(instruction);
          break;
        default:
          break;
      }
    }
  }
  return config;
}

/** {@link resolveTarget} for a Dockerfile on disk. */
export function readImageConfig(path: string, target: string, buildArgs?: Record<string, string>): ImageConfig {
  return resolveTarget(readFileSync(path, 'utf8'), target, buildArgs);
}

/**
 * A `.dockerignore` matcher (Docker's rules: patterns relative to the context root, `*` and `?`
 * within a path segment, `**` across segments, a match excludes everything below it, `!` re-includes).
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            source += '(?:.*/)?';
            i++;
          } else source += '.*';
        } else if (c === '*') source += '[^/]*';
        else if (c === '?') source += '[^/]';
        else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, regex: new RegExp(`^${source}(/.*)?$`) };
    });
  return (path: string) => {
    let excluded = false;
    for (const rule of rules) if (rule.regex.test(path)) excluded = !rule.negate;
    return excluded;
  };
}
