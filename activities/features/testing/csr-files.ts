/** Test helper: CSR matrices in files (the stages go through partition.ts, which reads the layout from the file). */
import { writeFile } from 'node:fs/promises';
import { csrFromIPC, csrToIPC, readAligned, type ArrowMetadata, type CsrWithRows } from '../arrow-io';

export async function writeCsr(path: string, matrix: CsrWithRows, metadata?: ArrowMetadata): Promise<void> {
  await writeFile(path, csrToIPC(matrix, metadata));
}

export async function readCsr(path: string): Promise<CsrWithRows & { metadata: ArrowMetadata }> {
  return csrFromIPC(await readAligned(path), path);
}
