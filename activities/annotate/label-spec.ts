/**
 * The `label:` section of an experiment spec, validated with zod, and its resolution into the
 * annotate stage's params. Every check that can fail here fails before any work starts, naming the
 * field (`label.rule`, `label.windows`, `label.trainWindow`, `label.mergeInto`).
 */
import { z } from '../../data/zod';
import { badInput, UlasanError } from '../../core/errors';
import { BUILTIN_LABEL_RULES, LabelRuleSpecSchema, RATINGS, resolveLabelRule, type LabelRule, type Rating } from './rules';
import { DateWindowsSchema, parseDateWindows } from './windows';

/** The name of the table holding every labelled row, whatever the windows; no window may take it. */
export const ALL_ROWS = 'all';

export const LabelSpecSchema = z
  .strictObject({
    /**
     * A built-in rule (`binary`, `ternary`, `five`), a pinned version (`{name: ternary, version: 1}`)
     * or a custom mapping (`{name: harsh, mapping: {1: negative, 2: negative, 3: negative, 4: positive, 5: positive}}`).
     * @default 'binary'
     */
    rule: LabelRuleSpecSchema.default('binary'),
    /**
     * Named date windows, e.g. `{during: '2020-03-01..2022-05-15', after: '2022-05-16..'}`; each gives
     * its own labelled table (`labelled-<name>.parquet`) and label statistics.
     * @default no windows
     */
    windows: DateWindowsSchema.optional(),
    /** The window whose table the pipeline trains on (`labelled.parquet`). @default all rows */
    trainWindow: z.string().optional(),
    /** A class with fewer rows than this in a table is dropped or merged (reported). 0: off. @default 0 */
    minClassSize: z.number().int().nonnegative().default(0),
    /** What happens to a class under `minClassSize`. @default 'drop' */
    smallClasses: z.enum(['drop', 'merge']).default('drop'),
    /** Explicit merge targets, class → class (e.g. `{neutral: negative}`); else the smaller neighbour. @default {} */
    mergeInto: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((label, ctx) => {
    const issue = (path: string, err: unknown): void => {
      ctx.addIssue({ code: 'custom', path: [path], message: err instanceof UlasanError ? err.message : String(err) });
    };
    let rule: LabelRule | undefined;
    try {
      rule = resolveLabelRule(label.rule);
    } catch (err) {
      issue('rule', err);
    }
    let names: string[] = [];
    if (label.windows !== undefined) {
      try {
        names = parseDateWindows(label.windows).map((w) => w.name);
      } catch (err) {
        issue('windows', err);
      }
      if (names.includes(ALL_ROWS)) issue('windows', `'${ALL_ROWS}' names the table of all rows; give the window another name`);
    }
    if (label.trainWindow !== undefined && !names.includes(label.trainWindow)) {
      const known = names.length > 0 ? `one of ${names.join(', ')}` : 'a window, but label.windows defines none';
      issue('trainWindow', `'${label.trainWindow}' must name ${known}`);
    }
    if (rule) {
      for (const [from, into] of Object.entries(label.mergeInto)) {
        if (!rule.classes.includes(from) || !rule.classes.includes(into) || from === into) {
          issue('mergeInto', `${from} → ${into}: both must be different classes of rule ${rule.id} (${rule.classes.join(', ')})`);
        }
      }
    }
  });

export type LabelSpec = z.output<typeof LabelSpecSchema>;

/** A rule as the annotate stage's params hold it (and so its key): every star's class index. */
export interface LabelRuleParams {
  name: string;
  version: number;
  /** Class names; a label is an index into this list. */
  classes: readonly string[];
  /** Per star, the class index, or null when the rule drops the review. */
  byRating: Readonly<Record<Rating, number | null>>;
}

export const ruleParams = (rule: LabelRule): LabelRuleParams => ({
  name: rule.name,
  version: rule.version,
  classes: [...rule.classes],
  byRating: { ...rule.indexOfRating },
});

/**
 * The rule back from the params (a manifest's, for `ulasan verify`). A built-in name must still mean
 * what the params say: a mismatch means the params were not made by `ruleParams`, and is refused.
 */
export function ruleFromParams(params: LabelRuleParams): LabelRule {
  const indexOf = (r: Rating): number | null => params.byRating[r] ?? null;
  const builtin = Object.keys(BUILTIN_LABEL_RULES).includes(params.name);
  const mapping = Object.fromEntries(RATINGS.map((r) => [String(r), params.classes[indexOf(r) ?? -1] ?? null]));
  const rule = resolveLabelRule(
    builtin ? { name: params.name, version: params.version } : { name: params.name, version: params.version, mapping, classes: [...params.classes] },
  );
  const same = JSON.stringify(rule.classes) === JSON.stringify(params.classes) && RATINGS.every((r) => rule.indexOfRating[r] === indexOf(r));
  if (!same) {
    throw badInput(
      `label rule ${rule.id} maps ${JSON.stringify(ruleParams(rule))}, but the annotate params say ${JSON.stringify(params)}; build them with ruleParams()`,
      { stage: 'annotate', field: 'rule' },
    );
  }
  return rule;
}
