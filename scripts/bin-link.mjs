// Makes `npx hrank` run the built CLI at once, from the first call: marks dist/src/cli/main.js
// executable (tsc writes it 0644) and links it as node_modules/.bin/hrank.
//
// Why the link, and why package.json declares no `bin`: when the project's own package.json has
// a bin named `hrank`, `npx hrank` installs the project into npx's cache first "so that its bin
// links get set up" (libnpmexec), which reruns `prepare` (a full build, ~15 s) on the first call
// and costs ~0.6 s on every later one. Without that entry, npx finds node_modules/.bin/hrank and
// runs it directly, from any folder of the project. Run by `prepare` and `build`.
import { chmodSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist', 'src', 'cli', 'main.js');
chmodSync(main, 0o755);

const binDir = path.join(root, 'node_modules', '.bin');
const link = path.join(binDir, 'hrank');
const target = path.relative(binDir, main);
mkdirSync(binDir, { recursive: true });
let current;
try {
  const st = lstatSync(link);
  current = st.isSymbolicLink() ? readlinkSync(link) : null;
} catch {
  current = undefined; // no such file
}
if (current === null) {
  // A file of someone else's: never replaced.
  console.warn(`note: ${link} exists and is not hrank's link; left alone (run the CLI with node ${path.relative(process.cwd(), main)})`);
} else if (current !== target) {
  if (current !== undefined) unlinkSync(link);
  symlinkSync(target, link);
}
