import { z } from '../../data/zod';
import { badInput } from '../../core/errors';

/** A review's star rating. */
export type Rating = 1 | 2 | 3 | 4 | 5;
export const RATINGS: readonly Rating[] = [1, 2, 3, 4, 5];

/** Which way a class leans, for the label-noise estimate. */
export type Polarity = 'negative' | 'neutral' | 'positive';

/** rating → class name, or null for "not labelled" (the row is dropped by the rule). */
type Mapping = Readonly<Record<Rating, string | null>>;

interface BuiltinVersion {
  readonly mapping: Mapping;
  readonly classes: readonly string[];
}

/**
 * The built-in rules, by name and version. A version never changes once published: a different
 * mapping is a new version, so the rule name and version in an artifact key pin the labels.
 */
export const BUILTIN_LABEL_RULES: Readonly<Record<'binary' | 'ternary' | 'five', Readonly<Record<number, BuiltinVersion>>>> = {
  /** 1–2 negative, 4–5 positive, 3 dropped. */
  binary: {
    1: {
      mapping: { 1: 'negative', 2: 'negative', 3: null, 4: 'positive', 5: 'positive' },
      classes: ['negative', 'positive'],
    },
  },
  /** 1–2 negative, 3 neutral, 4–5 positive. */
  ternary: {
    1: {
      mapping: { 1: 'negative', 2: 'negative', 3: 'neutral', 4: 'positive', 5: 'positive' },
      classes: ['negative', 'neutral', 'positive'],
    },
  },
  /** Each star its own class. */
  five: {
    1: {
      mapping: { 1: '1', 2: '2', 3: '3', 4: '4', 5: '5' },
      classes: ['1', '2', '3', '4', '5'],
    },
  },
};

type BuiltinName = keyof typeof BUILTIN_LABEL_RULES;
const BUILTIN_NAMES = Object.keys(BUILTIN_LABEL_RULES) as BuiltinName[];
const isBuiltin = (name: string): name is BuiltinName => (BUILTIN_NAMES as string[]).includes(name);

const RatingKey = z.enum(['1', '2', '3', '4', '5']);

