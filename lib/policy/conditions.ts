import { BlockList, isIP } from 'node:net';
import * as z from '../zod.js';
import { wildcardPattern } from './wildcard.js';

/**
 * RAM policy conditions: `"Condition": {"<Operator>": {"<ConditionKey>": "<value>" | ["<value>", …]}}`.
 *
 * Semantics (as RAM and AWS IAM):
 * - every operator of a statement, and every key within an operator, must hold for the statement
 *   to apply (an Allow to allow, a Deny to deny);
 * - with a list of values, one matching value is enough; for the negated operators
 *   (StringNotEquals, StringNotLike, NotIpAddress) the request's value must match none;
 * - **a key the request does not have** (an EncryptionContext without that key, no source address,
 *   no context at all) makes the positive operators false and the negated ones true. This is AWS's
 *   behaviour without `…IfExists`: an Allow conditioned on `kms:EncryptionContext:partition` never
 *   allows a request without a partition, and a Deny with `StringNotEquals` on it denies one.
 *
 * Operators and the keys they apply to (anything else is refused when the policy is parsed —
 * never ignored, since ignoring a condition grants more than was written):
 *
 * | Operator | Keys | Values |
 * |---|---|---|
 * | StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike, StringNotLike | `kms:EncryptionContext:<key>`, `kms:tag/<TagKey>` | text; `*` and `?` wildcards for the *Like ones |
 * | IpAddress, NotIpAddress | `acs:SourceIp` | IPv4 or IPv6 address or CIDR range |
 * | DateLessThan, DateGreaterThan | `acs:CurrentTime` | ISO-8601 date, or date-time with `Z` or an offset |
 * | Bool | `acs:SecureTransport` | `"true"` or `"false"` |
 *
 * Operator names are exact; condition key names are case-insensitive as in RAM, except the
 * `<key>` of `kms:EncryptionContext:<key>`, which names an EncryptionContext key exactly (context
 * keys are case-sensitive: they are bound into the ciphertext as written), and the `<TagKey>` of
 * `kms:tag/<TagKey>`, which names a tag key exactly (tag keys are case-sensitive). Values compare
 * case-sensitively except under StringEqualsIgnoreCase.
 *
 * `kms:tag/<TagKey>` is the value of that tag on the key the request is authorised on (on
 * CreateKey: in the request's `Tags`, what the new key will carry); a key without the tag, and a
 * resource that is not a key, lack it. An IPv4-mapped IPv6 source
 * (`::ffff:10.1.2.3`) matches IPv4 ranges and the other way round.
 */

/** What a request offers to conditions. Built per authorisation check by the operation stack. */
export interface ConditionContext {
  /** The EncryptionContext the operation is authorised with (empty when it takes none). */
  encryptionContext: ReadonlyMap<string, string>;
  /** The tags of the key authorised on (CreateKey: the tags requested); absent: none. */
  resourceTags?: ReadonlyMap<string, string>;
  /** The caller's address as the platform reported it; absent (or not an IP address) counts as a missing key. */
  sourceIp?: string;
  /** True only when the request arrived over TLS, as far as the platform tells. */
  secureTransport: boolean;
  /** Milliseconds since the epoch. */
  now: number;
}

/** A statement's `Condition` block, as written (and stored). */
export type PolicyCondition = Record<string, Record<string, string | string[]>>;

/** A compiled `Condition`: whether it holds for a request (undefined context: every key is missing). */
export type CompiledCondition = (context: ConditionContext | undefined) => boolean;

type Kind = 'string' | 'ip' | 'date' | 'bool';
interface KindValue {
  string: string;
  ip: string;
  date: number;
  bool: boolean;
}

interface OperatorSpec<K extends Kind = Kind> {
  kind: K;
  /** True for the Not* operators: the request's value must match none of the values. */
  negated: boolean;
  /** Whether the request's value matches any of the (already validated) values. */
  compile(values: readonly string[]): (actual: KindValue[K]) => boolean;
}

interface KeySpec<K extends Kind = Kind> {
  kind: K;
  /** The request's value for this key, or undefined when the request has none. */
  read(context: ConditionContext): KindValue[K] | undefined;
}

/** One operator or key of any kind, `kind` telling which. */
type AnyOperatorSpec = { [K in Kind]: OperatorSpec<K> }[Kind];
type AnyKeySpec = { [K in Kind]: KeySpec<K> }[Kind];

