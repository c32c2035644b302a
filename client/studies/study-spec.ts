/**
 * Study files (`experiments/studies/*.yaml`): a published setup as an experiment spec (`experiment:`, the
 * full published protocol), its variants (dotted-path overrides, like a grid's), the published figures, and
 * budgets (`smoke`: the same protocol with fewer rows, epochs and grid points). Expanding a study gives one
 * raw experiment spec per variant and mode, validated by the ordinary spec loader before anything runs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from '../../data/zod';
import { UlasanError } from '../../core/errors';
import { setPath } from '../grid-spec';

/** A published figure: one value, or the range the study reports. */
const FigureSchema = z.union([z.number(), z.tuple([z.number(), z.number()])]);
export type Figure = z.infer<typeof FigureSchema>;

/** Figures a study reports, by the name the results page gives them. */
export const PublishedSchema = z.strictObject({
  accuracy: FigureSchema.optional(),
  macroF1: FigureSchema.optional(),
  minorityF1: FigureSchema.optional(),
  labellingAccuracy: FigureSchema.optional(),
  seconds: FigureSchema.optional(),
});
export type Published = z.infer<typeof PublishedSchema>;

/** Dotted spec paths → values; `null` removes the field (e.g. `grid: null` for a single run). */
const OverridesSchema = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]*$/, 'a dotted spec path'), z.unknown());

export const BUDGETS = ['smoke', 'full'] as const;
export type Budget = (typeof BUDGETS)[number];

export const StudySchema = z.strictObject({
  title: z.string().min(1),
  reference: z.string().min(1),
  /** Where the reviews come from, and what the study used instead when its own data is not public. */
  data: z.string().min(1),
  /** Whether the published protocol leaked (resampled before splitting): as published then runs `mode: leaky`. */
  leaked: z.boolean(),
  notes: z.array(z.string()).default([]),
  published: z.strictObject({ text: z.string().min(1) }),
  experiment: z.record(z.string(), z.unknown()),
  variants: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -'),
        label: z.string().min(1),
        published: PublishedSchema.default({}),
        set: OverridesSchema.default({}),
      }),
    )
    .min(1),
  budgets: z.strictObject({ smoke: z.strictObject({ set: OverridesSchema.default({}), grid: z.record(z.string(), z.array(z.unknown())).optional() }) }),
});

export type Study = z.output<typeof StudySchema> & { id: string; file: string };

export const MODES = ['as-published', 'honest'] as const;
export type StudyMode = (typeof MODES)[number];

/** One run of a study: a variant in a mode, as a raw experiment spec (paths resolved against the study file). */
export interface StudyRun {
  study: string;
  variant: string;
  mode: StudyMode;
  raw: Record<string, unknown>;
}

/** Reads and validates one study file; its id is the file name without `.yaml`. */
export async function readStudy(file: string): Promise<Study> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new UlasanError('NotFound', `Study file ${file} cannot be read.`, { file }, { cause: err });
  });
  const parsed = StudySchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new UlasanError('BadInput', `Invalid study file ${file}:\n${lines.join('\n')}`, { file });
  }
  return { ...parsed.data, id: basename(file, '.yaml'), file: resolve(file) };
}

/** The study files of a folder, in name order, or those named (by id or by the part after the number). */
export async function readStudies(dir: string, names: readonly string[] = []): Promise<Study[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const ids = files.map((f) => basename(f, '.yaml'));
  const unknown = names.filter((name) => !ids.some((id) => matches(id, name)));
  if (unknown.length > 0) {
    throw new UlasanError('BadInput', `No study named ${unknown.join(', ')} in ${dir}; known: ${ids.join(', ')}.`, { file: dir, field: 'studies' });
  }
  const chosen = names.length === 0 ? files : files.filter((_, i) => names.some((name) => matches(ids[i]!, name)));
  return Promise.all(chosen.map((f) => readStudy(join(dir, f))));
}

/** `1`, `halodoc-cnn-bilstm` and `1-halodoc-cnn-bilstm` all name the same study. */
const matches = (id: string, name: string): boolean => id === name || id.split('-')[0] === name || id.slice(id.indexOf('-') + 1) === name;

/** `setPath` on a study's own copy of the spec, where `null` removes the field (`grid: null` turns a grid into one run). */
function override(target: Record<string, unknown>, path: string, value: unknown): void {
  if (value !== null) return setPath(target, path, structuredClone(value));
  const parts = path.split('.');
  const last = parts.pop()!;
  let node = target;
  for (const part of parts) {
    if (typeof node[part] !== 'object' || node[part] === null) return;
    node = node[part] as Record<string, unknown>;
  }
  delete node[last];
}

/** Modes a study runs: as published (leaky where it leaked) and honest; one run when the protocol did not leak. */
export const modesOf = (study: Study): StudyMode[] => (study.leaked ? ['as-published', 'honest'] : ['honest']);

/** Every run of a study under a budget, in variant order; source paths resolved against the study file. */
export function expandStudy(study: Study, budget: Budget): StudyRun[] {
  return study.variants.flatMap((variant) =>
    modesOf(study).map((mode) => {
      const raw = structuredClone(study.experiment);
      for (const [path, value] of Object.entries(variant.set)) override(raw, path, value);
      if (budget === 'smoke') {
        for (const [path, value] of Object.entries(study.budgets.smoke.set)) override(raw, path, value);
        const grid = raw.grid as { values?: Record<string, unknown[]> } | undefined;
        if (grid && study.budgets.smoke.grid) grid.values = { ...grid.values, ...study.budgets.smoke.grid };
      }
      raw.mode = mode === 'as-published' && study.leaked ? 'leaky' : 'honest';
      raw.name = `${String(raw.name)}-${variant.id}-${mode}${budget === 'smoke' ? '-smoke' : ''}`;
      const source = raw.source as { file?: unknown } | undefined;
      if (typeof source?.file === 'string') raw.source = { ...source, file: resolve(dirname(study.file), source.file) };
      return { study: study.id, variant: variant.id, mode, raw };
    }),
  );
}
