import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInput, classifyError, UlasanError } from './errors';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-errors-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What Node throws for a failed syscall (the shape of a real EACCES / ENOSPC, which root cannot provoke here). */
const systemError = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: failure, ${syscall} '${path}'`), { code, errno: -1, syscall, path });

const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err);

describe('classifyError', () => {
  it.each([
    ['EACCES', 'mkdir', 'permission denied (EACCES on mkdir). Make it writable by this user, or point ULASAN_HOME'],
    ['EROFS', 'open', 'read-only file system (EROFS on open). Make it writable'],
    ['ENOSPC', 'write', 'no space left on the device (ENOSPC on write). Free some space there'],
  ])('%s is an Environment failure naming the path, never retried', (code, syscall, message) => {
    const typed = classifyError(systemError(code, syscall, '/store/.tmp'), { stage: 'clean', key: 'k1' }) as UlasanError;
    expect(typed).toBeInstanceOf(UlasanError);
    expect(typed).toMatchObject({ type: 'Environment', retryable: false, context: { stage: 'clean', key: 'k1', file: '/store/.tmp' } });
    expect(typed.message).toContain(`/store/.tmp: ${message}`);
    expect(typed.message).toMatch(/ULASAN_HOME at a store that is writable; nothing half-written was kept in the store\.$/);
  });

  it('a busy or flaky device is Transient, retried', () => {
    expect(classifyError(systemError('EIO', 'read', '/x'))).toMatchObject({ type: 'Transient', retryable: true });
  });

  it('a directory where a file belongs, and a missing file, name the path (real syscalls)', async () => {
    expect(classifyError(await caught(readFile(dir)), { file: dir })).toMatchObject({ type: 'BadInput', message: `${dir} is a directory, not a file.` });
    const missing = join(dir, 'nope.csv');
    expect(classifyError(await caught(readFile(missing)))).toMatchObject({ type: 'NotFound', message: `${missing} does not exist.` });
  });

  it('anything unexpected is Internal: a bug, named with its stage and artifact, not retried', () => {
    const typed = classifyError(new TypeError("Cannot read properties of undefined (reading 'x')"), { stage: 'features', key: 'abc' }) as UlasanError;
    expect(typed).toMatchObject({ type: 'Internal', retryable: false });
    expect(typed.message).toMatch(/^Internal error in stage features, artifact abc: Cannot read .*This is a bug in ulasan.*inputs stay in the store/);
  });

  it('a typed error keeps its type and gains the context it lacked', () => {
    const error = badInput('bad rating', { field: 'rating' });
    expect(classifyError(error, { stage: 'import', field: 'other' })).toBe(error);
    expect(error.context).toEqual({ field: 'rating', stage: 'import' });
  });

  it('a typed failure wrapped by Temporal (workflow → activity → application failure) comes out with its type', () => {
    const application = Object.assign(new Error('No text column found in x.csv'), { type: 'BadInput' });
    const workflow = new Error('Workflow execution failed', { cause: new Error('Activity task failed', { cause: application }) });
    expect(classifyError(workflow)).toMatchObject({ type: 'BadInput', message: 'No text column found in x.csv' });
  });

  it('a cancellation passes unchanged', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(classifyError(abort)).toBe(abort);
  });
});
