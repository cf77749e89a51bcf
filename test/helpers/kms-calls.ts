import { expect } from 'vitest';
import { ADMIN, type TestService } from './service.js';
import { type Credentials, isoSeconds, signedRpcRequest } from './sign.js';

export type Params = Record<string, string>;
export type CallResult = Awaited<ReturnType<TestService['call']>>;

/** Alibaba RPC calls to an in-process test service, signed at its clock (or now). */
export interface AlibabaCaller {
  /** Calls `action` as `who` (default ADMIN). */
  call(action: string, params?: Params, who?: Credentials): Promise<CallResult>;
  /** Calls `action` and expects 200; returns the body. */
  ok(action: string, params?: Params, who?: Credentials): Promise<Record<string, any>>;
}

export function alibabaCaller(t: TestService, now: () => number = Date.now): AlibabaCaller {
  const call = (action: string, params: Params = {}, who: Credentials = ADMIN) =>
    t.call(signedRpcRequest(who, action, params, { timestamp: isoSeconds(now()) }));
  return {
    call,
    async ok(action, params = {}, who = ADMIN) {
      const r = await call(action, params, who);
      expect(r.status, `${action} ${JSON.stringify(params)} → ${r.raw}`).toBe(200);
      return r.body;
    },
  };
}

/** The error an AWS SDK call failed with (its name and HTTP status), or a failed expectation when it succeeded. */
export async function awsFailure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}
