import { isAsymmetric, specOf, usageOf } from '../crypto/key-spec.js';
import type { ResolvedKey } from '../keyring/keyring.js';
import { formatRotationInterval } from '../keyring/rotation.js';

/** The `KeyMetadata` object of CreateKey and DescribeKey, as Alibaba writes it. */
export function keyMetadata(key: ResolvedKey): Record<string, string> {
  const spec = specOf(key);
  return {
    KeyId: key.keyId,
    Arn: key.arn,
    KeyState: key.state,
    KeySpec: spec.spec,
    KeyUsage: usageOf(key),
    Origin: key.external ? 'EXTERNAL' : 'Aliyun_KMS',
    ProtectionLevel: 'SOFTWARE',
    CreationDate: key.creationDate,
    Creator: key.creator,
    Description: key.description,
    // "Unavailable for asymmetric CMKs" (Alibaba): their Actions name a version every time.
    ...(isAsymmetric(spec) ? {} : { PrimaryKeyVersion: key.primaryKeyVersion }),
    AutomaticRotation: key.automaticRotation ?? 'Disabled',
    RotationInterval: key.rotationInterval === undefined ? '' : formatRotationInterval(key.rotationInterval),
    LastRotationDate: key.lastRotationDate ?? key.creationDate,
    NextRotationDate: key.automaticRotation === 'Enabled' ? (key.nextRotationDate ?? '') : '',
    DeleteDate: key.state === 'PendingDeletion' ? (key.deleteDate ?? '') : '',
    DeletionProtection: key.deletionProtection ? 'Enabled' : 'Disabled',
    ...(key.deletionProtection ? { DeletionProtectionDescription: key.deletionProtection.description } : {}),
    // Empty when the material never expires, and when there is none (Alibaba's DescribeKey).
    MaterialExpireTime: key.external?.expireTime ?? '',
  };
}

export type KeyMetadataView = ReturnType<typeof keyMetadata>;
