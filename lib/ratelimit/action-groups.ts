/**
 * The groups Alibaba Cloud KMS meters its quotas by; each access key has one bucket per group. An
 * Action declares its own (functions/<action>.ts): `crypto` (data keys, Encrypt, Decrypt,
 * ReEncrypt, exports, asymmetric signatures), `read` (Describe*, List*, GetPublicKey), `write` (everything else).
 */
export type ActionGroup = 'crypto' | 'read' | 'write';

export const ACTION_GROUPS: readonly ActionGroup[] = ['crypto', 'read', 'write'];
