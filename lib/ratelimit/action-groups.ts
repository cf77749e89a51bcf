/**
 * The groups Alibaba Cloud KMS meters its quotas by; each access key has one bucket per group. An
 * Action declares its own (functions/<action>.ts): `crypto` (data keys, Encrypt, Decrypt,
 * ReEncrypt, exports, asymmetric signatures), `read` (Describe*, List*, GetPublicKey), `write`
 * (everything else). Secrets have four of their own, as AWS Secrets Manager meters them (both
 * protocols draw from the same buckets, since both reach one store): `secrets-read`
 * (GetSecretValue, BatchGetSecretValue, DescribeSecret; AWS: 10,000/s), `secrets-write`
 * (PutSecretValue, UpdateSecret, UpdateSecretVersionStage; AWS: 50/s), `secrets-lifecycle`
 * (CreateSecret, DeleteSecret, RestoreSecret) and `secrets-list` (ListSecrets,
 * ListSecretVersionIds). Tags on secrets stay `write`, as TagResource serves keys too.
 */
export type ActionGroup = 'crypto' | 'read' | 'write' | 'secrets-read' | 'secrets-write' | 'secrets-lifecycle' | 'secrets-list';

export const ACTION_GROUPS: readonly ActionGroup[] = ['crypto', 'read', 'write', 'secrets-read', 'secrets-write', 'secrets-lifecycle', 'secrets-list'];
