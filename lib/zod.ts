import { config, core, NEVER } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod for every schema of the service: the tree-shakable `zod/mini` build (functions import a few
 * kilobytes of it, not the ~450 KB of the chained API, which cost ~30 ms of every cold start), with
 * zod's English messages, as the chained API has by default.
 */
config(en());

export * from 'zod/mini';

/** Whether `err` is what a zod `parse` throws. */
export function isSchemaError(err: unknown): err is core.$ZodError {
  return err instanceof core.$ZodError;
}

/**
 * In a `transform`: records `message` as the problem with `input` (what `ctx.addIssue` does in the
 * chained API) and returns zod's NEVER, so the parse fails with it.
 */
export function refuse(context: core.ParsePayload, input: unknown, message: string): never {
  context.issues.push({ code: 'custom', message, input });
  return NEVER;
}
