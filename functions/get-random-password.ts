import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { InvalidParameterError } from '../lib/errors.js';
import { defineAction } from '../lib/action.js';
import { type PasswordClass, PasswordRulesError, randomPassword } from '../lib/operations/random-password.js';
import { booleanParameter, integerParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * GetRandomPassword: a random password of PasswordLength (8–128, default 32) characters from
 * lower case, upper case, digits and the 32 ASCII punctuation marks, less the classes and
 * characters excluded; by default at least one of each included class. Authorised on `*`; no key.
 */
export const action = defineAction({
  name: 'GetRandomPassword',
  group: 'write',
  store: 'reads',
  alibaba: {
    params: z.object({
      PasswordLength: z.optional(integerParameter(8, 128)),
      ExcludeCharacters: z.optional(z.string().check(z.maxLength(128, { error: 'It must be at most 128 characters.' }))),
      ExcludeLowercase: z.optional(booleanParameter),
      ExcludeUppercase: z.optional(booleanParameter),
      ExcludeNumbers: z.optional(booleanParameter),
      ExcludePunctuation: z.optional(booleanParameter),
      RequireEachIncludedType: z.optional(booleanParameter),
    }),
  },
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input) {
    const exclude = new Set<PasswordClass>();
    if (input.ExcludeLowercase) exclude.add('lowercase');
    if (input.ExcludeUppercase) exclude.add('uppercase');
    if (input.ExcludeNumbers) exclude.add('numbers');
    if (input.ExcludePunctuation) exclude.add('punctuation');
    try {
      const password = randomPassword({
        length: input.PasswordLength ?? 32,
        exclude,
        excludeCharacters: input.ExcludeCharacters ?? '',
        requireEachIncludedType: input.RequireEachIncludedType ?? true,
      });
      return { RandomPassword: password };
    } catch (err) {
      if (err instanceof PasswordRulesError) throw new InvalidParameterError(err.parameter, err.message);
      throw err;
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
