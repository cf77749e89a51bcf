import { KMS_ACTIONS } from './kms-actions.js';
import { wildcardPattern } from './wildcard.js';

/**
 * The RAM name (`kms:<Action>`) of every Action this service serves: written from the table of
 * Actions by `npm run generate` (./kms-actions.ts), since the table imports every Action and the
 * Actions import the policy code.
 */
export { KMS_ACTIONS };

/**
 * Why a policy's `Action` pattern is refused, or undefined when it is fine. A pattern must match
 * at least one action of this service, case-insensitively as RAM compares actions: `*`, `kms:*`,
 * `kms:GenerateDataKey*`, `kms:decrypt` pass; `kms:Decrpyt`, `kms:Foo*` and `ecs:*` do not. A
 * pattern that matches nothing grants nothing; refusing it turns a typo into an error at write
 * time instead of a silent 403 (or, in a Deny, a silent failure to deny).
 */
export function actionPatternProblem(pattern: string): string | undefined {
  const matcher = wildcardPattern(pattern, { caseInsensitive: true });
  if (KMS_ACTIONS.some((action) => matcher.test(action))) return undefined;
  const what = /[*?]/.test(pattern) ? 'matches no action' : 'is not an action';
  return `"${pattern}" ${what} of this service (actions are kms:<Action>, e.g. kms:Decrypt, kms:GenerateDataKey*, kms:*)`;
}
