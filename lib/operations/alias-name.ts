import * as z from '../zod.js';
import { isAliasName, isReservedAlias } from '../keyring/key-id.js';

/** Why an alias name is refused, or undefined: `alias/` + 1–255 of `A-Z a-z 0-9 _ - /`; `alias/acs` and `alias/acs/…` are reserved. */
export function aliasNameProblem(name: string): string | undefined {
  if (!isAliasName(name)) return 'It must be alias/ followed by 1 to 255 of A-Z a-z 0-9 _ - /.';
  if (isReservedAlias(name)) return 'Names under alias/acs are reserved.';
  return undefined;
}

/** An alias name parameter (see {@link aliasNameProblem}). */
export const aliasNameParameter = z.string().check(
  z.superRefine((name, context) => {
    const problem = aliasNameProblem(name);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
);
