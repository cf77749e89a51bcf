import * as z from '../internal/zod.js';

/** A partition id: 1–128 of `A-Z a-z 0-9 . _ : = + - /`. */
export const PARTITION_ID = /^[A-Za-z0-9._:=+\-/]{1,128}$/;

export const partitionIdSchema = z.string().check(z.regex(PARTITION_ID, { error: 'must be 1 to 128 of A-Z a-z 0-9 . _ : = + - /' }));

/**
 * A string → string object, kept pair for pair: the result has a null prototype, so a key such as
 * `__proto__` stays an ordinary key (zod's own record type drops it, and a context that silently
 * lost a pair would bind less than the caller sent).
 */
export const stringMapSchema = z.pipe(
  z.unknown(),
  z.transform((value: unknown, context): Record<string, string> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return z.refuse(context, value, 'must be an object of string values');
    const map: Record<string, string> = Object.create(null);
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') return z.refuse(context, value, `must hold string values only (${JSON.stringify(key)} does not)`);
      map[key] = item;
    }
    return map;
  }),
);

/** The context key that binds a partition's data key to its partition. */
export const PARTITION_CONTEXT_KEY = 'partition';

/**
 * What the registry keeps for one partition: its data key, encrypted under a CMK by
 * GenerateDataKeyWithoutPlaintext, and what Decrypt needs besides (the bound context). Never the
 * plaintext.
 */
export const partitionEntrySchema = z
  .strictObject({
    partitionId: partitionIdSchema,
    keyId: z.string().check(z.minLength(1)),
    keyVersionId: z.string().check(z.minLength(1)),
    ciphertextBlob: z.string().check(z.minLength(1)),
    /** Bound to the blob as its EncryptionContext; always holds `partition: <partitionId>`. */
    encryptionContext: stringMapSchema,
    /** ISO-8601 UTC. */
    createdAt: z.string().check(z.minLength(1)),
  })
  .check(
    z.refine((e) => e.encryptionContext[PARTITION_CONTEXT_KEY] === e.partitionId, {
      error: `encryptionContext.${PARTITION_CONTEXT_KEY} must be the partition id`,
      path: ['encryptionContext'],
    }),
  );

/**
 * A partition's registry entry: `{ partitionId, keyId, keyVersionId, ciphertextBlob,
 * encryptionContext, createdAt }` — the data key encrypted under the CMK `keyId`, and the context
 * bound to it (always with `partition: <partitionId>`). Never a plaintext key.
 */
export type PartitionEntry = z.infer<typeof partitionEntrySchema>;

/**
 * The name a registry stores a partition's entry under (a file name, an object key after the
 * prefix): the id with `/` written as `~` (not a character of ids), then `.json`. One to one, never
 * longer than 133 characters (any file system's name limit holds it), `/` makes no directory, and
 * `.` or `..` become the ordinary names `..json` and `...json`.
 */
export function entryFileName(partitionId: string): string {
  return `${partitionId.replaceAll('/', '~')}.json`;
}

/** The partition id an entry file name stands for, or undefined for a name no entry has. */
export function partitionIdOfFileName(name: string): string | undefined {
  if (!name.endsWith('.json')) return undefined;
  const id = name.slice(0, -'.json'.length).replaceAll('~', '/');
  return PARTITION_ID.test(id) && entryFileName(id) === name ? id : undefined;
}