const stringEquals: OperatorSpec<'string'>['compile'] = (values) => {
  const set = new Set(values);
  return (actual) => set.has(actual);
};
const stringLike: OperatorSpec<'string'>['compile'] = (values) => {
  const patterns = values.map((v) => wildcardPattern(v, { unicode: true }));
  return (actual) => {
    for (const p of patterns) if (p.test(actual)) return true;
    return false;
  };
};
const ipMatch: OperatorSpec<'ip'>['compile'] = (values) => {
  const ranges = new BlockList();
  for (const value of values) {
    const { address, prefix, family } = parseIpRange(value)!;
    if (prefix === undefined) ranges.addAddress(address, family);
    else ranges.addSubnet(address, prefix, family);
  }
  return (actual) => ranges.check(actual, isIP(actual) === 6 ? 'ipv6' : 'ipv4');
};

/** Maps, not object literals: an operator or key named `__proto__` or `toString` must find nothing. */
const OPERATORS: ReadonlyMap<string, AnyOperatorSpec> = new Map<string, AnyOperatorSpec>([
  ['StringEquals', { kind: 'string', negated: false, compile: stringEquals }],
  ['StringNotEquals', { kind: 'string', negated: true, compile: stringEquals }],
  [
    'StringEqualsIgnoreCase',
    {
      kind: 'string',
      negated: false,
      compile: (values: readonly string[]) => {
        const set = new Set(values.map((v) => v.toLowerCase()));
        return (actual: string) => set.has(actual.toLowerCase());
      },
    },
  ],
  ['StringLike', { kind: 'string', negated: false, compile: stringLike }],
  ['StringNotLike', { kind: 'string', negated: true, compile: stringLike }],
  ['IpAddress', { kind: 'ip', negated: false, compile: ipMatch }],
  ['NotIpAddress', { kind: 'ip', negated: true, compile: ipMatch }],
  [
    'DateLessThan',
    {
      kind: 'date',
      negated: false,
      // Any value later than now: now is before the latest of them.
      compile: (values: readonly string[]) => {
        const latest = Math.max(...values.map((v) => parseIsoDate(v)!));
        return (now: number) => now < latest;
      },
    },
  ],
  [
    'DateGreaterThan',
    {
      kind: 'date',
      negated: false,
      compile: (values: readonly string[]) => {
        const earliest = Math.min(...values.map((v) => parseIsoDate(v)!));
        return (now: number) => now > earliest;
      },
    },
  ],
  [
    'Bool',
    {
      kind: 'bool',
      negated: false,
      compile: (values: readonly string[]) => {
        const accepted = new Set(values.map((v) => v === 'true'));
        return (actual: boolean) => accepted.has(actual);
      },
    },
  ],
]);

const ENCRYPTION_CONTEXT_PREFIX = 'kms:encryptioncontext:';
const TAG_PREFIX = 'kms:tag/';

/** The fixed keys, by lower-case name. */
const KEYS: ReadonlyMap<string, AnyKeySpec> = new Map<string, AnyKeySpec>([
  ['acs:sourceip', { kind: 'ip', read: (c: ConditionContext) => (c.sourceIp !== undefined && isIP(c.sourceIp) !== 0 ? c.sourceIp : undefined) }],
  ['acs:currenttime', { kind: 'date', read: (c: ConditionContext) => c.now }],
  ['acs:securetransport', { kind: 'bool', read: (c: ConditionContext) => c.secureTransport }],
]);

const KEY_NAMES = 'kms:EncryptionContext:<key>, kms:tag/<TagKey>, acs:SourceIp, acs:CurrentTime, acs:SecureTransport';
const KEYS_OF_KIND: Record<Kind, string> = {
  string: 'kms:EncryptionContext:<key> or kms:tag/<TagKey>',
  ip: 'acs:SourceIp',
  date: 'acs:CurrentTime',
  bool: 'acs:SecureTransport',
};

function keySpecOf(name: string): AnyKeySpec | undefined {
  if (name.toLowerCase().startsWith(ENCRYPTION_CONTEXT_PREFIX)) {
    const contextKey = name.slice(ENCRYPTION_CONTEXT_PREFIX.length);
    if (contextKey === '') return undefined;
    return { kind: 'string', read: (c: ConditionContext) => c.encryptionContext.get(contextKey) } satisfies KeySpec<'string'>;
  }
  if (name.toLowerCase().startsWith(TAG_PREFIX)) {
    const tagKey = name.slice(TAG_PREFIX.length);
    if (tagKey === '') return undefined;
    return { kind: 'string', read: (c: ConditionContext) => c.resourceTags?.get(tagKey) } satisfies KeySpec<'string'>;
  }
  return KEYS.get(name.toLowerCase());
}

