import * as cancelKeyDeletion from './cancel-key-deletion.js';
import * as createAlias from './create-alias.js';
import * as createKey from './create-key.js';
import * as createKeyVersion from './create-key-version.js';
import * as decrypt from './decrypt.js';
import * as deleteAlias from './delete-alias.js';
import * as deleteKeyMaterial from './delete-key-material.js';
import * as describeKey from './describe-key.js';
import * as describeKeyVersion from './describe-key-version.js';
import * as describeRegions from './describe-regions.js';
import * as describeService from './describe-service.js';
import * as disableKey from './disable-key.js';
import * as enableKey from './enable-key.js';
import * as encrypt from './encrypt.js';
import * as exportDataKey from './export-data-key.js';
import * as generateAndExportDataKey from './generate-and-export-data-key.js';
import * as generateDataKey from './generate-data-key.js';
import * as generateDataKeyWithoutPlaintext from './generate-data-key-without-plaintext.js';
import * as generateRandom from './generate-random.js';
import * as getParametersForImport from './get-parameters-for-import.js';
import * as getRandomPassword from './get-random-password.js';
import * as importKeyMaterial from './import-key-material.js';
import * as listAliases from './list-aliases.js';
import * as listAliasesByKeyId from './list-aliases-by-key-id.js';
import * as listKeyVersions from './list-key-versions.js';
import * as listKeys from './list-keys.js';
import * as listResourceTags from './list-resource-tags.js';
import * as reEncrypt from './re-encrypt.js';
import * as scheduleKeyDeletion from './schedule-key-deletion.js';
import * as setDeletionProtection from './set-deletion-protection.js';
import * as tagResource from './tag-resource.js';
import * as untagResource from './untag-resource.js';
import * as updateAlias from './update-alias.js';
import * as updateKeyDescription from './update-key-description.js';
import * as updateRotationPolicy from './update-rotation-policy.js';
import type { ActionDefinition } from '../lib/operation.js';

/**
 * The one table of Actions: which function serves which RPC Action. The local gateway dispatches
 * through it, serverless.yml declares a function per row, and a test fails when they drift.
 */
export interface ActionRoute {
  action: string;
  /** The function's name in serverless.yml and Function Compute. */
  functionName: string;
  /** The source file under functions/ that exports `handler`. */
  file: string;
  operation: ActionDefinition;
}

export const ACTIONS: readonly ActionRoute[] = [
  { action: 'GenerateDataKey', functionName: 'generateDataKey', file: 'functions/generate-data-key.ts', operation: generateDataKey.action },
  { action: 'GenerateDataKeyWithoutPlaintext', functionName: 'generateDataKeyWithoutPlaintext', file: 'functions/generate-data-key-without-plaintext.ts', operation: generateDataKeyWithoutPlaintext.action },
  { action: 'Encrypt', functionName: 'encrypt', file: 'functions/encrypt.ts', operation: encrypt.action },
  { action: 'Decrypt', functionName: 'decrypt', file: 'functions/decrypt.ts', operation: decrypt.action },
  { action: 'ReEncrypt', functionName: 'reEncrypt', file: 'functions/re-encrypt.ts', operation: reEncrypt.action },
  { action: 'CreateKey', functionName: 'createKey', file: 'functions/create-key.ts', operation: createKey.action },
  { action: 'DescribeKey', functionName: 'describeKey', file: 'functions/describe-key.ts', operation: describeKey.action },
  { action: 'ListKeys', functionName: 'listKeys', file: 'functions/list-keys.ts', operation: listKeys.action },
  { action: 'CreateKeyVersion', functionName: 'createKeyVersion', file: 'functions/create-key-version.ts', operation: createKeyVersion.action },
  { action: 'ListKeyVersions', functionName: 'listKeyVersions', file: 'functions/list-key-versions.ts', operation: listKeyVersions.action },
  { action: 'DescribeKeyVersion', functionName: 'describeKeyVersion', file: 'functions/describe-key-version.ts', operation: describeKeyVersion.action },
  { action: 'UpdateRotationPolicy', functionName: 'updateRotationPolicy', file: 'functions/update-rotation-policy.ts', operation: updateRotationPolicy.action },
  { action: 'EnableKey', functionName: 'enableKey', file: 'functions/enable-key.ts', operation: enableKey.action },
  { action: 'DisableKey', functionName: 'disableKey', file: 'functions/disable-key.ts', operation: disableKey.action },
  { action: 'ScheduleKeyDeletion', functionName: 'scheduleKeyDeletion', file: 'functions/schedule-key-deletion.ts', operation: scheduleKeyDeletion.action },
  { action: 'CancelKeyDeletion', functionName: 'cancelKeyDeletion', file: 'functions/cancel-key-deletion.ts', operation: cancelKeyDeletion.action },
  { action: 'CreateAlias', functionName: 'createAlias', file: 'functions/create-alias.ts', operation: createAlias.action },
  { action: 'UpdateAlias', functionName: 'updateAlias', file: 'functions/update-alias.ts', operation: updateAlias.action },
  { action: 'DeleteAlias', functionName: 'deleteAlias', file: 'functions/delete-alias.ts', operation: deleteAlias.action },
  { action: 'ListAliases', functionName: 'listAliases', file: 'functions/list-aliases.ts', operation: listAliases.action },
  { action: 'ListAliasesByKeyId', functionName: 'listAliasesByKeyId', file: 'functions/list-aliases-by-key-id.ts', operation: listAliasesByKeyId.action },
  { action: 'UpdateKeyDescription', functionName: 'updateKeyDescription', file: 'functions/update-key-description.ts', operation: updateKeyDescription.action },
  { action: 'SetDeletionProtection', functionName: 'setDeletionProtection', file: 'functions/set-deletion-protection.ts', operation: setDeletionProtection.action },
  { action: 'TagResource', functionName: 'tagResource', file: 'functions/tag-resource.ts', operation: tagResource.action },
  { action: 'UntagResource', functionName: 'untagResource', file: 'functions/untag-resource.ts', operation: untagResource.action },
  { action: 'ListResourceTags', functionName: 'listResourceTags', file: 'functions/list-resource-tags.ts', operation: listResourceTags.action },
  { action: 'GetRandomPassword', functionName: 'getRandomPassword', file: 'functions/get-random-password.ts', operation: getRandomPassword.action },
  { action: 'DescribeRegions', functionName: 'describeRegions', file: 'functions/describe-regions.ts', operation: describeRegions.action },
  { action: 'DescribeService', functionName: 'describeService', file: 'functions/describe-service.ts', operation: describeService.action },
  { action: 'ExportDataKey', functionName: 'exportDataKey', file: 'functions/export-data-key.ts', operation: exportDataKey.action },
  { action: 'GenerateAndExportDataKey', functionName: 'generateAndExportDataKey', file: 'functions/generate-and-export-data-key.ts', operation: generateAndExportDataKey.action },
  { action: 'GetParametersForImport', functionName: 'getParametersForImport', file: 'functions/get-parameters-for-import.ts', operation: getParametersForImport.action },
  { action: 'ImportKeyMaterial', functionName: 'importKeyMaterial', file: 'functions/import-key-material.ts', operation: importKeyMaterial.action },
  { action: 'DeleteKeyMaterial', functionName: 'deleteKeyMaterial', file: 'functions/delete-key-material.ts', operation: deleteKeyMaterial.action },
  { action: 'GenerateRandom', functionName: 'generateRandom', file: 'functions/generate-random.ts', operation: generateRandom.action },
];

