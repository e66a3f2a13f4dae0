/**
 * The one runner of git: what `hrank diff` needs (check a revision, read a file at a revision,
 * list the lock files that differ between two revisions) and a file's commit for provenance. Runs the `git` executable; every failure a
 * user can cause (not a repository, no such revision) is a `GitError` with git's own words.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export class GitError extends Error {
  override readonly name = 'GitError';
}

interface ExecFailure {
  readonly code?: number | string;
  readonly stderr?: string;
  readonly message: string;
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await exec('git', ['-C', cwd, ...args], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as ExecFailure;
    if (e.code === 'ENOENT') throw new GitError('git is not installed (or not on PATH)');
    const text = (e.stderr ?? e.message).trim().replace(/^fatal: /, '');
    throw new GitError(text || `git ${args.join(' ')} failed`);
  }
}

/** The commit a revision names (`HEAD`, `main~2`, a tag, a hash); a `GitError` when it names none. */
export async function resolveRevision(cwd: string, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw new GitError(`not a git revision: ${rev}`);
  await git(cwd, ['rev-parse', '--show-toplevel']).catch((err: GitError) => {
    throw new GitError(`${path.resolve(cwd)} is not in a git repository (${err.message})`);
  });
  try {
    return (await git(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim();
  } catch {
    throw new GitError(`not a git revision: ${rev}`);
  }
}

/**
 * A file's text at a revision, or null when the file does not exist there. `file` is a path on
 * disk (absolute or relative to the current folder); git is run in its folder.
 */
export async function showAtRevision(rev: string, file: string): Promise<string | null> {
  const dir = path.dirname(path.resolve(file));
  try {
    return await git(dir, ['show', `${rev}:./${path.basename(file)}`]);
  } catch (err) {
    const message = (err as Error).message;
    if (/does not exist in|exists on disk, but not in/.test(message)) return null;
    throw err;
  }
}

/**
 * Lock files under `cwd` that differ between `revA` and `revB` (null: the working tree, where
 * untracked lock files count as added), as paths relative to `cwd`, sorted.
 */
export async function changedLockFiles(cwd: string, revA: string, revB: string | null): Promise<string[]> {
  const range = revB === null ? [revA] : [revA, revB];
  const changed = (await git(cwd, ['diff', '--name-only', '--relative', ...range, '--', '*.lock.json'])).split('\n');
  const untracked = revB === null ? (await git(cwd, ['ls-files', '--others', '--exclude-standard', '--', '*.lock.json'])).split('\n') : [];
  return [...new Set([...changed, ...untracked].filter((l) => l.trim() !== ''))].sort();
}

/** The last commit of a file and whether it has changes since; null outside git (or without git). */
export async function gitInfo(file: string): Promise<{ commit: string; dirty: boolean } | null> {
  const dir = path.dirname(path.resolve(file));
  try {
    const commit = (await git(dir, ['log', '-1', '--format=%H', '--', path.resolve(file)])).trim();
    if (!commit) return null;
    const status = await git(dir, ['status', '--porcelain', '--', path.resolve(file)]);
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return null;
  }
}
