import { readdirSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** A file argument that names nothing readable (exit 2). */
export class InputError extends Error {}

const MAGIC = /[*?[]/;

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** One path segment of a glob as a regular expression: `*`, `?` and `[…]` (`[!…]` negates). */
function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function walk(dir: string, segments: readonly string[], out: string[]): void {
  const [head, ...rest] = segments;
  if (head === '**') {
    if (rest.length === 0) return walk(dir, ['**', '*'], out);
    walk(dir, rest, out);
    for (const name of entries(dir)) {
      if (!name.startsWith('.') && stat(join(dir, name))?.isDirectory()) walk(join(dir, name), segments, out);
    }
    return;
  }
  const pattern = segmentPattern(head);
  for (const name of entries(dir)) {
    if (!pattern.test(name) || (name.startsWith('.') && !head.startsWith('.'))) continue;
    const path = join(dir, name);
    const info = stat(path);
    if (rest.length === 0 ? info?.isFile() : info?.isDirectory()) {
      if (rest.length === 0) out.push(path);
      else walk(path, rest, out);
    }
  }
}

/** The files a glob matches: `*`, `?`, `[…]` within a path segment, `**` for any depth of directories. */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const segments = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || i === 0);
  let base = isAbsolute(pattern) ? '/' : cwd;
  if (segments[0] === '') segments.shift();
  while (segments.length > 1 && !MAGIC.test(segments[0]) && segments[0] !== '**') base = join(base, segments.shift()!);
  const out: string[] = [];
  walk(base, segments, out);
  return out;
}

/**
 * Turns command-line inputs into files: a file as is, a directory as every file directly in it, a
 * quoted glob (`'logs/*.log'`, `'logs/**\/*.log'`) expanded here (Node 20 has no `fs.glob`).
 * Throws {@link InputError} for an input that names nothing.
 */
export function expandInputs(inputs: readonly string[], cwd = process.cwd()): string[] {
  const files = new Set<string>();
  for (const input of inputs) {
    const path = resolve(cwd, input);
    const info = stat(path);
    if (info?.isFile()) {
      files.add(path);
    } else if (info?.isDirectory()) {
      const inside = entries(path).filter((name) => !name.startsWith('.') && stat(join(path, name))?.isFile());
      if (inside.length === 0) throw new InputError(`${input}: directory holds no files`);
      for (const name of inside) files.add(join(path, name));
    } else if (MAGIC.test(input)) {
      const matches = expandGlob(input, cwd);
      if (matches.length === 0) throw new InputError(`${input}: no file matches`);
      for (const match of matches) files.add(match);
    } else {
      throw new InputError(`${input}: no such file or directory`);
    }
  }
  return [...files];
}