/** A rule defined in the spec: `{ name, version, mapping: { 1: neg, 2: neg, 3: null, ... } }`. */
export const CustomLabelRuleSchema = z
  .object({
    /** Lower-case name (letters, digits, dashes), not one of the built-in names. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'a rule name is lower-case letters, digits and dashes, starting with a letter')
      .refine((name) => !isBuiltin(name), { message: 'this name belongs to a built-in rule; choose another name' }),
    /** Bump whenever the mapping changes, so old artifacts are not reused. @default 1 */
    version: z.number().int().positive().default(1),
    /** Star → class name; a missing star or `null` drops those reviews. */
    mapping: z.partialRecord(RatingKey, z.string().min(1).nullable()),
    /** Class order (class index = position). @default the order classes first appear from 1 to 5 stars */
    classes: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** A label rule in a spec: a built-in name, a built-in with a pinned version, or a custom mapping. */
const LABEL_RULE_HELP =
  "allowed: 'binary', 'ternary', 'five', a pinned built-in {name: ternary, version: 1}, or a custom {name, mapping: {1: negative, ...}}";

export const LabelRuleSpecSchema = z.union([
  z.enum(['binary', 'ternary', 'five']),
  z
    .object({
      name: z.enum(['binary', 'ternary', 'five']),
      /** The built-in version to use. @default the latest */
      version: z.number().int().positive().optional(),
    })
    .strict(),
  CustomLabelRuleSchema,
], {
  error: (issue) => (issue.code === 'invalid_union' ? `${JSON.stringify(issue.input)} is not a label rule; ${LABEL_RULE_HELP}` : undefined),
});

export type LabelRuleSpec = z.input<typeof LabelRuleSpecSchema>;

/** A resolved rule: everything the annotate stage and every report need. */
export interface LabelRule {
  readonly name: string;
  readonly version: number;
  /** `name@vN`, for artifact keys and report headers. */
  readonly id: string;
  /** Class names; a label is an index into this list. */
  readonly classes: readonly string[];
  /** Per class, its lean (from the mean star of the ratings mapped to it: <3, 3, >3). */
  readonly polarity: readonly Polarity[];
  /** Per star, the class index or null (dropped). */
  readonly indexOfRating: Readonly<Record<Rating, number | null>>;
  /** Canonical parameters for the stage key: name, version and the full mapping. */
  readonly params: { readonly name: string; readonly version: number; readonly mapping: Mapping; readonly classes: readonly string[] };
  /** The class index of a rating, or null when the rule drops it or the rating is not 1–5. */
  labelOf(rating: unknown): number | null;
}

/** Resolves a spec (validated here) to a rule. Errors name what was wrong and what is allowed. */
export function resolveLabelRule(spec: unknown): LabelRule {
  const parsed = LabelRuleSpecSchema.safeParse(spec);
  if (!parsed.success) {
    throw badInput(`label rule ${JSON.stringify(spec)} is invalid: ${parsed.error.issues.map(formatIssue).join('; ')}`, {
      stage: 'annotate',
      field: 'labelRule',
    });
  }
  const value = parsed.data;
  if (typeof value === 'string') return builtin(value, undefined);
  if (isBuiltin(value.name) && !('mapping' in value)) return builtin(value.name, value.version);
  return custom(value as z.output<typeof CustomLabelRuleSchema>);
}

const formatIssue = (issue: z.core.$ZodIssue): string =>
  issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;

function builtin(name: BuiltinName, version: number | undefined): LabelRule {
  const versions = BUILTIN_LABEL_RULES[name];
  const known = Object.keys(versions).map(Number);
  const chosen = version ?? Math.max(...known);
  const definition = versions[chosen];
  if (!definition) {
    throw badInput(`label rule ${name} has no version ${chosen}; known versions: ${known.join(', ')}`, {
      stage: 'annotate',
      field: 'labelRule.version',
    });
  }
  return makeRule(name, chosen, definition.mapping, definition.classes);
}

function custom(spec: z.output<typeof CustomLabelRuleSchema>): LabelRule {
  const mapping = Object.fromEntries(RATINGS.map((r) => [r, spec.mapping[String(r) as `${Rating}`] ?? null])) as Record<
    Rating,
    string | null
  >;
  const used = [...new Set(RATINGS.map((r) => mapping[r]).filter((c): c is string => c !== null))];
  const classes = spec.classes ?? used;
  const fail = (message: string): never => {
    throw badInput(`label rule ${spec.name}@v${spec.version}: ${message}`, { stage: 'annotate', field: 'labelRule' });
  };
  if (used.length < 2) fail(`maps the ratings to ${used.length} class(es); a classifier needs at least 2`);
  if (new Set(classes).size !== classes.length) fail(`classes list ${JSON.stringify(classes)} repeats a class`);
  const missing = used.filter((c) => !classes.includes(c));
  const unused = classes.filter((c) => !used.includes(c));
  if (missing.length > 0 || unused.length > 0) {
    fail(`classes ${JSON.stringify(classes)} must list exactly the mapped classes ${JSON.stringify(used)}`);
  }
  return makeRule(spec.name, spec.version, mapping, classes);
}

function makeRule(name: string, version: number, mapping: Mapping, classes: readonly string[]): LabelRule {
  const indexOfRating = Object.fromEntries(
    RATINGS.map((r) => {
      const cls = mapping[r];
      return [r, cls === null ? null : classes.indexOf(cls)];
    }),
  ) as Record<Rating, number | null>;
  const polarity = classes.map((cls) => {
    const stars = RATINGS.filter((r) => mapping[r] === cls);
    const mean = stars.reduce((a, b) => a + b, 0) / stars.length;
    return mean < 3 ? 'negative' : mean > 3 ? 'positive' : 'neutral';
  });
  return {
    name,
    version,
    id: `${name}@v${version}`,
    classes,
    polarity,
    indexOfRating,
    params: { name, version, mapping, classes },
    labelOf: (rating) => {
      const star = ratingOf(rating);
      return star === null ? null : indexOfRating[star];
    },
  };
}

const NUMERIC = /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * A rating as a star 1–5, or null: numbers and numeric strings (`'4'`, `' 4.0 '`, as DuckDB's
 * `TRY_CAST(… AS DOUBLE)` reads them) that are whole and in range; anything else is not a rating.
 */
export function ratingOf(value: unknown): Rating | null {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && NUMERIC.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 5 ? (n as Rating) : null;
}

/**
 * A DuckDB expression giving the class index of `column` under the rule, or NULL (dropped or not a
 * rating). Works on integer, double and VARCHAR columns alike. `column` is quoted here.
 */
export function labelRuleSqlCase(rule: LabelRule, column: string): string {
  return sqlCase(rule, column, (index) => String(index));
}

/** The same giving the class name. */
export function labelRuleSqlClassCase(rule: LabelRule, column: string): string {
  return sqlCase(rule, column, (index) => `'${(rule.classes[index] ?? '').replace(/'/g, "''")}'`);
}

function sqlCase(rule: LabelRule, column: string, value: (index: number) => string): string {
  const whens = RATINGS.flatMap((r) => {
    const index = rule.indexOfRating[r];
    return index === null ? [] : [`WHEN ${r} THEN ${value(index)}`];
  });
  return `CASE TRY_CAST("${column.replace(/"/g, '""')}" AS DOUBLE) ${whens.join(' ')} ELSE NULL END`;
}
