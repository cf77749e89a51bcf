import { groupRatesSchema } from './ratelimit/limits.js';
import { readFile } from 'node:fs/promises';
import * as z from './zod.js';
import type { AccessKeyRegistry } from './access-keys.js';
import { isAccessKeyId } from './access-keys.js';
import { isAliasName, isKeyId, isKeyVersionId, isReservedAlias } from './keyring/key-id.js';
import type { Keyring } from './keyring/keyring.js';
import { KEY_MATERIAL_BYTES } from './keyring/records.js';
import { EntryExistsError } from './keystore/key-store.js';
import type { Logger } from './logger.js';
import { policyDocumentSchema } from './policy/policy.js';

/** A seed that cannot be applied: malformed, or contradicting what the store already holds. */
export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

const material = z.string().check(
  z.regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: `must be Base64 of ${KEY_MATERIAL_BYTES} bytes` }),
  z.refine((v) => Buffer.from(v, 'base64').length === KEY_MATERIAL_BYTES, { error: `must be Base64 of ${KEY_MATERIAL_BYTES} bytes` }),
);

export const seedSchema = z
  .strictObject({
    keys: z.optional(
      z.array(
        z
          .strictObject({
            keyId: z.string().check(z.refine(isKeyId, { error: 'must be a UUID or key-<letters and digits>' })),
            description: z.optional(z.string().check(z.maxLength(8192))),
            state: z.optional(z.enum(['Enabled', 'Disabled'])),
            aliases: z.optional(
              z.array(
                z.string().check(
                  z.refine(isAliasName, { error: 'must be alias/ followed by 1–255 of A-Z a-z 0-9 _ - /' }),
                  z.refine((a) => !isReservedAlias(a), { error: 'alias/acs is reserved' }),
                ),
              ),
            ),
            versions: z.optional(
              z.array(
                z.strictObject({
                  keyVersionId: z.string().check(z.refine(isKeyVersionId, { error: 'must be a UUID' })),
                  material: z.optional(material),
                }),
              ),
            ),
            primaryKeyVersion: z.optional(z.string()),
          })
          .check(
            z.refine((k) => k.primaryKeyVersion === undefined || (k.versions ?? []).some((v) => v.keyVersionId === k.primaryKeyVersion), {
              error: "must name one of the key's versions",
              path: ['primaryKeyVersion'],
            }),
          ),
      ),
    ),
    accessKeys: z.optional(
      z.array(
        z.strictObject({
          accessKeyId: z.string().check(z.refine(isAccessKeyId, { error: 'must be 8–64 letters and digits' })),
          accessKeySecret: z.string().check(z.minLength(16, { error: 'must be at least 16 characters' })),
          policy: policyDocumentSchema,
          rateLimits: z.optional(groupRatesSchema),
        }),
      ),
    ),
  })
  .check(
    z.superRefine((seed, context) => {
      // The check pass cannot see a clash the write pass itself would create: refuse it up front.
      const once = (kind: string, path: (string | number)[], values: Iterable<string>) => {
        const seen = new Set<string>();
        for (const value of values) {
          if (seen.has(value)) context.addIssue({ code: 'custom', path, message: `names ${kind} "${value}" more than once` });
          seen.add(value);
        }
      };
      const keys = seed.keys ?? [];
      once(
        'key',
        ['keys'],
        keys.map((k) => k.keyId),
      );
      once(
        'key version',
        ['keys'],
        keys.flatMap((k) => (k.versions ?? []).map((v) => v.keyVersionId)),
      );
      once(
        'alias',
        ['keys'],
        keys.flatMap((k) => k.aliases ?? []),
      );
      once(
        'access key',
        ['accessKeys'],
        (seed.accessKeys ?? []).map((a) => a.accessKeyId),
      );
    }),
  );

export type Seed = z.infer<typeof seedSchema>;

