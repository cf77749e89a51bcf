/**
 * Where the provisioner's access key is kept (`KMS_PROVISIONER_SECRET`): `aws-secrets-manager:<id>`
 * (a name or ARN), `alibaba-kms-secret:<name>`, or — as the AWS stack sets it, and stacks deployed
 * before the prefixes existed — a bare Secrets Manager name or ARN. The same forms as
 * `KMS_ROOT_KEY_SOURCE`'s managed sources; `kms access-keys create-provisioner --secret` takes them too.
 */
export interface ProvisionerSecretSource {
  kind: 'aws-secrets-manager' | 'alibaba-kms-secret';
  /** The secret's id (AWS: name or ARN) or name (Alibaba). */
  id: string;
}

/** `KMS_PROVISIONER_SECRET` names no secret, or a store this does not know. */
export class ProvisionerSecretSettingError extends Error {
  readonly code = 'ProvisionerSecretSetting';
}

const PREFIXES = ['aws-secrets-manager', 'alibaba-kms-secret'] as const;

/** The secret `value` names; a value with an unknown `store:` prefix is refused, not taken for an AWS name. */
export function provisionerSecretSource(value: string): ProvisionerSecretSource {
  const text = value.trim();
  const colon = text.indexOf(':');
  // An AWS secret name holds no colon; an ARN starts with `arn:`.
  if (colon === -1 || text.startsWith('arn:')) return nonEmpty({ kind: 'aws-secrets-manager', id: text }, value);
  const prefix = text.slice(0, colon);
  const kind = PREFIXES.find((p) => p === prefix);
  if (!kind) {
    throw new ProvisionerSecretSettingError(
      `the provisioner's secret "${value.slice(0, 80)}" names no known store: use aws-secrets-manager:<id>, alibaba-kms-secret:<name>, or a Secrets Manager name or ARN`,
    );
  }
  return nonEmpty({ kind, id: text.slice(colon + 1) }, value);
}

function nonEmpty(source: ProvisionerSecretSource, value: string): ProvisionerSecretSource {
  if (!source.id) throw new ProvisionerSecretSettingError(`the provisioner's secret "${value.slice(0, 80)}" names no secret`);
  return source;
}
