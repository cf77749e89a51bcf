import { randomInt } from 'node:crypto';

/** The character classes of GetRandomPassword. Punctuation: the 32 ASCII marks, no space (AWS Secrets Manager's set). */
export const PASSWORD_CLASSES = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  numbers: '0123456789',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
} as const;

export type PasswordClass = keyof typeof PASSWORD_CLASSES;

export interface PasswordRules {
  length: number;
  /** Classes left out. */
  exclude: ReadonlySet<PasswordClass>;
  /** Characters never used. */
  excludeCharacters: string;
  /** At least one character of every included class that still has characters. */
  requireEachIncludedType: boolean;
  /** The space may be drawn too (AWS's IncludeSpace); it is no class a password must include. */
  includeSpace?: boolean;
}

/** Why no password can be made; the operation turns it into InvalidParameter naming the parameter. */
export class PasswordRulesError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A random password: each character drawn uniformly (crypto.randomInt, which rejects biased
 * draws) from the included classes less the excluded characters; with `requireEachIncludedType`,
 * one character of each included class first, then the rest, then a uniform shuffle.
 */
export function randomPassword(rules: PasswordRules): string {
  const excluded = new Set(rules.excludeCharacters);
  const classes = (Object.keys(PASSWORD_CLASSES) as PasswordClass[])
    .filter((name) => !rules.exclude.has(name))
    .map((name) => [...PASSWORD_CLASSES[name]].filter((c) => !excluded.has(c)))
    .filter((chars) => chars.length > 0);
  const pool = rules.includeSpace && !excluded.has(' ') ? [...classes.flat(), ' '] : classes.flat();
  if (pool.length === 0) throw new PasswordRulesError('ExcludeCharacters', 'No character is left to make a password of.');
  const required = rules.requireEachIncludedType ? classes : [];
  if (required.length > rules.length) {
    throw new PasswordRulesError('PasswordLength', `It must be at least ${required.length} to include every character type.`);
  }
  const chars = required.map((set) => set[randomInt(set.length)]!);
  while (chars.length < rules.length) chars.push(pool[randomInt(pool.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
