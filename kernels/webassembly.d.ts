/**
 * The part of the WebAssembly JavaScript API that kernels/wat.ts and its callers use. Node has it all at runtime, but
 * this project compiles against lib ES2022 without DOM, whose typings are where TypeScript declares it.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  type ImportValue = Memory | ((...args: number[]) => number | void) | number;
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
}
