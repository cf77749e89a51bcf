import { KeyNotDueForDeletionError } from '../keyring/keyring.js';
import type { KeyRecord } from '../keyring/records.js';
import { addSeconds, rotatedAt } from '../keyring/rotation.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { acsSecretArn } from '../secrets/names.js';
import type { Service } from '../service.js';

/**
 * The two scheduled jobs. Each is idempotent and safe to run on several instances at once: a
 * rotation first claims the key by compare-and-swap (a lease, so a crashed run is retried once
 * it lapses, never skipped), then adds a version (write-once) and moves the primary; a
 * destruction claims the key by compare-and-swap before it destroys anything.
 */

/** One audit line per scheduled action; a line that cannot be written fails the key's run. */
function auditJob(
  service: Service,
  action: 'RotateKey' | 'DestroyKey' | 'DestroyExpiredKeyMaterial' | 'DestroySecret',
  keyId: string,
  code: 'OK' | 'Failed',
  keyVersionId?: string,
): Promise<void> {
  return (
    service.audit?.write({
      time: new Date(service.now()).toISOString(),
      type: 'job',
      action,
      keyArn: action === 'DestroySecret' ? keyId : service.keyring.arnOf(keyId),
      ...(keyVersionId ? { keyVersionId } : {}),
      code,
    }) ?? Promise.resolve()
  );
}

/** How long a claimed rotation may take before another run may take it over. */
export const ROTATION_LEASE_SECONDS = 300;

class NotDue extends Error {}

/**
 * A scheduled run that could not finish every due key: thrown after the others were done, so the
 * run is reported as failed (a Lambda error, an alarm) instead of logging and reporting success.
 * Names only key ids, which are not secret.
 */
export class ScheduledJobError extends Error {
  override readonly name = 'ScheduledJobError';
  constructor(
    readonly job: 'rotation' | 'deletion',
    readonly failed: readonly string[],
    readonly done: readonly string[],
  ) {
    super(`key ${job} failed for ${failed.length} of ${failed.length + done.length} due key(s): ${failed.join(', ')}`);
  }
}

function rotationDue(record: KeyRecord, now: string): boolean {
  return (
    record.state === 'Enabled' && !record.external && record.automaticRotation === 'Enabled' && !!record.nextRotationDate && record.nextRotationDate <= now
  );
}

/**
 * Creates a new primary version for every Enabled key whose automatic rotation is due
 * (`NextRotationDate` ≤ now), and moves its rotation dates on. Returns the rotated key ids; when
 * any due key could not be rotated, throws {@link ScheduledJobError} after trying all of them.
 */
export async function rotateDueKeys(service: Service): Promise<string[]> {
  const { keyring, logger } = service;
  await service.validateCaches();
  const now = isoSeconds(service.now());
  const rotated: string[] = [];
  const failed: string[] = [];
  for (const keyId of await keyring.listKeyIds()) {
    const key = await keyring.getKey(keyId);
    if (!key || !rotationDue(key, now)) continue;
    try {
      await keyring.updateKey(keyId, (record) => {
        if (!rotationDue(record, now) || (record.rotationClaimedUntil !== undefined && record.rotationClaimedUntil > now)) throw new NotDue();
        return { ...record, rotationClaimedUntil: addSeconds(now, ROTATION_LEASE_SECONDS) };
      });
    } catch (err) {
      if (err instanceof NotDue) continue;
      logger.error('key rotation failed', { keyId, error: (err as Error).message });
      failed.push(keyId);
      continue;
    }
    try {
      const version = await keyring.createVersion(key, (record, at) => {
        const { rotationClaimedUntil: _lease, ...rest } = rotatedAt(record, at);
        return rest;
      });
      logger.info('key rotated', { keyId, keyVersionId: version.keyVersionId });
      await auditJob(service, 'RotateKey', keyId, 'OK', version.keyVersionId);
      rotated.push(keyId);
    } catch (err) {
      logger.error('key rotation failed', { keyId, error: (err as Error).message });
      await auditJob(service, 'RotateKey', keyId, 'Failed').catch(() => undefined);
      failed.push(keyId);
    }
  }
  if (failed.length > 0) throw new ScheduledJobError('rotation', failed, rotated);
  return rotated;
}

/**
 * Destroys every key that is PendingDeletion past its `DeleteDate`: aliases, version material,
 * then the key; and the imported material of EXTERNAL keys whose material expired (or whose
 * DeleteKeyMaterial died before destroying it). Besides DeleteKeyMaterial, the only paths by
 * which key material disappears. Returns the destroyed key ids; when any due key could not be
 * handled, throws {@link ScheduledJobError} after trying all of them.
 */
export async function destroyDueKeys(service: Service): Promise<string[]> {
  const { keyring, logger } = service;
  await service.validateCaches();
  const now = isoSeconds(service.now());
  const destroyed: string[] = [];
  const failed: string[] = [];
  for (const keyId of await keyring.listKeyIds()) {
    const key = await keyring.getKey(keyId);
    if (key?.external && !(await sweepMaterial(service, keyId))) failed.push(keyId);
    if (key?.state !== 'PendingDeletion' || !key.deleteDate || key.deleteDate > now) continue;
    try {
      await keyring.destroyKey(keyId, now);
      logger.info('key destroyed', { keyId });
      await auditJob(service, 'DestroyKey', keyId, 'OK');
      destroyed.push(keyId);
    } catch (err) {
      // Cancelled between the listing and the claim: not due any more, not a failure.
      if (err instanceof KeyNotDueForDeletionError) continue;
      logger.error('key destruction failed', { keyId, error: (err as Error).message });
      await auditJob(service, 'DestroyKey', keyId, 'Failed').catch(() => undefined);
      failed.push(keyId);
    }
  }
  if (!(await destroyDueSecrets(service))) failed.push('secrets');
  if (failed.length > 0) throw new ScheduledJobError('deletion', [...new Set(failed)], destroyed);
  return destroyed;
}

/**
 * The secrets whose deletion window has passed (SecretStore.destroyExpired): values, then
 * metadata; one audit line per secret destroyed, named by its acs ARN. False when the run failed
 * (the next run finishes it).
 */
async function destroyDueSecrets(service: Service): Promise<boolean> {
  const arnOf = (name: string) => acsSecretArn(service.keyring.scope, name);
  try {
    for (const name of await service.secrets.destroyExpired()) {
      service.logger.info('secret destroyed', { secretName: name });
      await auditJob(service, 'DestroySecret', arnOf(name), 'OK');
    }
    return true;
  } catch (err) {
    service.logger.error('secret destruction failed', { error: (err as Error).message });
    await auditJob(service, 'DestroySecret', arnOf('*'), 'Failed').catch(() => undefined);
    return false;
  }
}

/** Destroys an EXTERNAL key's material if its record says it is gone; false when that failed. */
async function sweepMaterial(service: Service, keyId: string): Promise<boolean> {
  try {
    if (await service.keyring.sweepImportedMaterial(keyId)) {
      service.logger.info('expired key material destroyed', { keyId });
      await auditJob(service, 'DestroyExpiredKeyMaterial', keyId, 'OK');
    }
    return true;
  } catch (err) {
    service.logger.error('destroying expired key material failed', { keyId, error: (err as Error).message });
    await auditJob(service, 'DestroyExpiredKeyMaterial', keyId, 'Failed').catch(() => undefined);
    return false;
  }
}
