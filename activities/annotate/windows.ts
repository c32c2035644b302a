import { z } from '../../data/zod';
import { badInput } from '../../core/errors';

/**
 * A named, inclusive range of calendar days; `from`/`to` null means open-ended. Dates are compared
 * by calendar day as written: review timestamps are naive local strings, so no time zone applies.
 */
export interface DateWindow {
  readonly name: string;
  /** First day, `YYYY-MM-DD`, or null for "from the start". */
  readonly from: string | null;
  /** Last day, `YYYY-MM-DD`, or null for "to the end". */
  readonly to: string | null;
}

const WINDOW_NAME = /^[a-z][a-z0-9_-]*$/;
const RANGE = /^\s*(\d{4}-\d{2}-\d{2})?\s*\.\.\s*(\d{4}-\d{2}-\d{2})?\s*$/;

/**
 * Windows in a spec: `{ during: '2020-03-01..2022-05-15', after: '2022-05-16..' }`. Either end may
 * be left open (`..2020-02-29`, `2022-05-16..`, `..` for everything). Parsed and checked by
 * `parseDateWindows`.
 */
export const DateWindowsSchema = z.record(z.string(), z.string());

/** Minimum class size, applied per window after labelling. */
export const MinClassSizeSchema = z
  .object({
    /** A class with fewer rows than this in a window is dropped or merged. 0 turns the check off. @default 0 */
    minClassSize: z.number().int().nonnegative().default(0),
    /**
     * `drop`: remove the small class's rows. `merge`: relabel them into another class: the one named
     * in `mergeInto`, else the neighbouring class in the rule's class order (which is ordinal for the
     * built-in rules: neutral sits between negative and positive, star 2 between 1 and 3), taking
     * the neighbour with fewer rows when there are two, so the merge adds the least imbalance.
     * @default 'drop'
     */
    policy: z.enum(['drop', 'merge']).default('drop'),
    /** Explicit merge targets, class → class (e.g. `{ neutral: negative }`). */
    mergeInto: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type MinClassSize = z.output<typeof MinClassSizeSchema>;

/**
 * Parses and validates windows: names are lower-case identifiers, dates are real calendar days,
 * `from` ≤ `to`, and windows do not overlap unless `allowOverlap` (overlapping windows would put
 * the same review in two tables, which is fine for reporting but usually a typo).
 */
export function parseDateWindows(spec: unknown, options: { allowOverlap?: boolean } = {}): DateWindow[] {
  const parsed = DateWindowsSchema.safeParse(spec);
  if (!parsed.success) {
    throw badInput(`date windows must be a mapping of name to 'YYYY-MM-DD..YYYY-MM-DD'; got ${JSON.stringify(spec)}`, {
      stage: 'annotate',
      field: 'windows',
    });
  }
  const windows = Object.entries(parsed.data).map(([name, range]) => parseDateWindow(name, range));
  if (!options.allowOverlap) checkNoOverlap(windows);
  return windows;
}

/** Parses one window, e.g. `parseDateWindow('during', '2020-03-01..2022-05-15')`. */
export function parseDateWindow(name: string, range: string): DateWindow {
  const field = `windows.${name}`;
  if (!WINDOW_NAME.test(name)) {
    throw badInput(`window name "${name}" must be lower-case letters, digits, '_' or '-', starting with a letter`, {
      stage: 'annotate',
      field,
    });
  }
  const match = RANGE.exec(range);
  if (!match) {
    throw badInput(`window ${name}: "${range}" is not a range like 2020-03-01..2022-05-15 (either end may be left out)`, {
      stage: 'annotate',
      field,
    });
  }
  const from = match[1] ?? null;
  const to = match[2] ?? null;
  for (const day of [from, to]) {
    if (day !== null && !isCalendarDay(day)) {
      throw badInput(`window ${name}: ${day} is not a calendar date`, { stage: 'annotate', field });
    }
  }
  if (from !== null && to !== null && from > to) {
    throw badInput(`window ${name}: starts ${from} after it ends ${to}`, { stage: 'annotate', field });
  }
  return { name, from, to };
}

function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

function checkNoOverlap(windows: readonly DateWindow[]): void {
  for (let i = 0; i < windows.length; i++) {
    for (let j = i + 1; j < windows.length; j++) {
      const a = windows[i];
      const b = windows[j];
      if (a && b && overlaps(a, b)) {
        throw badInput(
          `windows ${a.name} (${describeWindow(a)}) and ${b.name} (${describeWindow(b)}) overlap; make them disjoint or allow overlap`,
          { stage: 'annotate', field: 'windows' },
        );
      }
    }
  }
}

const overlaps = (a: DateWindow, b: DateWindow): boolean =>
  (a.from === null || b.to === null || a.from <= b.to) && (b.from === null || a.to === null || b.from <= a.to);

/** `2020-03-01..2022-05-15` back from a window. */
export const describeWindow = (w: DateWindow): string => `${w.from ?? ''}..${w.to ?? ''}`;

/**
 * Whether a review date falls in the window. Strings are taken by their leading `YYYY-MM-DD`
 * (`2026-01-08 23:55:53` → 2026-01-08); `Date`s by their UTC day. Anything else is outside.
 */
export function inWindow(window: DateWindow, value: string | Date | null | undefined): boolean {
  const day = dayOf(value);
  if (day === null) return false;
  return (window.from === null || day >= window.from) && (window.to === null || day <= window.to);
}

function dayOf(value: string | Date | null | undefined): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  if (typeof value !== 'string') return null;
  const day = value.trim().slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && isCalendarDay(day) ? day : null;
}

/**
 * A DuckDB predicate for the window on `column` (DATE, TIMESTAMP or `YYYY-MM-DD…` text; quoted here).
 * Unparseable dates are outside every window. A TIMESTAMPTZ column is cast in the session time zone.
 */
export function windowSqlPredicate(window: DateWindow, column: string): string {
  const day = `TRY_CAST("${column.replace(/"/g, '""')}" AS DATE)`;
  const parts = [`${day} IS NOT NULL`];
  if (window.from !== null) parts.push(`${day} >= DATE '${window.from}'`);
  if (window.to !== null) parts.push(`${day} <= DATE '${window.to}'`);
  return parts.join(' AND ');
}

/** What happened to one small class in one window. */
export interface ClassSizeAction {
  readonly class: string;
  readonly count: number;
  readonly action: 'dropped' | 'merged';
  /** For `merged`: the class it now belongs to. */
  readonly into?: string;
}

/** The classes of a window after the minimum class size is applied. */
export interface ClassSizeResolution {
  /** Remaining classes, in the rule's order. */
  readonly classes: readonly string[];
  /** Old class index → new class index, or null (dropped). */
  readonly remap: readonly (number | null)[];
  /** Counts per remaining class. */
  readonly counts: readonly number[];
  /** What was dropped or merged, in the order it was done. Reported with the window. */
  readonly actions: readonly ClassSizeAction[];
}

/**
 * Applies the minimum class size to one window's class counts. Merges go smallest class first, and
 * counts are updated after each merge (two small classes may merge into one big enough). At least
 * two classes must remain, or the window cannot train a classifier: that is an error naming the
 * window and the counts.
 */
export function applyMinClassSize(
  classes: readonly string[],
  counts: readonly number[],
  policy: MinClassSize,
  window = 'all',
): ClassSizeResolution {
  for (const [from, into] of Object.entries(policy.mergeInto)) {
    if (!classes.includes(from) || !classes.includes(into) || from === into) {
      throw badInput(`mergeInto ${from} → ${into}: both must be different classes of the rule (${classes.join(', ')})`, {
        stage: 'annotate',
        field: 'minClassSize.mergeInto',
      });
    }
  }
  // target[i]: the class whose rows class i's rows end up in, or null (dropped).
  const target: (number | null)[] = classes.map((_, i) => i);
  const live = [...counts];
  const alive = classes.map(() => true);
  const actions: ClassSizeAction[] = [];
  const small = (): number | undefined =>
    classes
      .map((_, i) => i)
      .filter((i) => alive[i] && (live[i] ?? 0) < policy.minClassSize)
      .sort((a, b) => (live[a] ?? 0) - (live[b] ?? 0) || a - b)[0];
  for (let i = small(); i !== undefined; i = small()) {
    alive[i] = false;
    const name = classes[i] ?? '';
    const into = policy.policy === 'merge' ? mergeTarget(i, classes, live, alive, target, policy.mergeInto) : null;
    const count = live[i] ?? 0;
    actions.push(into === null ? { class: name, count, action: 'dropped' } : { class: name, count, action: 'merged', into: classes[into] ?? '' });
    if (into !== null) live[into] = (live[into] ?? 0) + (live[i] ?? 0);
    for (let k = 0; k < target.length; k++) if (target[k] === i) target[k] = into;
    live[i] = 0;
  }
  const kept = classes.map((_, i) => i).filter((i) => alive[i]);
  if (kept.length < 2) {
    const described = classes.map((c, i) => `${c} ${counts[i] ?? 0}`).join(', ');
    throw badInput(
      `window ${window}: with minClassSize ${policy.minClassSize} (${policy.policy}) fewer than 2 classes remain (${described}); lower minClassSize or widen the window`,
      { stage: 'annotate', field: 'minClassSize' },
    );
  }
  return {
    classes: kept.map((i) => classes[i] ?? ''),
    remap: target.map((t) => (t === null ? null : kept.indexOf(t))),
    counts: kept.map((i) => live[i] ?? 0),
    actions,
  };
}

function mergeTarget(
  i: number,
  classes: readonly string[],
  live: readonly number[],
  alive: readonly boolean[],
  target: readonly (number | null)[],
  mergeInto: Readonly<Record<string, string>>,
): number | null {
  const named = mergeInto[classes[i] ?? ''];
  if (named !== undefined) {
    // A named class already merged away: follow it to where its rows went.
    const at = target[classes.indexOf(named)] ?? null;
    if (at !== null && at !== i) return at;
  }
  let left = i - 1;
  while (left >= 0 && !alive[left]) left--;
  let right = i + 1;
  while (right < classes.length && !alive[right]) right++;
  const candidates = [left, right].filter((k) => k >= 0 && k < classes.length);
  if (candidates.length === 0) return null;
  return candidates.sort((a, b) => (live[a] ?? 0) - (live[b] ?? 0) || a - b)[0] ?? null;
}

/** A DuckDB CASE applying a class remap to a label-index column (quoted here). */
export function remapSqlCase(remap: readonly (number | null)[], column: string): string {
  const whens = remap.flatMap((to, from) => (to === null ? [] : [`WHEN ${from} THEN ${to}`]));
  return `CASE "${column.replace(/"/g, '""')}" ${whens.join(' ')} ELSE NULL END`;
}
