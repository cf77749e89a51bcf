import { isoSeconds, rotatedAt } from '../keyring/rotation.js';
import type { Service } from '../service.js';

/**
 * The two scheduled jobs. Each is idempotent and safe to run on several instances at once: a
 * rotation only adds a version (write-once) and moves the primary by compare-and-swap; a
 * destruction claims the key by compare-and-swap before it destroys anything.
 */

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
    if (!key || key.state !== 'Enabled' || key.automaticRotation !== 'Enabled' || !key.nextRotationDate || key.nextRotationDate > now) continue;
    try {
      const version = await keyring.createVersion(keyId, (record, at) => rotatedAt(record, at));
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
