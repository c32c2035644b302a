/**
 * zod for the whole project, from its CommonJS build. Under tsx, Node's ESM loader makes a round trip to the
 * loader thread for every module, and zod's ESM entry is 95 modules (every locale included), a large part of a
 * cache-hit run's start-up; `require` loads the same API in-thread. Same API, same types.
 */
import { createRequire } from 'node:module';
import type * as zod from 'zod';

export const z: typeof zod.z = (createRequire(import.meta.url)('zod') as typeof zod).z;

/* eslint-disable @typescript-eslint/no-namespace -- zod's `z` is a namespace of types as well as values */
/** The type-level part of zod's `z` namespace that the project uses. */
export declare namespace z {
  export type infer<T> = zod.z.infer<T>;
  export type input<T> = zod.z.input<T>;
  export type output<T> = zod.z.output<T>;
  export type ZodType<Output = unknown, Input = unknown> = zod.z.ZodType<Output, Input>;
  export type ZodObject = zod.z.ZodObject;
  export type ZodError = zod.z.ZodError;
  export namespace core {
    export type $ZodIssue = zod.z.core.$ZodIssue;
  }
}
/* eslint-enable @typescript-eslint/no-namespace */