export const OPERATIONS: readonly ActionDefinition[] = ACTIONS.map((route) => route.operation);

/** The AWS KMS operations served (X-Amz-Target, after `TrentService.`), each with the Actions that serve it, in table order. */
export const AWS_OPERATIONS: ReadonlyMap<string, readonly string[]> = ACTIONS.reduce((operations, route) => {
  for (const binding of route.operation.aws ?? []) operations.set(binding.target, [...(operations.get(binding.target) ?? []), route.action]);
  return operations;
}, new Map<string, string[]>());

/**
 * The function behind the ALB's lowest-priority rule: every Action, for requests whose Action is
 * only in a form body (no listener rule can match a body).
 */
export const DISPATCHER = { functionName: 'dispatch', file: 'functions/dispatch.ts' } as const;

/**
 * Actions that change keys: only their functions (and the dispatcher, which serves every Action,
 * and the scheduled jobs) may write to the key store. Every other function may only read it.
 */
export const KEY_WRITING_ACTIONS: ReadonlySet<string> = new Set([
  'CreateKey',
  'CreateKeyVersion',
  'UpdateRotationPolicy',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'UpdateKeyDescription',
  'SetDeletionProtection',
  'TagResource',
  'UntagResource',
  // Writes the deployment's import-token key, once.
  'GetParametersForImport',
  'ImportKeyMaterial',
  'DeleteKeyMaterial',
]);

/**
 * Actions that create key material (a new key version, imported material): only their functions,
 * the dispatcher and the scheduled rotation may create secrets in the AWS deployment. Material is
 * written once and never updated.
 */
export const MATERIAL_CREATING_ACTIONS: ReadonlySet<string> = new Set(['CreateKey', 'CreateKeyVersion', 'ImportKeyMaterial']);

/**
 * Actions that destroy key material: DeleteKeyMaterial (an imported key's). Besides their
 * functions only the dispatcher and the scheduled deletion (which also sweeps expired imported
 * material) may delete secrets.
 */
export const MATERIAL_DELETING_ACTIONS: ReadonlySet<string> = new Set(['DeleteKeyMaterial']);

/** Functions that no request reaches: a schedule runs them (locally, the gateway's timer). */
export interface ScheduledFunction {
  functionName: string;
  file: string;
  /** A schedule expression, as serverless.yml writes it. */
  schedule: string;
}

/** Functions that events run (a queue, an event bus): no request reaches them either. */
export interface EventTriggeredFunction {
  functionName: string;
  file: string;
}

export const EVENT_TRIGGERED: readonly EventTriggeredFunction[] = [
  // The key provider: a data key per partition, from an SQS queue or an EventBridge PartitionCreated event.
  { functionName: 'provisionPartitionKeys', file: 'functions/provision-partition-keys.ts' },
];

export const SCHEDULED: readonly ScheduledFunction[] = [
  { functionName: 'rotateKeys', file: 'functions/rotate-keys.ts', schedule: 'rate(1 hour)' },
  { functionName: 'deleteExpiredKeys', file: 'functions/delete-expired-keys.ts', schedule: 'rate(1 hour)' },
];
