// Marks the built `bin` files of package.json executable. tsc writes them 0644, and `npx hrank`
// in this package's own folder runs dist/src/cli/main.js directly (npm links no bin for the root
// package), which the shell refuses without the execute bit. Run by `prepare` and `build`.
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { bin } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const file of Object.values(typeof bin === 'string' ? { bin } : bin ?? {})) chmodSync(path.join(root, file), 0o755);
