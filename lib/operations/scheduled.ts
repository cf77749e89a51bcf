import type { KeyRecord } from '../keyring/records.js';
import { addSeconds, rotatedAt } from '../keyring/rotation.js';
import { isoSeconds } from '../time.js';
import type { Service } from '../service.js';

/**
 * The two scheduled jobs. Each is idempotent and safe to run on several instances at once: a
 * rotation first claims the key by compare-and-swap (a lease, so a crashed run is retried once
 * it lapses, never skipped), then adds a version (write-once) and moves the primary; a
 * destruction claims the key by compare-and-swap before it destroys anything.
 */

/** How long a claimed rotation may take before another run may take it over. */
export const ROTATION_LEASE_SECONDS = 300;

class NotDue extends Error {}

function rotationDue(record: KeyRecord, now: string): boolean {
  return record.state === 'Enabled' && record.automaticRotation === 'Enabled' && !!record.nextRotationDate && record.nextRotationDate <= now;
}

/**
 * Creates a new primary version for every Enabled key whose automatic rotation is due
 * (`NextRotationDate` ≤ now), and moves its rotation dates on. Returns the rotated key ids.
 */
export async function rotateDueKeys(service: Service): Promise<string[]> {
  const { keyring, logger } = service;
  const now = isoSeconds(service.now());
  const rotated: string[] = [];
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
      continue;
    }
    try {
      const version = await keyring.createVersion(keyId, (record, at) => {
        const { rotationClaimedUntil: _lease, ...rest } = rotatedAt(record, at);
        return rest;
      });
      rotated.push(keyId);
      logger.info('key rotated', { keyId, keyVersionId: version.keyVersionId });
    } catch (err) {
      logger.error('key rotation failed', { keyId, error: (err as Error).message });
    }
  }
  return rotated;
}

/**
 * Destroys every key that is PendingDeletion past its `DeleteDate`: aliases, version material,
 * then the key. The only path by which key material ever disappears. Returns the destroyed ids.
 */
export async function destroyDueKeys(service: Service): Promise<string[]> {
  const { keyring, logger } = service;
  const now = isoSeconds(service.now());
  const destroyed: string[] = [];
  for (const keyId of await keyring.listKeyIds()) {
    const key = await keyring.getKey(keyId);
    if (!key || key.state !== 'PendingDeletion' || !key.deleteDate || key.deleteDate > now) continue;
    try {
      await keyring.destroyKey(keyId, now);
      destroyed.push(keyId);
      logger.info('key destroyed', { keyId });
    } catch (err) {
      logger.error('key destruction failed', { keyId, error: (err as Error).message });
    }
  }
  return destroyed;
}
