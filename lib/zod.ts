import { core } from '@alibaba-kms-compatible/client/internal/zod';

/*
 * The service's schemas use the client package's zod (zod/mini with English messages, see there):
 * one zod, configured once, for the partition schemas and the service's alike.
 */
export * from '@alibaba-kms-compatible/client/internal/zod';

/** Whether `err` is what a zod `parse` throws. */
export function isSchemaError(err: unknown): err is core.$ZodError {
  return err instanceof core.$ZodError;
}
