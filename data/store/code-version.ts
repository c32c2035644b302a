import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The code version recorded in manifests: package version plus git commit (with `+dirty` when the
 * tree has changes). Recorded for auditors, deliberately not part of artifact keys: a refactor
 * that changes no stage's behaviour must not invalidate the cache (bump the stage version instead).
 */
export function codeVersion(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  cached = `${pkg.version}+${gitDescribe()}`;
  return cached;
}

function gitDescribe(): string {
  try {
    const options = { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[] };
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], options).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], options).toString().trim();
    return dirty ? `${commit}.dirty` : commit;
  } catch {
    return 'nogit';
  }
}
