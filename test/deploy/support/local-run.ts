/**
 * Runs what a deployment manifest says, as local processes: the container's argv (image ENTRYPOINT
 * and CMD overridden as Kubernetes or Compose would), its environment resolved as a kubelet would
 * (fieldRef, secretKeyRef, configMapKeyRef, $(VAR)) with local stand-ins for what only a cluster
 * has (pod name, node IP, Service DNS names), and the image's paths mapped to the repository's
 * built files. So the deploy tests prove the manifests' wiring against the real services.
 */
import { join, resolve } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { ServiceProcess, type ServiceProcessOptions } from '@eo/local';
import type { ImageConfig } from './dockerfile';
import type { Manifest } from './k8s-validate';

/** Parses a multi-document YAML stream (helm template output), dropping empty documents. */
export function parseManifests(yaml: string): Manifest[] {
  return loadAll(yaml).filter((doc): doc is Manifest => typeof doc === 'object' && doc !== null);
}

/** Parses one YAML document. */
export function parseYaml<T>(yaml: string): T {
  return load(yaml) as T;
}

/** The one manifest of `kind` (and `name`, if given); throws when there is none or several. */
export function findManifest<T extends Manifest = Manifest>(docs: readonly Manifest[], kind: string, name?: string): T {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

/** The subset of a container spec this module reads. */
export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string }; prefix?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  [field: string]: unknown;
}

/** An `env` entry. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    resourceFieldRef?: unknown;
  };
}

/** An HTTP probe (the only kind the services' manifests use). */
export interface Probe {
  httpGet?: { path: string; port: number | string };
  [field: string]: unknown;
}

/** A pod template as rendered in a Deployment. */
export interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: ContainerSpec[]; [field: string]: unknown };
}

/** What only a cluster knows about a pod; the test chooses local values. */
export interface PodStandIn {
  name: string;
  namespace: string;
  uid: string;
  /** status.hostIP: the node, where the Datadog Agent DaemonSet listens. */
  hostIP: string;
  podIP: string;
  nodeName: string;
}

/**
 * The argv a container runs: `command` replaces the image's ENTRYPOINT, `args` its CMD, and a
 * `command` without `args` drops the CMD (Kubernetes; Compose's `entrypoint`/`command` behave alike).
 */
export function containerArgv(image: ImageConfig, command?: string[], args?: string[]): string[] {
  const entrypoint = command ?? image.entrypoint;
  const cmd = args ?? (command ? [] : image.cmd);
  return [...entrypoint, ...cmd];
}

function fieldValue(fieldPath: string, pod: PodTemplate, standIn: PodStandIn): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    const value = map?.[labelOrAnnotation[2]];
    // A kubelet resolves a missing label to "": the service would then log an empty env/version.
    if (value === undefined) throw new Error(`fieldRef ${fieldPath}: the pod template has no such ${labelOrAnnotation[1].slice(0, -1)}`);
    return value;
  }
  const simple: Record<string, string> = {
    'metadata.name': standIn.name,
    'metadata.namespace': standIn.namespace,
    'metadata.uid': standIn.uid,
    'spec.nodeName': standIn.nodeName,
    'status.hostIP': standIn.hostIP,
    'status.podIP': standIn.podIP,
  };
  const value = simple[fieldPath];
  if (value === undefined) throw new Error(`fieldRef ${fieldPath} has no local stand-in`);
  return value;
}

function objectData(objects: readonly Manifest[], kind: 'Secret' | 'ConfigMap', name: string): Record<string, string> | undefined {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) return undefined;
  const data: Record<string, string> = {};
  const encoded = (object.data ?? {}) as Record<string, string>;
  for (const [key, value] of Object.entries(encoded)) data[key] = kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
  Object.assign(data, (object.stringData ?? {}) as Record<string, string>);
  return data;
}

/** Kubernetes' `$(VAR)` expansion in env values (`$$(VAR)` stays literal). */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match: string, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : match;
  });
}

/**
 * The environment a kubelet gives `container`: the image's ENV, then envFrom, then env in order
 * (later wins), plus HOSTNAME = the pod name. Secrets and ConfigMaps come from `objects` (the
 * rendered release plus any the test provides); an unresolvable reference throws, as the pod
 * would fail to start.
 */
