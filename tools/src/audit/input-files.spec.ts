import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expandGlob, expandInputs, InputError } from './input-files';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eo-inputs-'));
  for (const file of ['a.log', 'b.log', 'c.txt', 'sub/d.log', 'sub/deeper/e.log', '.hidden.log', 'inventory-1.log', 'inventory-2.log']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), '{}\n');
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = (files: string[]): string[] => files.map((f) => relative(dir, f)).sort();

describe('expandGlob', () => {
  it('matches * within one directory, skipping dot files', () => {
    expect(names(expandGlob('*.log', dir))).toEqual(['a.log', 'b.log', 'inventory-1.log', 'inventory-2.log']);
  });

  it('matches ? and character classes', () => {
    expect(names(expandGlob('inventory-?.log', dir))).toEqual(['inventory-1.log', 'inventory-2.log']);
    expect(names(expandGlob('inventory-[2-9].log', dir))).toEqual(['inventory-2.log']);
    expect(names(expandGlob('[!a]*.log', dir))).toEqual(['b.log', 'inventory-1.log', 'inventory-2.log']);
  });

  it('matches ** across any depth of directories, including none', () => {
    expect(names(expandGlob('**/*.log', dir))).toEqual([
      'a.log',
      'b.log',
      'inventory-1.log',
      'inventory-2.log',
      'sub/d.log',
      'sub/deeper/e.log',
    ]);
    expect(names(expandGlob('sub/**', dir))).toEqual(['sub/d.log', 'sub/deeper/e.log']);
  });

  it('takes absolute patterns and a literal directory prefix', () => {
    expect(names(expandGlob(join(dir, 'sub', '*.log')))).toEqual(['sub/d.log']);
  });
});

describe('expandInputs', () => {
  it('keeps files, opens directories one level deep, expands globs and drops repeats', () => {
    expect(names(expandInputs(['a.log', 'sub', '*.log'], dir))).toEqual([
      'a.log',
      'b.log',
      'inventory-1.log',
      'inventory-2.log',
      'sub/d.log',
    ]);
  });

  it('refuses an input that names nothing', () => {
    expect(() => expandInputs(['missing.log'], dir)).toThrow(InputError);
    expect(() => expandInputs(['*.gz'], dir)).toThrow(/no file matches/);
  });
});
