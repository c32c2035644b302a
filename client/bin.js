#!/usr/bin/env node
// `ulasan` / `npx ulasan`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
