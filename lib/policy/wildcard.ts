/**
 * A RAM wildcard pattern as an anchored RegExp: `*` matches any run of characters (including
 * none), `?` exactly one; every other character is literal (regex metacharacters are escaped).
 *
 * `caseInsensitive` is for action names (RAM compares them without regard to case); `unicode`
 * makes `?` match one code point rather than one UTF-16 unit, for free text such as
 * EncryptionContext values. Compile once (at policy compile time), never per request.
 */
export function wildcardPattern(pattern: string, options: { caseInsensitive?: boolean; unicode?: boolean } = {}): RegExp {
  let source = '';
  for (const c of pattern) {
    // Only syntax characters are escaped: under the `u` flag an escaped non-syntax character is an error.
    source += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, `s${options.caseInsensitive ? 'i' : ''}${options.unicode ? 'u' : ''}`);
}

/**
 * What a RAM wildcard pattern says about the names that are `prefix` followed by characters of
 * the class `suffix` (one character; any character when omitted), compared exactly, one UTF-16
 * unit per `?`, as {@link wildcardPattern} without flags: `some` when at least one of them
 * matches, `every` when all of them surely do. `every` is sound, not complete: it holds when a
 * `*`-only tail of the pattern is reached after the prefix (`*`, `acs:kms:*:*:key/*`), which is
 * how a policy names "every resource of a kind". With `length`, the names are `prefix` followed by
 * exactly that many such characters (a secret's AWS ARN: its name, `-` and a 6-character suffix).
 */
export function wildcardOverPrefix(pattern: string, prefix: string, suffix?: RegExp, length?: number): { some: boolean; every: boolean } {
  // The positions in the pattern the prefix can end at (an NFA run: a `*` may match nothing).
  let positions = starClosure(pattern, new Set([0]));
  for (let i = 0; i < prefix.length && positions.size > 0; i++) {
    const next = new Set<number>();
    for (const at of positions) {
      const p = pattern[at];
      if (p === '*') next.add(at);
      else if (p === '?' || p === prefix[i]) next.add(at + 1);
    }
    positions = starClosure(pattern, next);
  }
  const tails = [...positions].map((at) => pattern.slice(at));
  // A tail matches some suffix when each literal in it is a suffix character (`*` empty, `?` any one).
  const fits = (tail: string) => [...tail].every((c) => c === '*' || c === '?' || suffix === undefined || suffix.test(c));
  if (length === undefined) return { some: tails.some(fits), every: tails.some((tail) => /^\*+$/.test(tail)) };
  // Suffixes of exactly `length` characters: a tail's non-`*` characters take one each, its `*`s the rest.
  const fixed = (tail: string) => tail.replaceAll('*', '').length;
  const reaches = (tail: string) => (tail.includes('*') ? fixed(tail) <= length : fixed(tail) === length);
  return {
    some: tails.some((tail) => fits(tail) && reaches(tail)),
    every: tails.some((tail) => /^[*?]*$/.test(tail) && reaches(tail)),
  };
}

function starClosure(pattern: string, positions: Set<number>): Set<number> {
  for (const at of positions) if (pattern[at] === '*') positions.add(at + 1);
  return positions;
}
