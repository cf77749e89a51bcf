import { config, type core, NEVER } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod for every schema, the client's and the server's (which re-exports this one): the
 * tree-shakable `zod/mini` build (a cloud function imports a few kilobytes of it, not the ~450 KB
 * of the chained API, which cost ~30 ms of every cold start), with zod's English messages, as the
 * chained API has by default.
 */
config(en());

export * from 'zod/mini';

/**
 * In a `transform`: records `message` as the problem with `input` (what `ctx.addIssue` does in the
 * chained API) and returns zod's NEVER, so the parse fails with it.
 */
export function refuse(context: core.ParsePayload, input: unknown, message: string): never {
  context.issues.push({ code: 'custom', message, input });
  return NEVER;
}
