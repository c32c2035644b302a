import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missingPeerModules, PEER_MODULES, PEER_PYTHON, peerInstallAdvice } from './peer-modules';

describe('peer modules of the benchmarks', () => {
  it('without Python, every module of a peer is missing, and the advice is the exact apt-get line', () => {
    const missing = missingPeerModules('resample', '/nonexistent/python3');
    expect(missing).toEqual(['numpy', 'scipy', 'sklearn', 'imblearn']);
    expect(peerInstallAdvice('resample', missing, '/nonexistent/python3')).toBe(
      'bench resample: its peer (bench/peers/resample.py) needs the Python modules numpy, scipy, sklearn, imblearn, which /nonexistent/python3 ' +
        'cannot import. Install them with (as root):\n  apt-get install -y python3-numpy python3-scipy python3-sklearn python3-imblearn',
    );
  });

  it('a benchmark with no Python peer needs nothing', () => {
    expect(missingPeerModules('cache')).toEqual([]);
    expect(peerInstallAdvice('cache', [])).toBeUndefined();
  });

  it('reports exactly the modules this machine cannot import', () => {
    for (const [bench, modules] of Object.entries(PEER_MODULES)) {
      const missing = missingPeerModules(bench);
      for (const module of modules) {
        const imports = spawnSync(PEER_PYTHON, ['-c', `import ${module}`]).status === 0;
        expect(missing.includes(module), `${bench}: ${module}`).toBe(!imports);
      }
    }
  });
});
