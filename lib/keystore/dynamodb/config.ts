import { ConfigurationError, type Environment, optionalText } from '../../config/variable.js';
import type { BackendWiring } from '../backend.js';
import { awsRegionFromEnvironment, rootKeySourceFromEnvironment } from '../config.js';
import { SECRETS_PREFIX, secretsManagerConfigFromEnvironment } from '../secrets-manager/config.js';
import type { DynamoDbConfig } from './dynamodb-backend.js';

export const STATE_TABLE = optionalText('KMS_STATE_TABLE', {
  shownDefault: '— (required with `dynamodb`)',
  doc: 'the DynamoDB table (`pk` + `sk`, both String; TTL on `expiresAt`); every value in it sealed under the root key',
});

/**
 * `KMS_KEY_STORE=dynamodb` (AWS): every entry (key material included) and the used nonces in one
 * table, shared by every instance, every value sealed under the root key (`KMS_ROOT_KEY_SOURCE`;
 * on a cloud function a root key file is refused, lib/config/service.ts). `KMS_SECRETS_PREFIX`,
 * when set, names where an earlier layout kept key material (one secret per version): read only
 * for versions not migrated yet (`kms store migrate-material`). The AWS SDK is loaded when it is opened.
 */
export const dynamoDbBackend: BackendWiring<DynamoDbConfig> = {
  kind: 'dynamodb',
  variables: [STATE_TABLE],
  fromEnvironment(env: Environment): DynamoDbConfig {
    const table = STATE_TABLE.read(env);
    if (!table) throw new ConfigurationError('KMS_KEY_STORE=dynamodb needs KMS_STATE_TABLE');
    const region = awsRegionFromEnvironment(env, 'dynamodb');
    // Only a prefix that is set is read: its default is the secrets-manager store's.
    const legacyMaterial = env[SECRETS_PREFIX.name] ? secretsManagerConfigFromEnvironment(env, 'dynamodb') : undefined;
    return { table, region, rootKey: rootKeySourceFromEnvironment(env), ...(legacyMaterial ? { legacyMaterial } : {}) };
  },
  ownNonces: 'shared',
  perInstance: false,
  rootKey: (config) => config.rootKey,
  open: async (config, options) => (await import('./dynamodb-backend.js')).openDynamoDbState(config, options),
};
