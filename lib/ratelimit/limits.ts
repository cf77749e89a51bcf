import * as z from '../zod.js';
import { ACTION_GROUPS, type ActionGroup } from './action-groups.js';

/** Requests per second by Action group; a group left out is unlimited. */
export type GroupRates = Partial<Record<ActionGroup, number>>;

/** At most this many requests per second in one group (a bucket holds one second's worth). */
export const MAX_RATE = 1_000_000;

/** `{"crypto": 1000, "read": 50, "write": 30}`: positive numbers of requests per second, nothing else. */
export const groupRatesSchema = z.strictObject(
  Object.fromEntries(ACTION_GROUPS.map((group) => [group, z.optional(z.number().check(z.positive(), z.lte(MAX_RATE)))])) as Record<
    ActionGroup,
    z.ZodMiniOptional<z.ZodMiniNumber>
  >,
);

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,64}$/;

/**
 * `KMS_RATE_LIMITS`: `{"default": {…}, "<AccessKeyId>": {…}}`. A key's own entry overrides the
 * default group by group; with neither, a group is unlimited.
 */
export const rateLimitsSchema = z.record(z.string(), groupRatesSchema).check(
  z.superRefine((limits, context) => {
    for (const name of Object.keys(limits)) {
      if (name !== 'default' && !ACCESS_KEY_ID.test(name))
        context.addIssue({ code: 'custom', path: [name], message: 'the name must be "default" or an access key id' });
    }
  }),
);

export type RateLimits = Record<string, GroupRates>;

/** Parses `KMS_RATE_LIMITS`; throws an Error naming the variable and the problem. */
export function parseRateLimits(text: string | undefined): RateLimits {
  if (text === undefined || text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('KMS_RATE_LIMITS must be JSON, e.g. {"default": {"crypto": 1000, "read": 50, "write": 30}}');
  }
  const parsed = rateLimitsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`KMS_RATE_LIMITS ${issue.path.length ? `at ${issue.path.join('.')}` : ''}: ${issue.message}`.replace(' :', ':'));
  }
  return parsed.data as RateLimits;
}

/**
 * The rate of one access key in one group, most specific first: the key's own record (a seed's
 * or `kms access-keys set-rate-limits`), then its entry in KMS_RATE_LIMITS, then the default;
 * undefined when none sets it (unlimited).
 */
export function rateOf(limits: RateLimits, accessKeyId: string, group: ActionGroup, own?: GroupRates): number | undefined {
  return own?.[group] ?? (Object.hasOwn(limits, accessKeyId) ? limits[accessKeyId]![group] : undefined) ?? limits.default?.[group];
}
