import { DeletionProtectedError, KeyPendingDeletionError, StateModifiedFailedError } from '../errors.js';
import type { KeyRecord } from '../keyring/records.js';
import { addSeconds } from '../keyring/rotation.js';

/**
 * The key-state machine, one function per transition. Each gets the current record (inside a
 * compare-and-swap retry) and returns the next, or throws the reference's error:
 *
 *     Enabled ⇄ Disabled            EnableKey / DisableKey (repeating one is a no-op)
 *     Enabled | Disabled | PendingImport → PendingDeletion     ScheduleKeyDeletion
 *     PendingDeletion → Enabled (Alibaba) | Disabled (AWS) | PendingImport (no material)
 *                                                 CancelKeyDeletion, until the delete date
 *     PendingImport → Enabled; Enabled | Disabled → PendingImport   ImportKeyMaterial; DeleteKeyMaterial
 *                                                 or expiry (EXTERNAL keys, lib/keyring/keyring.ts)
 *
 * A key with deletion protection (SetDeletionProtection) cannot be scheduled for deletion.
 */
export function enabled(record: KeyRecord): KeyRecord {
  if (record.state === 'PendingDeletion' || record.state === 'PendingImport') throw new StateModifiedFailedError(record.keyId, record.state);
  return { ...record, state: 'Enabled' };
}

export function disabled(record: KeyRecord): KeyRecord {
  if (record.state === 'PendingDeletion' || record.state === 'PendingImport') throw new StateModifiedFailedError(record.keyId, record.state);
  return { ...record, state: 'Disabled' };
}

export function pendingDeletion(record: KeyRecord, nowIso: string, windowDays: number): KeyRecord {
  if (record.state === 'PendingDeletion') throw new StateModifiedFailedError(record.keyId, record.state);
  if (record.deletionProtection) throw new DeletionProtectedError(record.keyId);
  return { ...record, state: 'PendingDeletion', stateBeforeDeletion: record.state, deleteDate: addSeconds(nowIso, windowDays * 86_400) };
}

/**
 * `to` is the state the API documents after a cancellation: Alibaba's CancelKeyDeletion returns
 * the key to Enabled, AWS's leaves it Disabled. A key whose imported material is gone returns to
 * PendingImport under both (it has nothing to be Enabled or Disabled with).
 */
export function deletionCancelled(record: KeyRecord, nowIso: string, to: 'Enabled' | 'Disabled'): KeyRecord {
  if (record.state !== 'PendingDeletion') throw new StateModifiedFailedError(record.keyId, record.state);
  // Past the delete date the scheduled deletion may already be destroying material.
  if (record.destructionStarted || (record.deleteDate !== undefined && record.deleteDate <= nowIso)) {
    throw new KeyPendingDeletionError(record.keyId);
  }
  const { stateBeforeDeletion, deleteDate: _deleteDate, ...rest } = record;
  return { ...rest, state: stateBeforeDeletion === 'PendingImport' ? 'PendingImport' : to };
}

/** The key (or its record), unless it is pending deletion: then 409 Rejected.PendingDeletion. */
export function notPendingDeletion<T extends { keyId: string; state: string }>(key: T): T {
  if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
  return key;
}
