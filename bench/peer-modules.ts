/**
 * The Python modules each benchmark's peer imports (bench/peers/*.py, run with /usr/bin/python3), and
 * the Debian packages that carry them, so `npm run bench -- <name>` can say what to install before it
 * starts instead of dying mid-run with ModuleNotFoundError.
 */
import { spawnSync } from 'node:child_process';

export const PEER_PYTHON = '/usr/bin/python3';

/** Module → Debian package (the versions the peers were measured with: Debian 12's). */
const PACKAGES: Record<string, string> = {
  numpy: 'python3-numpy',
  scipy: 'python3-scipy',
  pandas: 'python3-pandas',
  sklearn: 'python3-sklearn',
  imblearn: 'python3-imblearn',
  gensim: 'python3-gensim',
  torch: 'python3-torch',
};

/** Modules per benchmark; benchmarks absent here have no Python peer. */
export const PEER_MODULES: Record<string, readonly (keyof typeof PACKAGES)[]> = {
  clean: ['pandas'],
  resample: ['numpy', 'scipy', 'sklearn', 'imblearn'],
  train: ['torch'],
  word2vec: ['numpy', 'gensim', 'sklearn'],
};

/** The modules of `bench`'s peer that `python` cannot import. */
export function missingPeerModules(bench: string, python = PEER_PYTHON): string[] {
  const modules = PEER_MODULES[bench] ?? [];
  if (modules.length === 0) return [];
  const probe = 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))';
  const run = spawnSync(python, ['-c', probe, ...modules], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return [...modules]; // no Python at all: every module is missing
  return run.stdout.trim().split(/\s+/).filter(Boolean);
}

/** What to tell the user when modules are missing (undefined: nothing is). */
export function peerInstallAdvice(bench: string, missing: readonly string[], python = PEER_PYTHON): string | undefined {
  if (missing.length === 0) return undefined;
  const packages = missing.map((m) => PACKAGES[m] ?? `python3-${m}`);
  return (
    `bench ${bench}: its peer (bench/peers/${bench}.py) needs the Python module${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, ` +
    `which ${python} cannot import. Install them with (as root):\n  apt-get install -y ${packages.join(' ')}`
  );
}
