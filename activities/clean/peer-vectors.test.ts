import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PEER_REFERENCE_RULE, createTextCleaner } from './steps';

interface PeerVectors {
  readonly about: string;
  readonly cases: readonly { input: string; expected: string }[];
}

/** Outputs of reference.py's own clean_text on synthetic strings (see `about` in the file). */
const VECTORS = JSON.parse(readFileSync(new URL('./peer-vectors.json', import.meta.url), 'utf8')) as PeerVectors;

describe('PEER_REFERENCE_RULE reproduces reference.py clean_text', () => {
  it(`on ${VECTORS.cases.length} recorded Python outputs`, () => {
    const clean = createTextCleaner(PEER_REFERENCE_RULE);
    const mismatches = VECTORS.cases.filter((c) => clean(c.input) !== c.expected);
    expect(mismatches).toEqual([]);
    expect(VECTORS.cases.length).toBeGreaterThan(300);
  });
});
