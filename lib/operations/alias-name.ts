import * as z from '../zod.js';
import { isAliasName, isReservedAlias } from '../keyring/key-id.js';

/** `alias/` + 1–255 of `A-Z a-z 0-9 _ - /`; `alias/acs` and `alias/acs/…` are reserved. */
export const aliasNameParameter = z
  .string()
  .check(
    z.refine(isAliasName, { error: 'It must be alias/ followed by 1 to 255 of A-Z a-z 0-9 _ - /.' }),
    z.refine((name) => !isReservedAlias(name), { error: 'Names under alias/acs are reserved.' }),
  );
