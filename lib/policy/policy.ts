import * as z from '../zod.js';
import { actionMatcher, actionPatternProblem } from './actions.js';
import { type CompiledCondition, compileCondition, type ConditionContext, conditionReadsTags, conditionSchema } from './conditions.js';
import { wildcardOverPrefix, wildcardPattern } from './wildcard.js';

export type { ConditionContext } from './conditions.js';
export { KMS_ACTIONS } from './actions.js';

/**
 * An Alibaba RAM policy document, the subset a KMS access key needs:
 * `{"Version":"1","Statement":[{"Effect":"Allow"|"Deny","Action":…,"Resource":…,"Condition":…}]}`.
 * `Action` and `Resource` are a string or a list; `*` and `?` are wildcards. Every `Action`
 * pattern must match at least one action of this service (see {@link actionPatternProblem}), and
 * `Condition` is checked in full (see ./conditions.ts): what the service cannot enforce is refused,
 * never ignored, since ignoring it would grant more (or deny less) than was written.
 */
const stringOrList = z.union([z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1))).check(z.minLength(1))]);

const actionPatterns = stringOrList.check(
  z.superRefine((value, ctx) => {
    const patterns = Array.isArray(value) ? value : [value];
    patterns.forEach((pattern, i) => {
      const problem = actionPatternProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: Array.isArray(value) ? [i] : [] });
    });
  }),
);

export const policyDocumentSchema = z.strictObject({
  Version: z.literal('1'),
  Statement: z
    .array(
      z.strictObject({
        Effect: z.enum(['Allow', 'Deny']),
        Action: actionPatterns,
        Resource: stringOrList,
        Condition: z.optional(conditionSchema),
      }),
    )
    .check(z.minLength(1)),
});

export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

/** A policy document that does not validate; the message names every problem's place in the document. */
export class InvalidPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPolicyError';
  }
}

/** `Statement[0].Condition.IpAddress.acs:SourceIp[1]: "10.0.0.300" is not …; …` (at most `limit` problems). */
export function describePolicyIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }, limit = 3): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => {
      const place = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
      return `${place || '(document)'}: ${issue.message}`;
    })
    .join('; ');
}

/** Validates a policy document; throws {@link InvalidPolicyError} with a readable message. */
export function parsePolicyDocument(document: unknown): PolicyDocument {
  const result = policyDocumentSchema.safeParse(document);
  if (!result.success) throw new InvalidPolicyError(`the policy is not valid: ${describePolicyIssues(result.error)}`);
  return result.data;
}

/** A policy compiled once into matchers; evaluation allocates nothing per request. */
export interface CompiledPolicy {
  /**
   * Whether `action` on `resource` is allowed. `context` feeds the statements' conditions; without
   * it every condition key counts as missing (see ./conditions.ts), so a conditional Allow does not
   * allow and a Deny conditioned on a negated operator denies.
   */
  isAllowed(action: string, resource: string | readonly string[], context?: ConditionContext): boolean;
  /**
   * Whether `action` could be allowed on some resource of `scope`, from what a request says before
   * anything is read: false only when {@link isAllowed} is false for every resource of the scope,
   * whatever their tags (no Allow can apply, or a Deny applies to all of them). Conditions are
   * evaluated on `context` except those that read `kms:tag/<TagKey>`, which may hold (in an
   * Allow) or may not (in a Deny) until the resource is read — unless `context` gives the
   * resources' tags (`resourceTags`), as it does for secrets, whose tag conditions see none.
   */
  mayAllow(action: string, scope: ResourceScope, context?: ConditionContext): boolean;
  /**
   * Whether a statement names an AWS ARN (`arn:aws:kms:…`): only then does a request's key need
   * its AWS forms checked too (a key is one resource, named either way).
   */
  readonly namesAwsArns: boolean;
  /**
   * Whether a condition reads `kms:tag/<TagKey>`: only then must a key be read before the check
   * (for its tags); otherwise a key is authorised on its ARN before the store is touched.
   */
  readonly readsResourceTags: boolean;
}

/**
 * The resources a request can name before anything is read: `names` are one resource's names
 * (its Alibaba and AWS ARNs); with `suffix` (a class of one character), every resource named by
 * one of them followed by such characters (an alias's key: `acs:kms:<region>:<account>:key/`
 * and a key id).
 */
export interface ResourceScope {
  names: readonly string[];
  suffix?: RegExp;
  /** With `suffix`: exactly this many of its characters follow a name (default: any number). */
  suffixLength?: number;
  /** Names of the same resources matched as written, without `suffix` (a secret's acs ARN, beside its AWS ARN's prefix). */
  exactNames?: readonly string[];
}

