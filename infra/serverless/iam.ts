import type { StoreAccess } from '../../lib/action.js';
import { entryPartition, namespaceOf } from '../../lib/keystore/dynamodb/items.js';
import { entryNames } from '../../lib/keyring/records.js';

/*
 * The IAM statements of the AWS deployment, by what a function may do to the stage's state (an
 * Action's `store`, a scheduled job's). serverless.yml holds each statement once, as a YAML anchor
 * under custom.iam; the generator (./functions.ts) lists the anchors a function gets, and
 * test/e2e/serverless.test.ts checks every packaged role against {@link grantsOf} and
 * {@link statementOf}.
 *
 * The layout the conditions rely on is the DynamoDB backend's (lib/keystore/dynamodb/items.ts):
 * one table, the partition key `pk` of an entry is `entry#<namespace>`, of a used nonce
 * `nonce#…`. Key material lives in the write-once version records (`key-versions/<key>/<version>`)
 * and their owner index (`version-index/<version>`): only functions that create material may put
 * items there, only those that delete material may change or remove them, and nothing else may
 * write there at all (`dynamodb:LeadingKeys`).
 */

/** The statements, by name: each one's anchor in serverless.yml's custom.iam. */
export const GRANTS = ['readState', 'useStateKey', 'readRootKey', 'claimNonces', 'writeState', 'createMaterial', 'deleteMaterial'] as const;
export type Grant = (typeof GRANTS)[number];

/** The partitions (`pk`) that hold key material: the write-once version records and their owner index. */
export const MATERIAL_PARTITIONS: readonly string[] = [entryNames.keyVersion('k', 'v'), entryNames.versionOwner('v')].map((name) =>
  entryPartition(namespaceOf(name)),
);

/** Every function that touches the state: consistent reads, the root key that unseals it, the stage key DynamoDB encrypts the table with. */
const READS: readonly Grant[] = ['readState', 'useStateKey', 'readRootKey'];

/** What a store access adds to reading. */
const WRITES: Record<StoreAccess, readonly Grant[]> = {
  reads: [],
  'writes-state': ['writeState'],
  'creates-material': ['writeState', 'createMaterial'],
  'deletes-material': ['writeState', 'deleteMaterial'],
};

/** The store accesses, in the order the shared roles of serverless.yml are written (./roles.ts). */
export const STORE_ACCESSES = Object.keys(WRITES) as StoreAccess[];

/**
 * The statements of a function, in the order serverless.yml lists them: a request-serving function
 * also claims the request's nonce (replay protection); a scheduled job serves no request.
 */
export function grantsOf(store: StoreAccess, servesRequests: boolean): readonly Grant[] {
  return [...READS, ...(servesRequests ? (['claimNonces'] as const) : []), ...WRITES[store]];
}

const TABLE = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
const MATERIAL_KEYS = { 'dynamodb:LeadingKeys': [...MATERIAL_PARTITIONS] };

/** Each statement as the packaged CloudFormation template holds it (what the anchors in serverless.yml must say). */
export function statementOf(grant: Grant): Record<string, unknown> {
  switch (grant) {
    case 'readState':
      return { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: TABLE };
    case 'useStateKey':
      // The table and the root-key secret are encrypted under the stage key: reading them decrypts
      // through DynamoDB or Secrets Manager, never directly.
      return {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: { 'Fn::GetAtt': ['StateKey', 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': [
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable
              { 'Fn::Sub': 'dynamodb.${AWS::Region}.amazonaws.com' },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable
              { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' },
            ],
          },
        },
      };
    case 'readRootKey':
      return { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'RootKeySecret' } };
    case 'claimNonces':
      return {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem'],
        Resource: TABLE,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['nonce#*'] } },
      };
    case 'writeState':
      return {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: TABLE,
        Condition: { 'ForAllValues:StringNotLike': MATERIAL_KEYS },
      };
    case 'createMaterial':
      return { Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: TABLE, Condition: { 'ForAllValues:StringEquals': MATERIAL_KEYS } };
    case 'deleteMaterial':
      return {
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: TABLE,
        Condition: { 'ForAllValues:StringEquals': MATERIAL_KEYS },
      };
  }
}
