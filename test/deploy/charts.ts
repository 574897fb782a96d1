/** Shared by the deploy tests: rendering the service charts and picking objects out of them. */
import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';
import { helmTemplate } from '@eo/tools/charts/helm';
import type { Manifest } from './support/k8s-validate';
import { findManifest, parseManifests, parseYaml, type ContainerSpec, type EnvVar, type PodTemplate } from './support/local-run';

export const root = repoRoot();
export const charts = { order: join(root, 'charts', 'order'), inventory: join(root, 'charts', 'inventory') } as const;
export type Chart = keyof typeof charts;

/** `--set` arguments from a flat map (`{'redis.url': 'redis://…'}`). */
export function sets(values: Record<string, string | number | boolean>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${String(value)}`]);
}

/** Renders a chart (release name = chart name, as in the README) and parses the manifests. */
export function render(chart: Chart, values: Record<string, string | number | boolean> = {}, extraArgs: string[] = []): Manifest[] {
  return parseManifests(helmTemplate(charts[chart], [...sets(values), ...extraArgs], chart));
}

/** A Deployment as the tests read it. */
export interface Deployment extends Manifest {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate & { spec: PodSpec } };
}

/** The pod spec fields the tests read. */
export interface PodSpec {
  containers: ContainerSpec[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{ topologyKey: string; maxSkew: number; whenUnsatisfiable: string; labelSelector: unknown }>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  volumes?: unknown[];
  [field: string]: unknown;
}

export function deployment(docs: readonly Manifest[]): Deployment {
  return findManifest<Deployment>(docs, 'Deployment');
}

/** The env entry `name` of a container (undefined when absent). */
export function envEntry(container: ContainerSpec, name: string): EnvVar | undefined {
  return container.env?.find((entry) => entry.name === name);
}

/** The `helm test` hook pod. */
export function testPod(docs: readonly Manifest[]): Manifest & { spec: PodSpec } {
  const pods = docs.filter((d) => d.kind === 'Pod' && d.metadata.annotations?.['helm.sh/hook'] === 'test');
  if (pods.length !== 1) throw new Error(`expected one helm test pod, found ${pods.length}`);
  return pods[0] as Manifest & { spec: PodSpec };
}

/**
 * NOTES.txt as `helm install` would print it. `helm template` does not render NOTES and
 * `helm install --dry-run` needs a cluster, so a copy of the chart renders it through `tpl`.
 */
export function renderNotes(chart: Chart, values: Record<string, string | number | boolean>): string {
  const dir = mkdtempSync(join(tmpdir(), 'eo-notes-'));
  try {
    const copy = join(dir, chart);
    cpSync(charts[chart], copy, { recursive: true, dereference: true });
    renameSync(join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes.txt'));
    writeFileSync(
      join(copy, 'templates', 'notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n',
    );
    const out = helmTemplate(copy, [...sets(values), '--show-only', 'templates/notes.yaml'], chart);
    return parseYaml<{ data: { notes: string } }>(out).data.notes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
