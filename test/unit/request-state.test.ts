import { describe, expect, it } from 'vitest';
import { initState, type RequestState, stateOf } from '../../lib/middleware/state.js';
import type { RpcRequest } from '../../lib/rpc/request.js';

const request = (): RpcRequest => ({ method: 'GET', path: '/', rawQuery: 'A=1', headers: {}, body: Buffer.alloc(0) });
const state = (requestId: string) => ({ requestId, startedAt: 0 }) as unknown as RequestState;

describe('Module: middleware/state', () => {
  it('when a request was opened, its state is found; a request never opened has none', () => {
    const r = request();
    const s = state('R-1');
    initState(r, s);
    expect(stateOf(r)).toBe(s);
    expect(() => stateOf(request())).toThrow(/request state is missing/);
  });

  it('when a request is copied (a spread), the copy has no state of its own, and the original keeps its own', () => {
    const r = request();
    const s = state('R-1');
    initState(r, s);
    const copy = { ...r };
    expect(() => stateOf(copy)).toThrow(/request state is missing/);
    const other = state('R-2');
    initState(copy, other);
    expect(stateOf(copy)).toBe(other);
    expect(stateOf(r)).toBe(s);
  });

  it('when state is kept, the request serialises as before (no member a JSON copy or Object.keys sees)', () => {
    const r = request();
    const before = JSON.stringify(r);
    initState(r, state('R-1'));
    expect(JSON.stringify(r)).toBe(before);
    expect(Object.keys(r)).toEqual(['method', 'path', 'rawQuery', 'headers', 'body']);
  });
});