/** An address or CIDR range, or undefined when the text is neither. */
function parseIpRange(text: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  // A zone index (fe80::1%eth0) names an interface of one host; it has no place in a policy.
  if (version === 0 || address.includes('%')) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { address, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * Milliseconds since the epoch of an ISO-8601 date (`2030-01-01`, midnight UTC) or date-time with
 * a zone (`2030-01-01T08:00:00Z`, `…+08:00`), or undefined. A date-time without a zone is refused
 * rather than read in the server's local time; impossible dates (Feb 30) are refused rather than
 * rolled over as Date.parse does.
 */
function parseIsoDate(text: string): number | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const field = (i: number) => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 8, 9].map(field) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Why a value is refused for an operator of this kind, or undefined when it is fine. */
function valueProblem(kind: Kind, value: string): string | undefined {
  switch (kind) {
    case 'string':
      return undefined;
    case 'ip':
      return parseIpRange(value) ? undefined : `"${value}" is not an IPv4 or IPv6 address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`;
    case 'date':
      return parseIsoDate(value) !== undefined ? undefined : `"${value}" is not an ISO-8601 date or date-time with a time zone (e.g. 2030-01-01T00:00:00Z)`;
    case 'bool':
      return value === 'true' || value === 'false' ? undefined : `"${value}" is not "true" or "false"`;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A statement's `Condition`, validated: known operators, known keys of the operator's kind, a
 * value or a non-empty list of well-formed values. An empty block (`{}`, or an operator with no
 * keys) is refused too: it would make the statement unconditional, which is unlikely what was meant.
 * The document is kept as written.
 */
export const conditionSchema = z
  .custom<PolicyCondition>(isPlainObject, { error: 'Condition must be an object of {"<Operator>": {"<ConditionKey>": value or [values]}}' })
  .check(
    z.superRefine((condition, ctx) => {
      if (!isPlainObject(condition)) return; // already refused above
      const problem = (message: string, path: PropertyKey[]) => ctx.addIssue({ code: 'custom', message, path });
      const operators = Object.entries(condition);
      if (operators.length === 0) problem('Condition must name at least one operator (omit Condition for none)', []);
      for (const [operatorName, keys] of operators) {
        const operator = OPERATORS.get(operatorName);
        if (!operator) {
          problem(`condition operator "${operatorName}" is not supported (supported: ${[...OPERATORS.keys()].join(', ')})`, [operatorName]);
          continue;
        }
        if (!isPlainObject(keys) || Object.keys(keys).length === 0) {
          problem(`${operatorName} must be an object of at least one {"<ConditionKey>": value or [values]}`, [operatorName]);
          continue;
        }
        for (const [keyName, values] of Object.entries(keys)) {
          const key = keySpecOf(keyName);
          if (!key) {
            problem(`condition key "${keyName}" is not supported (supported: ${KEY_NAMES})`, [operatorName, keyName]);
            continue;
          }
          if (key.kind !== operator.kind) {
            problem(`condition operator ${operatorName} does not apply to ${keyName} (it applies to ${KEYS_OF_KIND[operator.kind]})`, [operatorName, keyName]);
            continue;
          }
          const list = typeof values === 'string' ? [values] : values;
          if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
            problem(`the value of ${keyName} must be a string or a non-empty list of strings`, [operatorName, keyName]);
            continue;
          }
          list.forEach((value: string, i) => {
            const bad = valueProblem(operator.kind, value);
            if (bad) problem(bad, typeof values === 'string' ? [operatorName, keyName] : [operatorName, keyName, i]);
          });
        }
      }
    }),
  );

/** Whether a validated `Condition` reads a `kms:tag/<TagKey>` key. */
export function conditionReadsTags(condition: PolicyCondition): boolean {
  return Object.values(condition).some((keys) => Object.keys(keys).some((name) => name.toLowerCase().startsWith(TAG_PREFIX)));
}

/**
 * Compiles a validated `Condition` once: wildcard patterns, address ranges and dates are parsed
 * here, so evaluating it for a request allocates nothing.
 */
export function compileCondition(condition: PolicyCondition): CompiledCondition {
  const tests: CompiledCondition[] = [];
  for (const [operatorName, keys] of Object.entries(condition)) {
    const operator = OPERATORS.get(operatorName)!;
    for (const [keyName, values] of Object.entries(keys)) {
      const key = keySpecOf(keyName)!;
      // The schema checked that key and operator are of one kind, so the value read fits the matcher.
      const matches = operator.compile(typeof values === 'string' ? [values] : values) as (actual: unknown) => boolean;
      const read = key.read as (context: ConditionContext) => unknown;
      const { negated } = operator;
      tests.push((context) => {
        const actual = context === undefined ? undefined : read(context);
        if (actual === undefined) return negated;
        return matches(actual) !== negated;
      });
    }
  }
  return (context) => {
    for (const test of tests) if (!test(context)) return false;
    return true;
  };
}
