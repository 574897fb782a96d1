import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';

/** A Kubernetes object as rendered (apiVersion, kind, metadata…). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The verdict on one manifest; `errors` is empty when it is valid. */
export interface ManifestVerdict {
  kind: string;
  name: string;
  errors: string[];
}

// kubernetes-models is ESM-only, and jest's CommonJS module system cannot import() it without
// --experimental-vm-modules; a child `node` does it natively. It maps apiVersion to the model
// module (apps/v1 → kubernetes-models/apps/v1, v1 → kubernetes-models/v1) and runs the model's
// JSON-schema validation (types, enums, required fields; unknown fields are not reported).
const VALIDATOR = `
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const docs = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const verdicts = [];
for (const doc of docs) {
  const verdict = { kind: String(doc?.kind), name: String(doc?.metadata?.name), errors: [] };
  verdicts.push(verdict);
  const apiVersion = String(doc?.apiVersion ?? '');
  const module = 'kubernetes-models/' + apiVersion;
  let models;
  try {
    models = await import(module);
  } catch (error) {
    verdict.errors.push('no kubernetes-models module for apiVersion ' + apiVersion + ': ' + error.message);
    continue;
  }
  const Model = models[doc.kind];
  if (typeof Model !== 'function') {
    verdict.errors.push('kind ' + doc.kind + ' is not in ' + module);
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    const details = Array.isArray(error.errors) ? error.errors.map((e) => (e.instancePath || '/') + ' ' + e.message + (e.params ? ' ' + JSON.stringify(e.params) : '')) : [];
    verdict.errors.push(...(details.length ? details : [String(error.message ?? error)]));
  }
}
process.stdout.write(JSON.stringify(verdicts));
`;

/** Validates manifests against the Kubernetes OpenAPI schemas bundled in `kubernetes-models` (offline). */
export function validateManifests(docs: readonly Manifest[]): ManifestVerdict[] {
  const result = spawnSync(process.execPath, ['--input-type=module', '--eval', VALIDATOR], {
    // Resolves kubernetes-models from test/ (its devDependency).
    cwd: join(repoRoot(), 'test'),
    input: JSON.stringify(docs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`the manifest validator failed (exit ${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as ManifestVerdict[];
}
