/**
 * Hand-written WebAssembly kernels, kept as readable WebAssembly text (`.wat`) beside the code that calls them and
 * assembled at first use with wabt's own assembler (the `wabt` package). Nothing binary is committed, and the
 * kernels use 128-bit SIMD, which the JavaScript JIT does not emit for typed-array loops.
 *
 * Assembly is asynchronous (wabt is itself a wasm module); instantiation is synchronous, so a caller prepares the
 * module once (`loadWatModule`) and instantiates it wherever it needs it, worker threads included.
 */
import { readFile } from 'node:fs/promises';
import type wabtInit from 'wabt';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

const modules = new Map<string, Promise<WebAssembly.Module>>();
/** Loaded on first use: wabt is 0.7 MB of JavaScript that runs which never assemble a kernel should not parse. */
let wabt: Promise<Wabt> | undefined;

/** Assembles and compiles the `.wat` file at `url` once per process; later calls share the module. */
export function loadWatModule(url: URL): Promise<WebAssembly.Module> {
  const key = url.href;
  let module = modules.get(key);
  if (module === undefined) {
    module = assemble(url);
    modules.set(key, module);
    // A failed assembly is not cached: the next caller retries and sees the error itself.
    module.catch(() => modules.delete(key));
  }
  return module;
}

async function assemble(url: URL): Promise<WebAssembly.Module> {
  wabt ??= import('wabt').then(({ default: init }) => init());
  const [tools, text] = await Promise.all([wabt, readFile(url, 'utf8')]);
  const parsed = tools.parseWat(url.pathname, text, { simd: true });
  try {
    parsed.resolveNames();
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    return new WebAssembly.Module(buffer);
  } finally {
    parsed.destroy();
  }
}