export function resolvePodEnv(
  container: ContainerSpec,
  pod: PodTemplate,
  objects: readonly Manifest[],
  standIn: PodStandIn,
  imageEnv: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv, HOSTNAME: standIn.name };
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (!ref) continue;
    const data = objectData(objects, source.secretRef ? 'Secret' : 'ConfigMap', ref.name);
    if (!data) throw new Error(`envFrom ${ref.name}: not found`);
    for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = expand(String(entry.value), env);
      continue;
    }
    const from = entry.valueFrom;
    if (from?.fieldRef) env[entry.name] = fieldValue(from.fieldRef.fieldPath, pod, standIn);
    else if (from?.secretKeyRef || from?.configMapKeyRef) {
      const ref = (from.secretKeyRef ?? from.configMapKeyRef)!;
      const data = objectData(objects, from.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new Error(`env ${entry.name}: ${from.secretKeyRef ? 'Secret' : 'ConfigMap'} ${ref.name} key ${ref.key} not found`);
      }
      env[entry.name] = value;
    } else if (from) throw new Error(`env ${entry.name}: valueFrom ${JSON.stringify(from)} has no local stand-in`);
    else env[entry.name] = '';
  }
  return env;
}

/** The containerPort a probe (or anything naming a port) points at. */
export function resolvePort(container: ContainerSpec, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

/**
 * Rewrites `//host:port` in `value` as Service DNS would route it, using `routes`
 * (`{'inventory-redis:6379': '127.0.0.1:40123'}`); works for Sentinel URLs with several hosts too.
 */
export function reroute(value: string, routes: Record<string, string>): string {
  return value.replace(/(\/\/|,)([A-Za-z0-9.-]+:\d+)/g, (match: string, lead: string, hostPort: string) =>
    routes[hostPort] === undefined ? match : `${lead}${routes[hostPort]}`,
  );
}

/** How {@link localProcess} maps a container onto this machine. */
export interface LocalProcessOptions {
  name: string;
  /** The container's argv, e.g. `[/usr/bin/tini, --, node, /app/inventory/dist/main.js]`. */
  argv: string[];
  /** The container's environment (already resolved). */
  env: Record<string, string>;
  /** The image's WORKDIR. */
  workdir: string;
  /** The local port to listen on (a pod has its own IP; local processes need their own ports). */
  port: number;
  /** Where the image's /app is in the repository (the repository root). */
  root: string;
  /** Image path of the application (default `/app`). */
  imageRoot?: string;
  onLine?: ServiceProcessOptions['onLine'];
  onExit?: ServiceProcessOptions['onExit'];
}

/**
 * A {@link ServiceProcess} running the container's `node` command: the init process (tini) is
 * dropped (the test runner is the parent here), image paths under `/app` point into the repository,
 * and the environment is only the container's (plus PATH): nothing leaks in from the test runner.
 */
export function localProcess(options: LocalProcessOptions): ServiceProcess {
  const imageRoot = options.imageRoot ?? '/app';
  const toLocal = (path: string): string =>
    path === imageRoot || path.startsWith(`${imageRoot}/`) ? join(options.root, path.slice(imageRoot.length)) : path;
  let argv = [...options.argv];
  if (/(^|\/)tini$/.test(argv[0] ?? '')) argv = argv.slice(argv[1] === '--' ? 2 : 1);
  if (!/(^|\/)node$/.test(argv[0] ?? '')) throw new Error(`${options.name}: expected a node command, got ${JSON.stringify(options.argv)}`);
  const script = argv.findIndex((arg, i) => i > 0 && !arg.startsWith('-'));
  if (script < 0 || script !== argv.length - 1)
    throw new Error(`${options.name}: expected "node [flags] <script>", got ${JSON.stringify(options.argv)}`);
  const isolated: Record<string, string | undefined> = Object.fromEntries(Object.keys(process.env).map((key) => [key, undefined]));
  const workdir = toLocal(options.workdir);
  return new ServiceProcess({
    name: options.name,
    entry: resolve(workdir, toLocal(argv[script])),
    nodeArgs: argv.slice(1, script),
    port: options.port,
    cwd: workdir,
    env: { ...isolated, PATH: process.env.PATH, ...options.env },
    onLine: options.onLine,
    onExit: options.onExit,
  });
}
