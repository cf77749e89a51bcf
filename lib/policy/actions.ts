import { wildcardPattern } from './wildcard.js';

/**
 * The RAM name (`kms:<Action>`) of every Action this service serves. It is kept here, not derived
 * from functions/actions.ts, because that table imports every operation and the operations import the
 * policy code; test/unit/policy-conditions.test.ts fails when the two drift.
 */
export const KMS_ACTIONS: readonly string[] = [
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt',
  'kms:CreateKey',
  'kms:DescribeKey',
  'kms:ListKeys',
  'kms:CreateKeyVersion',
  'kms:ListKeyVersions',
  'kms:DescribeKeyVersion',
  'kms:UpdateRotationPolicy',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:ListAliases',
  'kms:ListAliasesByKeyId',
  'kms:UpdateKeyDescription',
  'kms:SetDeletionProtection',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ListResourceTags',
  'kms:GetRandomPassword',
  'kms:DescribeRegions',
  'kms:DescribeService',
  'kms:ExportDataKey',
  'kms:GenerateAndExportDataKey',
  'kms:GetParametersForImport',
  'kms:ImportKeyMaterial',
  'kms:DeleteKeyMaterial',
  'kms:GenerateRandom',
];

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
