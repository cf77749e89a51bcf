/** The groups Alibaba Cloud KMS meters its quotas by; each access key has one bucket per group. */
export type ActionGroup = 'crypto' | 'read' | 'write';

export const ACTION_GROUPS: readonly ActionGroup[] = ['crypto', 'read', 'write'];

/** Cryptographic Actions: data keys, Encrypt, Decrypt, ReEncrypt. */
const CRYPTO = new Set(['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateAndExportDataKey', 'ExportDataKey']);

/** The group of an Action: `crypto`, `read` (Describe*, List*), or `write` (everything else). */
export function actionGroup(action: string): ActionGroup {
  if (CRYPTO.has(action)) return 'crypto';
  if (action.startsWith('Describe') || action.startsWith('List')) return 'read';
  return 'write';
}
