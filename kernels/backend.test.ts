import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { UlasanError } from '../core/errors';
import { BACKEND_ENV, selectBackend, type TfBackendName } from './backend';

/** A loader where only the named backends start; records what was tried. */
function fakeLoader(working: TfBackendName[]) {
  const tried: TfBackendName[] = [];
  const load = async (name: TfBackendName) => {
    tried.push(name);
    if (!working.includes(name)) throw new Error(`Cannot find module '@tensorflow/${name}'\nRequire stack: ...`);
  };
  return { tried, load };
}

describe('selectBackend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('tries tfjs-node-gpu, tfjs-node, wasm, cpu in order and records why each was skipped', async () => {
    const { tried, load } = fakeLoader(['wasm', 'cpu']);
    const chosen = await selectBackend(undefined, { env: {}, load });
    expect(chosen.name).toBe('wasm');
    expect(tried).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm']);
    expect(chosen.skipped).toEqual([
      "tfjs-node-gpu: Cannot find module '@tensorflow/tfjs-node-gpu'",
      "tfjs-node: Cannot find module '@tensorflow/tfjs-node'",
    ]);
  });

  it('lets ULASAN_TF_BACKEND force a backend, over the preferred one', async () => {
    const { tried, load } = fakeLoader(['cpu', 'wasm']);
    const chosen = await selectBackend('wasm', { env: { [BACKEND_ENV]: 'cpu' }, load });
    expect(chosen.name).toBe('cpu');
    expect(tried).toEqual(['cpu']);
  });

  it('fails, with the reason, when the forced backend cannot start', async () => {
    const { load } = fakeLoader(['cpu']);
    const forced = selectBackend(undefined, { env: { [BACKEND_ENV]: 'tfjs-node' }, load });
    await expect(forced).rejects.toThrow(UlasanError);
    await expect(selectBackend(undefined, { env: { [BACKEND_ENV]: 'tfjs-node' }, load })).rejects.toThrow(
      /'tfjs-node' was requested \(ULASAN_TF_BACKEND\) but cannot start: Cannot find module/,
    );
  });

  it('rejects an unknown backend name', async () => {
    await expect(selectBackend(undefined, { env: { [BACKEND_ENV]: 'webgpu' } })).rejects.toThrow(
      /ULASAN_TF_BACKEND='webgpu' is not a backend; use one of tfjs-node-gpu, tfjs-node, wasm, cpu/,
    );
  });

  it('really starts the first available backend: wasm with its training kernels where libtensorflow is missing', async () => {
    const native = ['tfjs-node-gpu', 'tfjs-node'];
    const nativeLoads = await Promise.all(native.map((name) => import(`@tensorflow/${name}`).then(() => true, () => false)));
    const chosen = await selectBackend(undefined, { env: {} });
    expect(chosen.name).toBe(native.find((_, i) => nativeLoads[i]) ?? 'wasm');
    if (chosen.name !== 'wasm') return; // a machine with libtensorflow installed
    expect(chosen.tf.getBackend()).toBe('wasm');
    expect(chosen.skipped.map((s) => s.split(':')[0])).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });
});
