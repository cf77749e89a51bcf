import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidKeyMaterialError, KeyMaterialBusyError, KeyNotFoundError, StateModifiedFailedError, UnsupportedOriginError } from '../errors.js';
import { hasMaterial, materialFingerprint, sameFingerprint, withoutMaterial } from './external-material.js';
import type { KeyRecord } from './records.js';
import type { KeyVersions } from './versions.js';

/** How long one import, deletion or sweep may hold a key's material before another may take over. */
export const MATERIAL_LEASE_MS = 60_000;
/** How long a call waits for another's lease before answering 409. */
const LEASE_WAIT_MS = 5_000;

/** What the imported-material steps need from the keyring. */
export interface MaterialKeyring {
  versions: KeyVersions;
  /** Compare-and-swap on the key record (expiry applied before `change`); see Keyring.updateKey. */
  updateKey(keyId: string, change: (current: KeyRecord) => KeyRecord): Promise<KeyRecord>;
  now(): number;
}

class LeaseHeld extends Error {}
class NothingToDo extends Error {}

/**
 * Importing, deleting and sweeping an EXTERNAL key's material. Each writes or destroys the one
 * material entry between two compare-and-swaps of the key record, and holds a lease on the record
 * (`external.leaseUntilMs`) from the first to the second, so the three never interleave: without
 * it an import's write could land between a deletion's record change and its destroy, leaving a
 * key Enabled without material, or a first import could bind one material while another is
 * stored. A lease left by a process that died lapses after {@link MATERIAL_LEASE_MS}.
 */
export class ImportedMaterial {
  constructor(private readonly keyring: MaterialKeyring) {}

  /**
   * Binds material to an EXTERNAL key (the first import) or restores it (the same material after
   * deletion or expiry, or to change the expiry): PendingImport → Enabled, Enabled and Disabled
   * stay. Other material than the first: InvalidKeyMaterialError, compared in constant time.
   */
  async import(keyId: string, material: Buffer, expireTime: string | undefined): Promise<KeyRecord> {
    const fingerprint = materialFingerprint(material, keyId);
    const check = (record: KeyRecord): KeyRecord => {
      if (!record.external) throw new UnsupportedOriginError(keyId, 'Aliyun_KMS');
      if (record.state === 'PendingDeletion') throw new StateModifiedFailedError(keyId, record.state);
      if (record.external.fingerprint !== undefined && !sameFingerprint(record.external.fingerprint, fingerprint)) throw new InvalidKeyMaterialError();
      return record;
    };
    return this.#leased(keyId, check, async (record) => {
      const { versions } = this.keyring;
      let stored = await versions.putImported(keyId, record.primaryKeyVersion, material, record.creationDate);
      if (stored === 'other' && record.external?.fingerprint === undefined) {
        // Left by a first import that died before binding its material: not bound, so not the key's.
        await versions.destroyMaterial(keyId, record.primaryKeyVersion);
        stored = await versions.putImported(keyId, record.primaryKeyVersion, material, record.creationDate);
      }
      if (stored === 'other') throw new InvalidKeyMaterialError();
      return (current) => ({
        ...current,
        state: current.state === 'PendingImport' ? 'Enabled' : current.state,
        external: { fingerprint, ...(expireTime ? { expireTime } : {}) },
      });
    });
  }

  /**
   * DeleteKeyMaterial: the record first (PendingImport, or PendingImport to return to when pending
   * deletion), then the material entry. The fingerprint stays: only the same material comes back.
   */
  async delete(keyId: string): Promise<KeyRecord> {
    return this.#leased(
      keyId,
      (record) => {
        if (!record.external) throw new UnsupportedOriginError(keyId, 'Aliyun_KMS');
        return withoutMaterial(record);
      },
      async (record) => {
        await this.keyring.versions.destroyMaterial(keyId, record.primaryKeyVersion);
        return (current) => current;
      },
    );
  }

  /**
   * The scheduled sweep: when the record says an EXTERNAL key has no material (expired, which the
   * record is then written to say, or deleted), its material entry is destroyed if one is there.
   * Returns whether material was destroyed.
   */
  async sweep(keyId: string): Promise<boolean> {
    let destroyed = false;
    try {
      await this.#leased(
        keyId,
        (record) => {
          if (!record.external || hasMaterial(record)) throw new NothingToDo();
          return record;
        },
        async (record) => {
          if (await this.keyring.versions.hasMaterial(keyId, record.primaryKeyVersion)) {
            await this.keyring.versions.destroyMaterial(keyId, record.primaryKeyVersion);
            destroyed = true;
          }
          return (current) => current;
        },
        { wait: false },
      );
    } catch (err) {
      if (err instanceof NothingToDo || err instanceof KeyMaterialBusyError || err instanceof KeyNotFoundError) return false;
      throw err;
    }
    return destroyed;
  }

  /**
   * Takes the lease with `begin` (a record change that may refuse), runs `work`, then releases the
   * lease with the change `work` returned. On a failure of `work` the lease is released unchanged.
   */
  async #leased(
    keyId: string,
    begin: (record: KeyRecord) => KeyRecord,
    work: (record: KeyRecord) => Promise<(current: KeyRecord) => KeyRecord>,
    options: { wait: boolean } = { wait: true },
  ): Promise<KeyRecord> {
    const { keyring } = this;
    const giveUpAt = keyring.now() + LEASE_WAIT_MS;
    let leased: KeyRecord;
    for (let attempt = 1; ; attempt++) {
      try {
        leased = await keyring.updateKey(keyId, (record) => {
          const lease = record.external?.leaseUntilMs;
          if (lease !== undefined && lease > keyring.now()) throw new LeaseHeld();
          const next = begin(record);
          return next.external ? { ...next, external: { ...next.external, leaseUntilMs: keyring.now() + MATERIAL_LEASE_MS } } : next;
        });
        break;
      } catch (err) {
        if (!(err instanceof LeaseHeld)) throw err;
        if (!options.wait || keyring.now() >= giveUpAt) throw new KeyMaterialBusyError(keyId);
        await sleep(Math.min(25 * attempt, 250));
      }
    }
    let finish: (current: KeyRecord) => KeyRecord;
    try {
      finish = await work(leased);
    } catch (err) {
      // Released with the record as the lease left it; the work's own failure is what the caller sees.
      await this.#release(keyId, (current) => current).catch(() => undefined);
      throw err;
    }
    return this.#release(keyId, finish);
  }

  #release(keyId: string, finish: (current: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    return this.keyring.updateKey(keyId, (current) => {
      const next = finish(current);
      if (!next.external) return next;
      const { leaseUntilMs: _lease, ...external } = next.external;
      return { ...next, external };
    });
  }
}
