import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { InvalidParameterError } from '../lib/errors.js';
import { defineAction } from '../lib/action.js';
import { type PasswordClass, PasswordRulesError, randomPassword } from '../lib/operations/random-password.js';
import { booleanParameter, integerParameter } from '../lib/protocol/alibaba/schema.js';
import { bool, integer, text } from '../lib/protocol/aws/json.js';

type GetRandomPasswordInput = {
  PasswordLength?: number | undefined;
  ExcludeCharacters?: string | undefined;
  ExcludeLowercase?: boolean | undefined;
  ExcludeUppercase?: boolean | undefined;
  ExcludeNumbers?: boolean | undefined;
  ExcludePunctuation?: boolean | undefined;
  RequireEachIncludedType?: boolean | undefined;
  /** AWS's: the space may be used too. */
  IncludeSpace?: boolean | undefined;
};

/** AWS Secrets Manager's limits on PasswordLength (Alibaba's: 8–128). */
const AWS_PASSWORD_LENGTH = { min: 1, max: 4096 } as const;

/**
 * GetRandomPassword: a random password of PasswordLength (8–128, default 32) characters from
 * lower case, upper case, digits and the 32 ASCII punctuation marks, less the classes and
 * characters excluded; by default at least one of each included class. Authorised on `*`; no key.
 * Also AWS Secrets Manager's GetRandomPassword (PasswordLength 1–4096; IncludeSpace adds the space).
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
    }) as z.ZodMiniType<GetRandomPasswordInput, unknown>,
  },
  aws: [
    {
      // Secrets Manager's GetRandomPassword; AWS KMS has none.
      service: 'secretsmanager',
      target: 'GetRandomPassword',
      input: (body): GetRandomPasswordInput => ({
        PasswordLength: integer(body, 'PasswordLength', AWS_PASSWORD_LENGTH.min, AWS_PASSWORD_LENGTH.max),
        ExcludeCharacters: text(body, 'ExcludeCharacters', { max: 4096 }),
        ExcludeLowercase: bool(body, 'ExcludeLowercase'),
        ExcludeUppercase: bool(body, 'ExcludeUppercase'),
        ExcludeNumbers: bool(body, 'ExcludeNumbers'),
        ExcludePunctuation: bool(body, 'ExcludePunctuation'),
        RequireEachIncludedType: bool(body, 'RequireEachIncludedType'),
        IncludeSpace: bool(body, 'IncludeSpace'),
      }),
      output: (o: { RandomPassword: string }) => ({ RandomPassword: o.RandomPassword }),
    },
  ],
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input: GetRandomPasswordInput) {
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
        includeSpace: input.IncludeSpace === true,
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
