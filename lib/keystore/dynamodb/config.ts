import { ConfigurationError, type Environment, optionalText } from '../../config/variable.js';
import type { BackendWiring } from '../backend.js';
import { awsRegionFromEnvironment } from '../config.js';
import { SECRETS_PREFIX, secretsManagerConfigFromEnvironment } from '../secrets-manager/config.js';
import type { DynamoDbConfig } from './dynamodb-backend.js';

export const STATE_TABLE = optionalText('KMS_STATE_TABLE', {
  shownDefault: '— (required with `dynamodb`)',
  doc: 'the DynamoDB table (`pk` + `sk`, both String; TTL on `expiresAt`)',
});

/**
 * `KMS_KEY_STORE=dynamodb` (AWS): entries and used nonces in one table, shared by every instance;
 * with `KMS_SECRETS_PREFIX` set, key material in Secrets Manager (../secrets-manager/config.ts)
 * and the rest in the table. The AWS SDK is loaded when it is opened.
 */
export const dynamoDbBackend: BackendWiring<DynamoDbConfig> = {
  kind: 'dynamodb',
  variables: [STATE_TABLE],
  fromEnvironment(env: Environment): DynamoDbConfig {
    const table = STATE_TABLE.read(env);
    if (!table) throw new ConfigurationError('KMS_KEY_STORE=dynamodb needs KMS_STATE_TABLE');
    const region = awsRegionFromEnvironment(env, 'dynamodb');
    // Only a prefix that is set moves the material: its default is the secrets-manager store's.
    const material = env[SECRETS_PREFIX.name] ? secretsManagerConfigFromEnvironment(env, 'dynamodb') : undefined;
    return { table, region, ...(material ? { material } : {}) };
  },
  ownNonces: 'shared',
  perInstance: false,
  rootKey: () => undefined,
  open: async (config, options) => (await import('./dynamodb-backend.js')).openDynamoDbState(config, options),
};
