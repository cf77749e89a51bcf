import { KMS_ACTIONS, SECRETS_MANAGER_ACTIONS } from './kms-actions.js';
import { wildcardPattern } from './wildcard.js';

/**
 * The RAM name (`kms:<Action>`) of every Action this service serves: written from the table of
 * Actions by `npm run generate` (./kms-actions.ts), since the table imports every Action and the
 * Actions import the policy code.
 */
export { KMS_ACTIONS, SECRETS_MANAGER_ACTIONS };

/** The RAM names of Actions that serve keys as well as secrets: a `secretsmanager:` name allows them on secrets only. */
const SHARED_WITH_KEYS: ReadonlySet<string> = new Set(['kms:TagResource', 'kms:UntagResource', 'kms:ListResourceTags']);

/** A secret's resource name, in either form: `acs:kms:<region>:<account>:secret/<name>`, `arn:<partition>:secretsmanager:…`. */
export const isSecretResource = (name: string): boolean => /^acs:kms:[^:]*:[^:]*:secret\//.test(name) || /^arn:[^:]*:secretsmanager:/.test(name);

/**
 * How a statement's `Action` pattern matches a request's RAM action (`kms:<Action>`) on a resource
 * named `names` (its forms): when it matches the RAM name (case-insensitively, as RAM), or one of
 * AWS's names of the Action, `secretsmanager:<Operation>` (`secretsmanager:GetSecretValue` is
 * `kms:GetSecretValue`; `secretsmanager:*` every secrets Action, no key Action). Through AWS's
 * name, an Action that serves keys too (TagResource) is allowed on secrets only.
 */
export function actionMatcher(pattern: string): (action: string, names: readonly string[]) => boolean {
  const matcher = wildcardPattern(pattern, { caseInsensitive: true });
  const aliased = new Set(Object.entries(SECRETS_MANAGER_ACTIONS).flatMap(([name, action]) => (matcher.test(name) ? [action.toLowerCase()] : [])));
  return (action, names) =>
    matcher.test(action) || (aliased.has(action.toLowerCase()) && (!SHARED_WITH_KEYS.has(action) || (names.length > 0 && names.every(isSecretResource))));
}

/**
 * Why a policy's `Action` pattern is refused, or undefined when it is fine. A pattern must match
 * at least one action of this service, case-insensitively as RAM compares actions: `*`, `kms:*`,
 * `kms:GenerateDataKey*`, `kms:decrypt` pass; `kms:Decrpyt`, `kms:Foo*` and `ecs:*` do not. A
 * pattern that matches nothing grants nothing; refusing it turns a typo into an error at write
 * time instead of a silent 403 (or, in a Deny, a silent failure to deny).
 */
export function actionPatternProblem(pattern: string): string | undefined {
  const matcher = wildcardPattern(pattern, { caseInsensitive: true });
  if (KMS_ACTIONS.some((action) => matcher.test(action)) || Object.keys(SECRETS_MANAGER_ACTIONS).some((name) => matcher.test(name))) return undefined;
  const what = /[*?]/.test(pattern) ? 'matches no action' : 'is not an action';
  return `"${pattern}" ${what} of this service (actions are kms:<Action>, e.g. kms:Decrypt, kms:GenerateDataKey*, kms:*, or secretsmanager:<Operation> for secrets)`;
}