interface CompiledStatement {
  allow: boolean;
  /** Whether the statement names the action (on a resource named so: see actionMatcher). */
  actions: Array<(action: string, names: readonly string[]) => boolean>;
  resourcePatterns: string[];
  resources: RegExp[];
  /** What each resource pattern says of a scope, by scope (see {@link scopeReach}). */
  reachByScope: Map<string, { some: boolean; every: boolean }>;
  condition: CompiledCondition | undefined;
  /** The condition reads `kms:tag/<TagKey>`: it can be known only once the resource is read. */
  conditionReadsTags: boolean;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/**
 * Compiles a validated document. Evaluation: a statement applies when its action, its resource and
 * its condition (if any) all match; an explicit Deny that applies wins; otherwise an Allow that
 * applies allows; otherwise deny. Actions (`kms:Decrypt`) match case-insensitively, as in RAM;
 * resources (ARNs) match exactly.
 */
export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  const statements: CompiledStatement[] = document.Statement.map((s) => ({
    allow: s.Effect === 'Allow',
    actions: list(s.Action).map(actionMatcher),
    resourcePatterns: list(s.Resource),
    reachByScope: new Map(),
    resources: list(s.Resource).map((r) => wildcardPattern(r)),
    condition: s.Condition === undefined ? undefined : compileCondition(s.Condition),
    conditionReadsTags: s.Condition !== undefined && conditionReadsTags(s.Condition),
  }));
  return {
    readsResourceTags: document.Statement.some((s) => s.Condition !== undefined && conditionReadsTags(s.Condition)),
    namesAwsArns: document.Statement.some((s) => list(s.Resource).some((r) => r.startsWith('arn:'))),
    isAllowed(action, resource, context) {
      const names = typeof resource === 'string' ? [resource] : resource;
      let allowed = false;
      for (const s of statements) {
        // A statement applies to a resource named in any of its forms (an Alibaba or an AWS ARN).
        if (!s.actions.some((a) => a(action, names)) || !s.resources.some((r) => names.some((name) => r.test(name)))) continue;
        if (s.condition && !s.condition(context)) continue;
        if (!s.allow) return false;
        allowed = true;
      }
      return allowed;
    },
    mayAllow(action, scope, context) {
      // Tags given with the request's context (a resource whose tags are known before it is read)
      // let tag conditions be evaluated now, as `isAllowed` will.
      const tagsKnown = context?.resourceTags !== undefined;
      let allowable = false;
      for (const s of statements) {
        if (!s.actions.some((a) => a(action, scope.exactNames ? [...scope.exactNames, ...scope.names] : scope.names))) continue;
        const reach = scopeReach(s, scope);
        if (!reach.some) continue;
        const undecided = s.conditionReadsTags && !tagsKnown;
        if (s.allow) {
          if (!s.condition || undecided || s.condition(context)) allowable = true;
        } else if (reach.every && (!s.condition || (!undecided && s.condition(context)))) {
          // This Deny applies to every resource of the scope, whatever is read later.
          return false;
        }
      }
      return allowable;
    },
  };
}

/** Scopes remembered per statement: those of the service's own ARNs (a few); a secret's, which a caller names, never. */
const REMEMBERED_SCOPES = 16;

/**
 * Whether a statement's resources match some resource of the scope, and surely every one. Each
 * resource of a scope is named in every form, so one form covered whole covers them all.
 */
function scopeReach(s: CompiledStatement, scope: ResourceScope): { some: boolean; every: boolean } {
  const exact = scope.exactNames?.length ? s.resources.some((r) => scope.exactNames!.some((name) => r.test(name))) : false;
  if (exact) return { some: true, every: true };
  if (!scope.suffix) {
    const matched = s.resources.some((r) => scope.names.some((name) => r.test(name)));
    return { some: matched, every: matched };
  }
  const key = `${scope.suffix.source}\n${scope.suffixLength ?? ''}\n${scope.names.join('\n')}`;
  const known = s.reachByScope.get(key);
  if (known) return known;
  let reach = { some: false, every: false };
  for (const pattern of s.resourcePatterns) {
    for (const name of scope.names) {
      const one = wildcardOverPrefix(pattern, name, scope.suffix, scope.suffixLength);
      reach = { some: reach.some || one.some, every: reach.every || one.every };
    }
  }
  // A secret's scope names what a caller sent: never remembered, so it cannot crowd out the service's own.
  if (scope.exactNames === undefined && s.reachByScope.size < REMEMBERED_SCOPES) s.reachByScope.set(key, reach);
  return reach;
}

/** The policy of the bootstrap admin key: every KMS action on every resource. */
export const ADMIN_POLICY: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['kms:*'], Resource: ['*'] }],
};

/** A policy that denies everything: for a stored policy that no longer validates. */
export const DENY_ALL_POLICY: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Deny', Action: 'kms:*', Resource: '*' }],
};
