import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyRecord } from './records.js';

/*
 * Imported (BYOK) material as the key record sees it. The material is present exactly when the
 * key is Enabled or Disabled, or PendingDeletion from one of those; an EXTERNAL key without it is
 * PendingImport (or PendingDeletion with PendingImport as the state to return to).
 */

/** Whether the key's material is there to use (always, for a key whose material the service made). */
export function hasMaterial(record: KeyRecord): boolean {
  if (record.state === 'PendingImport') return false;
  return !(record.state === 'PendingDeletion' && record.stateBeforeDeletion === 'PendingImport');
}

/**
 * The record with its imported material gone (DeleteKeyMaterial, or expiry): PendingImport, or
 * for a key pending deletion the same state and date with PendingImport to return to. The
 * fingerprint stays, so only the same material can come back.
 */
export function withoutMaterial(record: KeyRecord): KeyRecord {
  const { expireTime: _expired, ...external } = record.external ?? {};
  if (record.state === 'PendingDeletion') return { ...record, stateBeforeDeletion: 'PendingImport', external };
  return { ...record, state: 'PendingImport', external };
}

/**
 * The record as it stands at `nowIso`: imported material past its expiry counts as deleted.
 * Applied on every read and before every change, so no request uses expired material even before
 * the scheduled sweep destroys it.
 */
export function withMaterialExpiry(record: KeyRecord, nowIso: string): KeyRecord {
  const expireTime = record.external?.expireTime;
  return expireTime !== undefined && expireTime <= nowIso ? withoutMaterial(record) : record;
}

/**
 * The fingerprint a key keeps of its imported material: HMAC-SHA-256 keyed by the material over
 * the key id. Without the material it tells nothing (the material is 256 random bits), and one
 * material imported into two keys has two fingerprints.
 */
export function materialFingerprint(material: Buffer, keyId: string): string {
  return createHmac('sha256', material).update(`kms imported key material v1\0${keyId}`, 'utf8').digest('base64');
}

/** Constant-time comparison of two fingerprints. */
export function sameFingerprint(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64');
  const y = Buffer.from(b, 'base64');
  return x.length === y.length && timingSafeEqual(x, y);
}
