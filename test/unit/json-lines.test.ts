import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AuditRecord, auditLine } from '../../lib/audit/audit-log.js';
import { isoTime } from '../../lib/iso-time.js';
import { jsonMembers } from '../../lib/json-line.js';
import { createLogger, type LogLevel } from '../../lib/logger.js';

/** Text that JSON must escape or that is easy to get wrong: quotes, backslashes, controls, U+2028, lone surrogates, astral characters. */
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '/', '\u0000', '\b', '\n', '\u001f', '\u007f', '\u2028', '\u2029', '\ud800', '\udfff', '\ud83d\ude00', 'é', '\ufeff'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 24,
});

/** Values the fast path writes itself, and values it hands to JSON.stringify (objects, arrays of anything). */
const value = fc.oneof(
  { weight: 4, arbitrary: tricky },
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, 5e-7, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  { weight: 2, arbitrary: fc.array(tricky, { maxLength: 4 }) },
  fc.array(fc.oneof(tricky, fc.integer(), fc.constant(undefined), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(tricky, fc.oneof(tricky, fc.integer()), { maxKeys: 3 }),
  fc.constant(new Date(0)),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
);

/** Keys as the code names them, the keys of the line's head, array indices and near-indices, and anything. */
const key = fc.oneof(
  fc.constantFrom(
    'requestId',
    'action',
    'accessKeyId',
    'status',
    'code',
    'ms',
    'time',
    'level',
    'message',
    'audit',
    'type',
    '__proto__',
    '0',
    '7',
    '01',
    '-1',
    '1e3',
    '4294967295',
    '',
  ),
  tricky,
);

const fields = fc.dictionary(key, value, { maxKeys: 9 });

/** Only what the fast path writes itself: every such line must take it. */
const plainFields = fc.dictionary(
  fc.oneof(fc.constantFrom('requestId', 'action', 'code', '__proto__', ''), tricky).filter((k) => !/^\d/.test(k) && k !== 'time'),
  fc.oneof(tricky, fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.array(tricky, { maxLength: 3 }), fc.constant(Symbol('s'))),
  { maxKeys: 9 },
);

describe('jsonMembers', () => {
  it('writes what JSON.stringify writes between the braces after the head, or hands back undefined', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const members = jsonMembers(f, ['time']);
        const expected = JSON.stringify({ time: 't', ...f });
        if (members !== undefined) expect(`{"time":"t"${members === '' ? '' : ','}${members}}`).toBe(expected);
      }),
      { seed: 22, numRuns: 2000 },
    );
    fc.assert(
      fc.property(plainFields, (f) => {
        const members = jsonMembers(f, ['time']);
        expect(members).toBeDefined();
        expect(`{"time":"t"${members === '' ? '' : ','}${members}}`).toBe(JSON.stringify({ time: 't', ...f }));
      }),
      { seed: 22, numRuns: 2000 },
    );
  });

  it('takes the fast path for the access line and the audit line as the service writes them', () => {
    const access = { requestId: 'R', action: 'GenerateDataKey', accessKeyId: undefined, accessKeyVerified: true, status: 200, code: undefined, ms: 3 };
    expect(jsonMembers(access, ['time', 'level', 'message'])).toBe('"requestId":"R","action":"GenerateDataKey","accessKeyVerified":true,"status":200,"ms":3');
    expect(jsonMembers({ time: 't', encryptionContextKeys: ['a', 'b"'], dryRun: true }, ['audit'])).toBe(
      '"time":"t","encryptionContextKeys":["a","b\\""],"dryRun":true',
    );
  });

  it('leaves to JSON.stringify what it would place differently: an array index, a head key, an inherited key; and objects and bigints', () => {
    expect(jsonMembers({ a: 1, 2: 'x' }, [])).toBeUndefined();
    expect(jsonMembers({ level: 'x' }, ['time', 'level'])).toBeUndefined();
    expect(jsonMembers(Object.create({ inherited: 'x' }) as object, [])).toBeUndefined();
    expect(jsonMembers(Object.create({ inherited: undefined }) as object, [])).toBe('');
    expect(jsonMembers({ a: { b: 1 } }, [])).toBeUndefined();
    expect(jsonMembers({ a: 1n }, [])).toBeUndefined();
    expect(jsonMembers({ a: Object.assign(['x'], { toJSON: () => 'y' }) }, [])).toBeUndefined();
  });
});

