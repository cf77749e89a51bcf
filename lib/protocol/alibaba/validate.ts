import type * as z from '../../zod.js';
import { InvalidParameterError, MissingParameterError } from '../../errors.js';

/**
 * Validates raw parameters against an operation's schema: an absent required parameter is a
 * MissingParameter, any other failure an InvalidParameter naming the parameter.
 */
export function validateInput<T>(schema: z.ZodMiniType<T>, raw: Record<string, unknown>): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'request');
  if (raw[name] === undefined) throw new MissingParameterError(name);
  throw new InvalidParameterError(name, issue.message);
}
