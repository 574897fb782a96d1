import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { load } from 'js-yaml';

/** The subset of a Compose service this repository's tooling reads. */
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; target?: string; dockerfile?: string; args?: Record<string, string> | string[] };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | { target: number; published?: string | number }>;
  depends_on?: string[] | Record<string, { condition: string; required?: boolean }>;
  deploy?: { replicas?: number; [field: string]: unknown };
  healthcheck?: { test: string | string[]; [field: string]: unknown };
  labels?: Record<string, string> | string[];
  profiles?: string[];
  restart?: string;
  volumes?: unknown[];
  stop_grace_period?: string;
  [field: string]: unknown;
}

/** A Compose file after interpolation. */
export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `$VAR` and `$$` for a literal `$` (no nested defaults).
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (match === '$$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const current = env[name!];
      const missing = colon === ':' ? current === undefined || current === '' : current === undefined;
      if (op === '-') return missing ? (arg ?? '') : current!;
      if (op === '?' && missing) throw new Error(`${name} is required: ${arg ?? ''}`);
      return current ?? '';
    },
  );
}

function interpolateDeep(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, env)]));
  }
  return value;
}

/** Reads a Compose file (YAML merge keys resolved) and interpolates it with `env`. */
export function loadCompose(path: string, env: Record<string, string | undefined> = {}): ComposeFile {
  return interpolateDeep(load(readFileSync(path, 'utf8')), env) as ComposeFile;
}

/** A service's `environment` as a map, values as the container sees them (list or map form). */
export function composeEnvironment(service: ComposeService, hostEnv: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const eq = item.indexOf('=');
      // `- NAME` alone passes the variable through from the host, and is left out when unset.
      if (eq < 0) {
        if (hostEnv[item] !== undefined) out[item] = hostEnv[item]!;
      } else out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  } else {
    for (const [key, value] of Object.entries(environment)) {
      if (value === null) {
        if (hostEnv[key] !== undefined) out[key] = hostEnv[key]!;
      } else out[key] = String(value);
    }
  }
  return out;
}

/** One finding of dclint (schema violations come as rule `invalid-schema`). */
export interface ComposeLintMessage {
  rule: string;
  type: 'error' | 'warning';
  message: string;
  line: number;
}

interface DclintModule {
  DCLinter: new (config: { rules: Record<string, number>; quiet: boolean; debug: boolean; exclude: string[] }) => {
    lintFiles(paths: string[], recursive: boolean): Array<{ messages: ComposeLintMessage[] }>;
  };
}

/**
 * Lints a Compose file with dclint: its bundled copy of the current Compose specification JSON
 * schema (offline), then its rules, minus `disabledRules`.
 */
export function lintCompose(path: string, disabledRules: readonly string[] = []): ComposeLintMessage[] {
  // dclint is an ES module package with a CommonJS build; require() picks the latter.
  const { DCLinter } = createRequire(__filename)('dclint') as DclintModule;
  const rules = Object.fromEntries(disabledRules.map((rule) => [rule, 0]));
  const linter = new DCLinter({ rules, quiet: true, debug: false, exclude: [] });
  return linter.lintFiles([path], false).flatMap((result) => result.messages);
}