/** Reads and validates a seed file; every problem names the file and the field. */
export async function readSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SeedError(`cannot read seed file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SeedError(`seed file ${path} is not valid JSON`);
  }
  return validateSeed(json, `seed file ${path}`);
}

/** The seed, validated; a problem is a SeedError naming `source` and the field. */
function validateSeed(value: unknown, source: string): Seed {
  const result = seedSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    throw new SeedError(`${source}: ${field || 'the document'} ${issue.message}`);
  }
  return result.data;
}

/** What applying a seed needs: the service's keyring, access keys, and a logger for what it leaves alone. */
export interface SeedTarget {
  keyring: Keyring;
  accessKeys: AccessKeyRegistry;
  logger?: Logger;
}

/**
 * Applies a seed idempotently: what is missing is created; what exists is left as the store has
 * it (the store wins on everything the API can change: state, description, primary version,
 * policy, where an alias points, and deletions). The seed is validated first, as readSeedFile
 * does (an access key's policy included): an invalid one is a SeedError and nothing is written.
 *
 * - A seeded access key that was deleted, a seeded key that was destroyed, and a seeded alias that
 *   was deleted stay deleted; a seeded alias moved to another key stays there. Each is logged.
 * - A seed that contradicts the store in a way no API call can produce — other material for an
 *   existing version, a version owned by another key, an alias the seed never created bound to
 *   another key, another secret for an access key — is refused, and nothing is written.
 */
export async function applySeed(seed: Seed, deps: SeedTarget): Promise<void> {
  // Validated here too, not only by readSeedFile: a seed built in code must not write half of
  // itself before an access key's policy (checked again by the registry) turns out invalid.
  const valid = validateSeed(seed, 'seed');
  // Every contradiction is looked for before anything is written, so a refused seed leaves the store as it was.
  await seedPass(valid, deps, false);
  await seedPass(valid, deps, true);
}

/** One pass over the seed: refuses contradictions; creates what is missing (and logs what it leaves) only when `write`. */
async function seedPass(seed: Seed, deps: SeedTarget, write: boolean): Promise<void> {
  const { keyring, accessKeys } = deps;
  const note = (message: string, fields: Record<string, unknown>) => {
    if (write) deps.logger?.info(message, fields);
  };
  for (const key of seed.keys ?? []) {
    if (await keyring.wasDestroyed(key.keyId)) {
      note('seed: a seeded key was deleted; it stays deleted', { keyId: key.keyId });
      continue;
    }
    for (const version of key.versions ?? []) {
      const owner = await keyring.versionOwner(version.keyVersionId);
      const stored = await keyring.getVersionRecord(key.keyId, version.keyVersionId);
      if (owner !== undefined && owner !== key.keyId) {
        throw new SeedError(`seed key ${key.keyId}: version ${version.keyVersionId} already belongs to key ${owner}`);
      }
      if (stored) {
        if (version.material !== undefined && !Buffer.from(stored.material, 'base64').equals(Buffer.from(version.material, 'base64'))) {
          throw new SeedError(`seed key ${key.keyId}: version ${version.keyVersionId} exists with different material; refusing to overwrite it`);
        }
        // A start killed between the version's two writes left it without its index.
        if (write && owner === undefined) await keyring.ensureVersionOwner(key.keyId, version.keyVersionId);
        continue;
      }
      if (!write) continue;
      await keyring.addVersion(key.keyId, {
        keyVersionId: version.keyVersionId,
        material: version.material === undefined ? undefined : Buffer.from(version.material, 'base64'),
      });
    }
    if (write && !(await keyring.getKey(key.keyId))) {
      let primaryKeyVersion = key.primaryKeyVersion ?? key.versions?.at(-1)?.keyVersionId;
      primaryKeyVersion ??= await keyring.addVersion(key.keyId, {});
      await ignoreExisting(keyring.createKeyRecord({ keyId: key.keyId, description: key.description, state: key.state, creator: 'seed', primaryKeyVersion }));
    }
    for (const aliasName of key.aliases ?? []) {
      const existing = await keyring.readAlias(aliasName);
      const seededFor = await keyring.seededAliasKey(aliasName);
      if (existing?.keyId === key.keyId) {
        // Remembered from now on, so that a later deletion or move of it is respected.
        if (write && seededFor !== key.keyId) await keyring.markSeeded(aliasName, key.keyId);
      } else if (seededFor === key.keyId) {
        note(existing ? 'seed: a seeded alias was moved to another key; it stays there' : 'seed: a seeded alias was deleted; it stays deleted', {
          aliasName,
          keyId: key.keyId,
          ...(existing ? { now: existing.keyId } : {}),
        });
      } else if (existing) {
        throw new SeedError(`seed key ${key.keyId}: alias ${aliasName} is already bound to key ${existing.keyId}`);
      } else if (write) {
        await keyring.createAlias(aliasName, key.keyId);
        await keyring.markSeeded(aliasName, key.keyId);
      }
    }
  }
  for (const accessKey of seed.accessKeys ?? []) {
    const existing = await accessKeys.get(accessKey.accessKeyId);
    if (existing) {
      if (existing.accessKeySecret !== accessKey.accessKeySecret) {
        throw new SeedError(`seed access key ${accessKey.accessKeyId} exists with a different secret; refusing to overwrite it`);
      }
    } else if (await accessKeys.wasDeleted(accessKey.accessKeyId)) {
      note('seed: a seeded access key was deleted; it stays deleted', { accessKeyId: accessKey.accessKeyId });
    } else if (write) {
      await accessKeys.create({ ...accessKey, status: 'Enabled', createdAt: new Date().toISOString() });
    }
  }
}

/** Another process may create the same entry between our check and our write; that is success. */
async function ignoreExisting(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!(err instanceof EntryExistsError)) throw err;
  }
}
