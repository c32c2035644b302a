import { describe, expect, it } from 'vitest';
import { badInput } from '../../core/errors';
import { rebaseUrl, resolvePlayBaseUrl, toSecondIso, withStarFilter } from './play-client';
import { checkOkBody, diagnoseBody, errorForStatus, parseRetryAfter } from './play-errors';

const where = { appId: 'com.example.app', lang: 'id', country: 'id', pageNumber: 3 };
const reply = (payload: unknown): string =>
  `)]}'\n\n${JSON.stringify([['wrb.fr', 'UsvDTd', JSON.stringify(payload), null, null, null, 'generic']])}`;

describe('classification helpers', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', Date.parse('2025-01-01T00:00:00Z'))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('maps statuses to failure types', () => {
    expect(errorForStatus(429, 5000, where)).toMatchObject({ type: 'RateLimited', retryAfterMs: 5000 });
    expect(errorForStatus(503, undefined, where).type).toBe('RateLimited');
    expect(errorForStatus(502, undefined, where).type).toBe('Transient');
    expect(errorForStatus(404, undefined, where).type).toBe('NotFound');
    expect(errorForStatus(400, undefined, where).type).toBe('BadInput');
    const message = errorForStatus(400, undefined, where).message;
    expect(message).toContain('app com.example.app (lang id, country id), page 3');
  });

  it('flags soft failures in a 200 body and passes a good one', () => {
    expect(checkOkBody('', where)?.type).toBe('Transient');
    expect(checkOkBody('<html>', where)?.type).toBe('Transient');
    const gateway = `)]}'\n\n[["er",null,"com.google.play.gateway.proto.PlayGatewayError"]]`;
    expect(checkOkBody(gateway, where)?.type).toBe('RateLimited');
    expect(checkOkBody(reply([[], null]), where)).toBeUndefined();
  });

  it('tells a truncated body from a changed layout', () => {
    const good = reply([[['id', ['name'], 5, null, 'text', [1, 0]]], [null, 'tok']]);
    expect(diagnoseBody(good)).toEqual({ kind: 'ok' });
    expect(diagnoseBody(good.slice(0, good.length - 9)).kind).toBe('corrupt');
    expect(diagnoseBody(reply([[['id', ['name'], '5', null, 'text', [1, 0]]]]))).toEqual({
      kind: 'layout',
      expected: 'the star rating (an integer 1-5)',
      where: 'payload[0][0][2]',
      got: 'string "5"',
    });
    const failed = `)]}'\n\n[["wrb.fr","UsvDTd",null,null,null,[5],"generic"]]`;
    expect(diagnoseBody(failed)).toEqual({ kind: 'gateway-status', code: 5 });
  });
});

describe('request rewriting', () => {
  it('moves a Play URL onto a base URL, keeping a path prefix', () => {
    const play = new URL('https://play.google.com/_/PlayStoreUi/data/batchexecute?rpcids=qnKhOb&hl=id&gl=id');
    const rest = '/_/PlayStoreUi/data/batchexecute?rpcids=qnKhOb&hl=id&gl=id';
    expect(rebaseUrl(play, new URL('http://127.0.0.1:9000')).href).toBe(`http://127.0.0.1:9000${rest}`);
    expect(rebaseUrl(play, new URL('http://proxy:8080/play/')).href).toBe(`http://proxy:8080/play${rest}`);
  });

  it('resolves the base URL from the option, then the env var, and refuses junk', () => {
    expect(resolvePlayBaseUrl(undefined, {})).toBeUndefined();
    expect(resolvePlayBaseUrl(undefined, { ULASAN_PLAY_BASE_URL: 'http://env:1' })?.origin).toBe('http://env:1');
    expect(resolvePlayBaseUrl('http://opt:2', { ULASAN_PLAY_BASE_URL: 'http://env:1' })?.origin).toBe('http://opt:2');
    expect(() => resolvePlayBaseUrl(undefined, { ULASAN_PLAY_BASE_URL: 'ftp://x' })).toThrow(
      badInput('ULASAN_PLAY_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080, got "ftp://x".').message,
    );
  });

  it('puts the star filter where Play reads it', () => {
    // The library's first-page body, as lib/reviews.js builds it for app com.x.y, sort 2.
    const rpc = '[null,null,[2,2,[150,null,null],null,[]],["com.x.y",7]]';
    const body = `f.req=${encodeURIComponent(JSON.stringify([[['UsvDTd', rpc, null, 'generic']]]))}`;
    const filtered = JSON.parse(new URLSearchParams(withStarFilter(body, 4)).get('f.req') as string) as string[][][];
    const inner = JSON.parse(filtered[0]?.[0]?.[1] as string) as unknown;
    expect(inner).toEqual([null, null, [2, 2, [150, null, null], null, [null, 4]], ['com.x.y', 7]]);
    expect(() => withStarFilter('f.req=other', 4)).toThrow('filterScore cannot be applied');
  });

  it('keeps whole seconds of a date', () => {
    expect(toSecondIso('2024-01-02T03:04:05.450Z')).toBe('2024-01-02T03:04:05.000Z');
  });
});
