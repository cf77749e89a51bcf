import { action as cancelKeyDeletion } from './cancel-key-deletion.js';
import { action as createAlias } from './create-alias.js';
import { action as createKey } from './create-key.js';
import { action as createKeyVersion } from './create-key-version.js';
import { action as decrypt } from './decrypt.js';
import { action as deleteAlias } from './delete-alias.js';
import { action as deleteKeyMaterial } from './delete-key-material.js';
import { action as describeKey } from './describe-key.js';
import { action as describeKeyVersion } from './describe-key-version.js';
import { action as describeRegions } from './describe-regions.js';
import { action as describeService } from './describe-service.js';
import { action as disableKey } from './disable-key.js';
import { action as enableKey } from './enable-key.js';
import { action as encrypt } from './encrypt.js';
import { action as exportDataKey } from './export-data-key.js';
import { action as generateAndExportDataKey } from './generate-and-export-data-key.js';
import { action as generateDataKey } from './generate-data-key.js';
import { action as generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext.js';
import { action as generateMac } from './generate-mac.js';
import { action as generateRandom } from './generate-random.js';
import { action as getParametersForImport } from './get-parameters-for-import.js';
import { action as getRandomPassword } from './get-random-password.js';
import { action as importKeyMaterial } from './import-key-material.js';
import { action as listAliases } from './list-aliases.js';
import { action as listAliasesByKeyId } from './list-aliases-by-key-id.js';
import { action as listKeyVersions } from './list-key-versions.js';
import { action as listKeys } from './list-keys.js';
import { action as listResourceTags } from './list-resource-tags.js';
import { action as reEncrypt } from './re-encrypt.js';
import { action as scheduleKeyDeletion } from './schedule-key-deletion.js';
import { action as setDeletionProtection } from './set-deletion-protection.js';
import { action as tagResource } from './tag-resource.js';
import { action as untagResource } from './untag-resource.js';
import { action as updateAlias } from './update-alias.js';
import { action as updateKeyDescription } from './update-key-description.js';
import { action as updateRotationPolicy } from './update-rotation-policy.js';
import { action as verifyMac } from './verify-mac.js';
import { action as asymmetricSign } from './asymmetric-sign.js';
import { action as asymmetricVerify } from './asymmetric-verify.js';
import { action as getPublicKey } from './get-public-key.js';
import { action as asymmetricEncrypt } from './asymmetric-encrypt.js';
import { action as asymmetricDecrypt } from './asymmetric-decrypt.js';
import { action as generateDataKeyPair } from './generate-data-key-pair.js';
import { action as generateDataKeyPairWithoutPlaintext } from './generate-data-key-pair-without-plaintext.js';
import { action as listAuditEvents } from './list-audit-events.js';
import { action as describeAccessKey } from './describe-access-key.js';
import { action as batchGetSecretValue } from './batch-get-secret-value.js';
import { action as createSecret } from './create-secret.js';
import { action as getSecretValue } from './get-secret-value.js';
import { action as putSecretValue } from './put-secret-value.js';
import { action as describeSecret } from './describe-secret.js';
import { action as listSecrets } from './list-secrets.js';
import { action as listSecretVersionIds } from './list-secret-version-ids.js';
import { action as updateSecret } from './update-secret.js';
import { action as updateSecretVersionStage } from './update-secret-version-stage.js';
import { action as deleteSecret } from './delete-secret.js';
import { action as restoreSecret } from './restore-secret.js';
import type { AwsService } from '../lib/protocol/aws/binding.js';
import type { ActionDefinition, StoreAccess } from '../lib/action.js';

/**
 * The one table of Actions. Each Action's file declares everything about it (functions/<action>.ts:
 * defineAction); everything that lists Actions is derived from this table: the gateway's dispatcher,
 * the AWS operations served, the serverless functions, their listener rules and IAM statements
 * (serverless.yml), the RAM action names policies are checked against (lib/policy/kms-actions.ts).
 * `npm run generate` writes the generated files; a test fails when they are not current.
 *
 * The order is the order of the listener rules' priorities: a new Action goes at the end.
 */
/** The secrets Actions (Alibaba's KMS secrets API), over lib/secrets/. */
const SECRETS_ACTIONS: readonly ActionDefinition[] = [
  createSecret,
  getSecretValue,
  putSecretValue,
  describeSecret,
  listSecrets,
  listSecretVersionIds,
  updateSecret,
  updateSecretVersionStage,
  deleteSecret,
  restoreSecret,
  batchGetSecretValue,
];

export const OPERATIONS: readonly ActionDefinition[] = [
  generateDataKey,
  generateDataKeyWithoutPlaintext,
  encrypt,
  decrypt,
  reEncrypt,
  createKey,
  describeKey,
  listKeys,
  createKeyVersion,
  listKeyVersions,
  describeKeyVersion,
  updateRotationPolicy,
  enableKey,
  disableKey,
  scheduleKeyDeletion,
  cancelKeyDeletion,
  createAlias,
  updateAlias,
  deleteAlias,
  listAliases,
  listAliasesByKeyId,
  getRandomPassword,
  describeRegions,
  describeService,
  updateKeyDescription,
  setDeletionProtection,
  tagResource,
  untagResource,
  listResourceTags,
  exportDataKey,
  generateAndExportDataKey,
  getParametersForImport,
  importKeyMaterial,
  deleteKeyMaterial,
  generateRandom,
  asymmetricSign,
  asymmetricVerify,
  getPublicKey,
  asymmetricEncrypt,
  asymmetricDecrypt,
  generateDataKeyPair,
  generateDataKeyPairWithoutPlaintext,
  generateMac,
  verifyMac,
  listAuditEvents,
  describeAccessKey,
  ...SECRETS_ACTIONS,
];

/** A row of the table, as the deployments name it: the function that serves an Action, and its source file. */
export interface ActionRoute {
  action: string;
  /** The function's name in serverless.yml and Function Compute: the Action's, with a lower-case first letter, unless it names its own. */
  functionName: string;
  /** The source file that exports `handler` (and `fcHandler`): the Action's name in kebab case under functions/. */
  file: string;
  operation: ActionDefinition;
}

export const ACTIONS: readonly ActionRoute[] = OPERATIONS.map((operation) => ({
  action: operation.name,
  functionName: operation.functionName ?? operation.name[0]!.toLowerCase() + operation.name.slice(1),
  file: `functions/${operation.name.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase()}.ts`,
  operation,
}));

/**
 * The rows the AWS serverless stack (serverless.yml, infra/serverless/) deploys: every Action, each
 * in its own function behind its own listener rules. A CloudFormation stack holds at most 500
 * resources; infra/serverless/ keeps an Action's share small (one load-balancer permission, the
 * failure alarms grouped, the roles shared), and test/e2e/serverless.test.ts asserts the count and
 * the room left for more Actions (docs/deploy-aws.md, "One stack, 500 resources").
 */
export const ACTIONS_IN_AWS_STACK: readonly ActionRoute[] = ACTIONS;

/** The operations of one AWS service served (X-Amz-Target, after its prefix), each with the Actions that serve it, in table order. */
const operationsOf = (service: AwsService): ReadonlyMap<string, readonly string[]> =>
  OPERATIONS.reduce((operations, action) => {
    for (const binding of action.aws ?? []) {
      if ((binding.service ?? 'kms') === service) operations.set(binding.target, [...(operations.get(binding.target) ?? []), action.name]);
    }
    return operations;
  }, new Map<string, string[]>());

/** The AWS KMS operations served (X-Amz-Target, after `TrentService.`), each with the Actions that serve it, in table order. */
export const AWS_OPERATIONS = operationsOf('kms');

/** The AWS Secrets Manager operations served (X-Amz-Target, after `secretsmanager.`), each with the Actions that serve it. */
export const SECRETS_MANAGER_OPERATIONS = operationsOf('secretsmanager');

const withStore = (...access: StoreAccess[]): ReadonlySet<string> => new Set(OPERATIONS.filter((o) => access.includes(o.store)).map((o) => o.name));

/** Actions that change keys: only their functions (and the scheduled jobs) may write to the key store. */
export const KEY_WRITING_ACTIONS = withStore('writes-state', 'creates-material', 'deletes-material');
/** Actions that create key material (a new version, imported material), written once and never updated. */
export const MATERIAL_CREATING_ACTIONS = withStore('creates-material');
/** Actions that destroy key material (an imported key's). */
export const MATERIAL_DELETING_ACTIONS = withStore('deletes-material');

/**
 * The function behind the ALB's lowest-priority rule: every Action, for requests whose Action is
 * only in a form body (no listener rule can match a body); on AWS it forwards each to the Action's
 * own function.
 */
export const DISPATCHER = { functionName: 'dispatch', file: 'functions/dispatch.ts' } as const;

/** Functions that no request reaches: a schedule runs them (locally, the gateway's timer). */
export interface ScheduledFunction {
  functionName: string;
  file: string;
  /** A schedule expression, as serverless.yml writes it. */
  schedule: string;
  /** What the job may do to the key store (as an Action's `store`); it claims no nonces. */
  store: StoreAccess;
  /** Why, for the deployment's reader. */
  purpose: string;
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
  {
    functionName: 'rotateKeys',
    file: 'functions/rotate-keys.ts',
    schedule: 'rate(1 hour)',
    store: 'creates-material',
    purpose: 'Adds a version to each key whose rotation is due.',
  },
  {
    functionName: 'deleteExpiredKeys',
    file: 'functions/delete-expired-keys.ts',
    schedule: 'rate(1 hour)',
    store: 'deletes-material',
    purpose: "Deletes key material after a key's deletion window, and imported material past its expiry.",
  },
];
