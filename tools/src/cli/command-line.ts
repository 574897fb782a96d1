import { parseArgs } from 'node:util';

/** A bad command line: the CLI prints it with its usage line, without a stack trace, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option: how node's parseArgs reads it, and how its raw value becomes a typed one. */
export interface Option<T> {
  type: 'string' | 'boolean';
  short?: string;
  /** For `--watch [seconds]`: the value used when the option is given without one. */
  bare?: string;
  parse(raw: string | boolean | undefined, name: string): T;
}

/** An integer from `min` to `max`; `fallback` when absent. */
export function int(min: number, max: number, fallback: number): Option<number>;
export function int(min: number, max: number): Option<number | undefined>;
export function int(min: number, max: number, fallback?: number): Option<number | undefined> {
  return {
    type: 'string',
    parse: (raw, name) => (raw === undefined ? fallback : toInt(String(raw), name, min, max)),
  };
}

/** A comma-separated list of integers from `min` to `max` (`--sweep 3,6,12`). */
export function ints(min: number, max: number, fallback: number[]): Option<number[]> {
  return {
    type: 'string',
    parse: (raw, name) =>
      raw === undefined
        ? fallback
        : String(raw)
            .split(',')
            .map((part) => toInt(part.trim(), name, min, max)),
  };
}

/** One of `values`; `fallback` when absent. */
export function choice<V extends string>(values: readonly V[], fallback: V): Option<V> {
  return {
    type: 'string',
    parse: (raw, name) => {
      if (raw === undefined) return fallback;
      if (!(values as readonly string[]).includes(String(raw)))
        throw new UsageError(`--${name} must be ${values.join(' or ')}, got "${String(raw)}"`);
      return raw as V;
    },
  };
}

/** A comma-separated list of `values` (`--claim-mode race,affinity`); `fallback` when absent. */
export function choices<V extends string>(values: readonly V[], fallback: V[]): Option<V[]> {
  return {
    type: 'string',
    parse: (raw, name) => {
      if (raw === undefined) return fallback;
      return String(raw)
        .split(',')
        .map((part) => {
          const value = part.trim();
          if (!(values as readonly string[]).includes(value)) throw new UsageError(`--${name} takes ${values.join(', ')}, got "${value}"`);
          return value as V;
        });
    },
  };
}

/** A flag: true when given. */
export function flag(short?: string): Option<boolean> {
  return { type: 'boolean', ...(short ? { short } : {}), parse: (raw) => raw === true };
}

/** A non-empty string (a path, a query); undefined when absent. */
export function text(): Option<string | undefined> {
  return {
    type: 'string',
    parse: (raw, name) => {
      if (raw === undefined) return undefined;
      const value = String(raw).trim();
      if (value === '') throw new UsageError(`--${name} needs a value`);
      return value;
    },
  };
}

/** A string as given (even empty); undefined when absent. */
export function string(): Option<string | undefined> {
  return { type: 'string', parse: (raw) => (raw === undefined ? undefined : String(raw)) };
}

/** An integer option that may be given bare (`--watch` or `--watch 5`): `bare` then. */
export function optionalInt(min: number, max: number, bare: number): Option<number | undefined> {
  return { ...int(min, max), bare: String(bare) };
}

function toInt(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

type Values<S extends Record<string, Option<unknown>>> = { [K in keyof S]: ReturnType<S[K]['parse']> };

/** A parsed command line. */
export interface CommandLine<S extends Record<string, Option<unknown>>> {
  values: Values<S>;
  positionals: string[];
}

/**
 * The one option parser of the CLIs, on node's `parseArgs` (strict: an unknown option is an
 * error): every option's raw value is checked and typed by its {@link Option}, and every problem is
 * a {@link UsageError} naming the option. `--help`/`-h` is always known; the result says whether it
 * was given, so the CLI prints its usage.
 */
export function parseCommandLine<S extends Record<string, Option<unknown>>>(
  argv: readonly string[],
  spec: S,
  { positionals = false }: { positionals?: boolean } = {},
): CommandLine<S> & { help: boolean } {
  const args = withBareValues(argv, spec);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: positionals,
      options: {
        ...Object.fromEntries(Object.entries(spec).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = Object.fromEntries(
    Object.entries(spec).map(([name, o]) => [name, o.parse(parsed.values[name] as string | boolean | undefined, name)]),
  ) as Values<S>;
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}

/** `--watch` followed by nothing or another option becomes `--watch=<bare>`. */
function withBareValues(argv: readonly string[], spec: Record<string, Option<unknown>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const option = arg.startsWith('--') ? spec[arg.slice(2)] : undefined;
    const next = argv[i + 1];
    if (option?.bare !== undefined && (next === undefined || next.startsWith('-') || Number.isNaN(Number(next))))
      out.push(`${arg}=${option.bare}`);
    else out.push(arg);
  }
  return out;
}

/**
 * Runs a CLI's `main`: a {@link UsageError} prints its message and `usage` and exits 2, any other
 * error its stack and exits 1; otherwise the exit code is what `main` returned (0 by default).
 */
export function runCli(usage: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n${usage}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
