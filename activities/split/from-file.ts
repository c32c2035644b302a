/**
 * A split loaded from a file of row indices, so results can be compared with the peer on identical
 * rows. The format is the peer's (`../shared/peer/results/*.split.json`):
 * `{ "train_row_ids": [...], "test_row_ids": [...] }` (optionally `val_row_ids`), each id a 0-based
 * data row of the source file (header excluded), which is import's `source_row`.
 */
import { readFile } from 'node:fs/promises';
import { z } from '../../data/zod';
import { sha256Hex } from '../../data/canonical';
import { badInput, notFound } from '../../core/errors';
import { assignSplits, type SplitName, type SplitRow } from './stratified';

const RowIds = z.array(z.number().int().nonnegative());

export const SplitFileSchema = z.looseObject({
  train_row_ids: RowIds,
  test_row_ids: RowIds,
  val_row_ids: RowIds.optional(),
});

/** A split file, read and checked. */
export interface SplitFile {
  path: string;
  sha256: string;
  /** source_row → split. */
  byRow: Map<number, SplitName>;
  /** Ids listed per split. */
  listed: Record<SplitName, number>;
  hasVal: boolean;
}

/** Reads and checks a split file: valid JSON of the peer format, no row listed twice. */
export async function readSplitFile(path: string): Promise<SplitFile> {
  const bytes = await readFile(path).catch((err: unknown) => {
    const context = { stage: 'split', file: path, field: 'split.file' };
    throw notFound(`split file ${path} cannot be read (${(err as Error).message}); check split.file`, context);
  });
  return parseSplitFile(path, bytes);
}

export function parseSplitFile(path: string, bytes: Uint8Array): SplitFile {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw badInput(`split file ${path} is not JSON: ${(err as Error).message}`, { stage: 'split', file: path });
  }
  const parsed = SplitFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw badInput(`split file ${path} is not {train_row_ids, test_row_ids[, val_row_ids]} of row indices: ${issues}`, {
      stage: 'split',
      file: path,
    });
  }
  const lists: [SplitName, number[]][] = [
    ['train', parsed.data.train_row_ids],
    ['val', parsed.data.val_row_ids ?? []],
    ['test', parsed.data.test_row_ids],
  ];
  const byRow = new Map<number, SplitName>();
  for (const [split, ids] of lists) {
    for (const id of ids) {
      const other = byRow.get(id);
      if (other !== undefined) {
        const message = `split file ${path}: row ${id} is listed in ${other}_row_ids and again in ${split}_row_ids`;
        throw badInput(message, { stage: 'split', file: path, row: id });
      }
      byRow.set(id, split);
    }
  }
  const listed = Object.fromEntries(lists.map(([split, ids]) => [split, ids.length])) as Record<SplitName, number>;
  return { path, sha256: sha256Hex(bytes), byRow, listed, hasVal: parsed.data.val_row_ids !== undefined };
}

export interface SourceRow extends SplitRow {
  sourceRow: number;
}

export interface FromFileAssignment {
  splits: (SplitName | null)[];
  reasons: (string | null)[];
  /** Listed ids with no row in the table, with the split that listed them, in id order. */
  absent: { sourceRow: number; listedIn: SplitName }[];
  /** Rows of the table the file does not list. */
  notListed: number;
}

/**
 * Each row goes where the file lists it; rows it does not list are left out with the reason. With
 * `valShare` > 0 and no `val_row_ids` in the file, validation rows are carved from the listed train
 * rows (stratified, duplicate-aware); test rows are never touched.
 */
export function assignFromFile(rows: readonly SourceRow[], file: SplitFile, valShare: number, seed: number): FromFileAssignment {
  const splits = rows.map((row) => file.byRow.get(row.sourceRow) ?? null);
  const reasons = splits.map((split) => (split === null ? 'not listed in the split file' : null));
  if (valShare > 0 && !file.hasVal) {
    const train = [...rows.keys()].filter((i) => splits[i] === 'train');
    const carved = assignSplits(
      train.map((i) => rows[i]!),
      { train: 1 - valShare, val: valShare, test: 0 },
      seed,
    );
    train.forEach((row, k) => (splits[row] = carved.splits[k]!));
  }
  const present = new Set(rows.map((row) => row.sourceRow));
  const absent = [...file.byRow.entries()]
    .filter(([id]) => !present.has(id))
    .map(([sourceRow, listedIn]) => ({ sourceRow, listedIn }))
    .sort((a, b) => a.sourceRow - b.sourceRow);
  return { splits, reasons, absent, notListed: reasons.filter((r) => r !== null).length };
}