describe('Log lines (createLogger)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 11, 7, 11, 0, 0, 123) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const levels: Array<Exclude<LogLevel, 'silent'>> = ['debug', 'info', 'warn', 'error'];
  /** What every line was before the fast path: one JSON.stringify of the spread. */
  const stringified = (level: string, message: unknown, f?: Record<string, unknown>) =>
    `${JSON.stringify({ time: new Date().toISOString(), level, message, ...f })}\n`;

  it('each line, access or not, is byte for byte the JSON.stringify of { time, level, message, ...fields }', () => {
    fc.assert(
      fc.property(fc.constantFrom(...levels, 'access' as const), tricky, fc.option(fields, { nil: undefined }), (method, message, f) => {
        const lines: string[] = [];
        const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
        logger[method](message, f);
        expect(lines).toEqual([stringified(method === 'access' ? 'info' : method, message, f)]);
        expect(JSON.parse(lines[0]!)).toEqual(JSON.parse(stringified(method === 'access' ? 'info' : method, message, f)));
      }),
      { seed: 22, numRuns: 1000 },
    );
  });

  it('throws where JSON.stringify throws (a bigint), and writes what it writes for a message that is not a string', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    expect(() => logger.info('m', { n: 1n })).toThrow(TypeError);
    logger.info(undefined as unknown as string, { a: 1 });
    expect(lines).toEqual([stringified('info', undefined, { a: 1 })]);
  });

  it("a line's time is the current millisecond's, also when the clock steps back", () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    const times = () => lines.map((l) => (JSON.parse(l) as { time: string }).time);
    logger.info('a');
    logger.access('b');
    vi.advanceTimersByTime(1);
    logger.info('c');
    vi.setSystemTime(Date.UTC(2020, 0, 1));
    logger.info('d');
    expect(times()).toEqual(['2026-12-07T11:00:00.123Z', '2026-12-07T11:00:00.123Z', '2026-12-07T11:00:00.124Z', '2020-01-01T00:00:00.000Z']);
  });
});

describe('isoTime', () => {
  it('is toISOString of the millisecond it is given, whatever the order; an invalid time throws as toISOString does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { maxLength: 20 }), (times) => {
        for (const ms of [...times, ...times]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { seed: 22 },
    );
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('Audit lines', () => {
  const record = fc
    .record(
      {
        time: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
        type: fc.constantFrom('request', 'job') as fc.Arbitrary<'request' | 'job'>,
        requestId: tricky,
        accessKeyId: tricky,
        accessKeyVerified: fc.boolean(),
        sourceIp: tricky,
        action: tricky,
        awsOperation: tricky,
        keyArn: tricky,
        keyVersionId: tricky,
        encryptionContextKeys: fc.array(tricky, { maxLength: 5 }),
        dryRun: fc.boolean(),
        code: tricky,
        status: fc.integer({ min: 100, max: 599 }),
        latencyMs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6 })),
      },
      { requiredKeys: ['time', 'type', 'code'] },
    )
    .chain((r) => fields.map((extra) => ({ ...r, ...extra }) as unknown as AuditRecord));

  it('each is byte for byte the JSON.stringify of { ...record, audit: true }', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(auditLine(r)).toBe(`${JSON.stringify({ ...r, audit: true })}\n`);
      }),
      { seed: 22, numRuns: 2000 },
    );
    expect(auditLine({} as AuditRecord)).toBe('{"audit":true}\n');
  });
});
