/**
 * `npm run helm -- <args>`: helm from PATH, or the Helm 3 bundled in a devDependency (see
 * {@link helmBinary}), run from the repository root. `npm run helm -- lint --strict charts/inventory`.
 */
import { spawnSync } from 'node:child_process';
import { repoRoot } from '@eo/local';
import { helmBinary } from './helm';

const root = repoRoot(__dirname);
const result = spawnSync(helmBinary(root), process.argv.slice(2), { cwd: process.env.INIT_CWD ?? root, stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
