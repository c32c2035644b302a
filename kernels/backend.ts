/**
 * Chooses the TensorFlow.js backend once per process: tfjs-node-gpu, else tfjs-node, else wasm, else cpu.
 *
 * The native packages are optional dependencies that download libtensorflow at install time; where that failed
 * they are absent or their import throws, and the next candidate is tried. The reasons are kept, so the manifest
 * can say why a run trained on wasm. `ULASAN_TF_BACKEND` forces one backend and fails if it cannot start.
 *
 * Errors stay inside promises: once the wasm module starts it installs process-level uncaughtException and
 * unhandledRejection handlers that rethrow.
 */
import * as tf from '@tensorflow/tfjs';
import { UlasanError } from '../core/errors';

export const TF_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TfBackendName = (typeof TF_BACKENDS)[number];

export interface TfBackend {
  /** What trained the model, for the manifest. */
  name: TfBackendName;
  /** The tfjs namespace with that backend active. */
  tf: typeof tf;
  /** Why each earlier candidate was skipped, e.g. "tfjs-node: Cannot find module ...". */
  skipped: string[];
}

export const BACKEND_ENV = 'ULASAN_TF_BACKEND';

/** Loads a backend's package and makes it active; throws why it cannot. Replaceable in tests. */
export type BackendLoader = (name: TfBackendName) => Promise<void>;

/**
 * Selects and activates a backend. `preferred` (or `ULASAN_TF_BACKEND`, which wins) forces one; otherwise the first
 * that starts in the order above.
 */
export async function selectBackend(
  preferred?: TfBackendName,
  options: { env?: NodeJS.ProcessEnv; load?: BackendLoader } = {},
): Promise<TfBackend> {
  const env = options.env ?? process.env;
  const load = options.load ?? loadBackend;
  const forced = parseForced(env[BACKEND_ENV]) ?? preferred;
  if (forced !== undefined) {
    try {
      await load(forced);
    } catch (err) {
      throw new UlasanError(
        'BadInput',
        `TensorFlow.js backend '${forced}' was requested (${env[BACKEND_ENV] ? BACKEND_ENV : 'preferred'}) but cannot ` +
          `start: ${reason(err)}. Unset ${BACKEND_ENV} to fall back automatically, or install the backend.`,
        { field: BACKEND_ENV },
        { cause: err },
      );
    }
    return { name: forced, tf, skipped: [] };
  }
  const skipped: string[] = [];
  for (const name of TF_BACKENDS) {
    try {
      await load(name);
      return { name, tf, skipped };
    } catch (err) {
      skipped.push(`${name}: ${reason(err)}`);
    }
  }
  throw new UlasanError('Internal', `no TensorFlow.js backend could start: ${skipped.join('; ')}`);
}

function parseForced(value: string | undefined): TfBackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((TF_BACKENDS as readonly string[]).includes(value)) return value as TfBackendName;
  throw new UlasanError(
    'BadInput',
    `${BACKEND_ENV}='${value}' is not a backend; use one of ${TF_BACKENDS.join(', ')}`,
    { field: BACKEND_ENV },
  );
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

/** Imports the package (native ones register the 'tensorflow' backend) and activates the backend. */
async function loadBackend(name: TfBackendName): Promise<void> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      // Variable specifiers: the packages are optional and usually absent, so neither tsc nor bundlers resolve them.
      await import(`@tensorflow/${name}`);
      await activate('tensorflow');
      return;
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm');
      await activate('wasm');
      const { registerTrainingKernels } = await import('./training-kernels');
      registerTrainingKernels();
      const { prepareHeapSimd } = await import('./heap-simd');
      await prepareHeapSimd();
      return;
    }
    case 'cpu':
      await activate('cpu');
      return;
  }
}

async function activate(backend: string): Promise<void> {
  const ok = await tf.setBackend(backend);
  if (!ok || tf.getBackend() !== backend) throw new Error(`tf.setBackend('${backend}') did not activate it`);
  await tf.ready();
}
