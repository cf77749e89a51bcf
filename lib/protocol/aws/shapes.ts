import { KEY_SPEC_INFO, type KeySpec } from '../../crypto/key-spec.js';
import type { KeyMetadataView } from '../../operations/key-metadata.js';
import type { AwsBody } from './binding.js';
import { integer, marker } from './fields.js';

/*
 * Writing AWS JSON from an Action's output: ARNs in the region of the request's signature, dates
 * in epoch seconds, Alibaba's lists and paging as AWS's.
 */

type ArnScope = { region: string; accountId: string };

export const awsKeyArn = (scope: ArnScope, keyId: string) => `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
export const awsAliasArn = (scope: ArnScope, aliasName: string) => `arn:aws:kms:${scope.region}:${scope.accountId}:${aliasName}`;
export const epochSeconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

/** AWS's spelling of a KeyUsage. */
export const awsKeyUsage = (usage: string) => usage.replace('/', '_');

/**
 * AWS's KeySpec, KeyUsage and the algorithms of a key, as KeyMetadata and GetPublicKey carry them:
 * each list only for its usage (`SigningAlgorithms` for SIGN_VERIFY, …).
 */
export function awsKeySpecFields(keySpec: string, keyUsage: string): Record<string, unknown> {
  const info = KEY_SPEC_INFO[keySpec as KeySpec] ?? KEY_SPEC_INFO.Aliyun_AES_256;
  const algorithms =
    info.kind === 'hmac'
      ? { MacAlgorithms: [info.macAlgorithm] }
      : keyUsage === 'SIGN/VERIFY'
        ? { SigningAlgorithms: info.signingAlgorithms }
        : { EncryptionAlgorithms: info.kind === 'symmetric' ? ['SYMMETRIC_DEFAULT'] : info.encryptionAlgorithms };
  return { CustomerMasterKeySpec: info.awsName, KeySpec: info.awsName, KeyUsage: awsKeyUsage(keyUsage), ...algorithms };
}

/** AWS's KeyMetadata of a key. */
export function awsKeyMetadata(m: KeyMetadataView, scope: ArnScope): Record<string, unknown> {
  const { KeyUsage, ...specFields } = awsKeySpecFields(m.KeySpec!, m.KeyUsage!);
  return {
    AWSAccountId: scope.accountId,
    KeyId: m.KeyId,
    Arn: awsKeyArn(scope, m.KeyId!),
    CreationDate: epochSeconds(m.CreationDate),
    Enabled: m.KeyState === 'Enabled',
    Description: m.Description ?? '',
    KeyUsage,
    KeyState: m.KeyState,
    ...(m.DeleteDate ? { DeletionDate: epochSeconds(m.DeleteDate) } : {}),
    ...(m.MaterialExpireTime
      ? { ValidTo: epochSeconds(m.MaterialExpireTime), ExpirationModel: 'KEY_MATERIAL_EXPIRES' }
      : m.Origin === 'EXTERNAL'
        ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }
        : {}),
    Origin: m.Origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    ...specFields,
    MultiRegion: false,
  };
}

/** Truncated and NextMarker (the next page's number) of a page with Alibaba's paging fields. */
export function nextMarker(page: { PageNumber: number; PageSize: number; TotalCount: number }): Record<string, unknown> {
  const truncated = page.PageNumber * page.PageSize < page.TotalCount;
  return truncated ? { Truncated: true, NextMarker: String(page.PageNumber + 1) } : { Truncated: false };
}

/** An alias page as AWS lists it. */
export function awsAliasList(
  output: { Aliases: { Alias: Array<{ AliasName: string; KeyId: string }> }; PageNumber: number; PageSize: number; TotalCount: number },
  scope: ArnScope,
) {
  return {
    Aliases: (output.Aliases.Alias ?? []).map((a) => ({ AliasName: a.AliasName, AliasArn: awsAliasArn(scope, a.AliasName), TargetKeyId: a.KeyId })),
    ...nextMarker(output),
  };
}

/** ListResourceTags' paging (AWS: Limit 1–50, default 50): the Marker is the offset this service returned. */
export function tagPage(body: AwsBody): { offset: number; limit: number } {
  const limit = integer(body, 'Limit', 1, 50) ?? 50;
  return { offset: marker(body, 999_999_999) ?? 0, limit };
}
