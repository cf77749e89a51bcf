import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { successResponse } from '../../lib/protocol/alibaba/serialize.js';

/** What a JSON success body is defined as: the request id first, then the operation's fields. */
const reference = (requestId: string, fields: Record<string, unknown>) => JSON.stringify({ RequestId: requestId, ...fields });

// Names an answer may hold, and the ones that change how a copy orders or reads them.
const name = fc.oneof(fc.string(), fc.constantFrom('RequestId', 'toJSON', '__proto__', '0', '12', '01', '1e3', '-1', 'KeyId', 'Plaintext'));
const value = fc.oneof(
  fc.jsonValue(),
  fc.constant(undefined),
  fc.constant(() => 1),
);
const fields = fc.array(fc.tuple(name, value), { maxLength: 8 }).map((pairs) => {
  const out: Record<string, unknown> = {};
  for (const [n, v] of pairs) Object.defineProperty(out, n, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
});

describe('Module: protocol/alibaba/serialize', () => {
  describe('function successResponse (JSON)', () => {
    it('when given any fields, the body is byte for byte JSON.stringify({ RequestId, ...fields })', () => {
      fc.assert(
        fc.property(fc.string(), fields, (requestId, f) => {
          expect(successResponse('JSON', requestId, f).body).toBe(reference(requestId, f));
        }),
        { numRuns: 2_000 },
      );
    });

    it('when an answer has no fields, the body holds only the request id', () => {
      expect(successResponse('JSON', 'R-1', {}).body).toBe('{"RequestId":"R-1"}');
    });

    it('when a field is an integer-like name, it is listed first, as an object lists it', () => {
      expect(successResponse('JSON', 'R', { KeyId: 'k', 7: 'x' }).body).toBe('{"7":"x","RequestId":"R","KeyId":"k"}');
    });

    it('when the fields are no plain object (an array, a class instance, a Date, a boxed value), the body is the object copy all the same', () => {
      class WithToJson {
        a = 1;
        toJSON() {
          return { replaced: true };
        }
      }
      class Plainish {
        b = 2;
      }
      const odd: unknown[] = [[], ['x'], new WithToJson(), new Plainish(), new Date(0), Object(1), Object('ab'), Object(true), new Map([['k', 'v']])];
      for (const fields of odd) {
        expect(successResponse('JSON', 'R', fields as Record<string, unknown>).body).toBe(reference('R', fields as Record<string, unknown>));
      }
    });

    it('when the fields hold their own RequestId or toJSON, they act as in the object copy', () => {
      expect(successResponse('JSON', 'R', { RequestId: 'other', KeyId: 'k' }).body).toBe('{"RequestId":"other","KeyId":"k"}');
      expect(successResponse('JSON', 'R', { toJSON: () => ({ replaced: true }) }).body).toBe('{"replaced":true}');
    });
  });
});
