/** Writing a small file so that no reader ever sees half of it. */
import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes `text` beside `path` under a name of this process's own and renames it into place: a reader sees the old
 * file or the new one, and two processes writing at once never share a temp file.
 */
export async function writeFileWhole(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}
