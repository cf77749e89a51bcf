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
