const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;

/**
 * RFC 3986 percent-encoding as both Alibaba signature versions define it: the unreserved
 * characters `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8 byte becomes `%XX` (upper-case hex).
 * `encodeURIComponent` already does this except for `!'()*`, which it leaves alone.
 */
export function percentEncode(value: string): string {
  if (UNRESERVED.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
 * Returns undefined for malformed percent-encoding.
 */
export function formDecode(value: string): string | undefined {
  if (!value.includes('%') && !value.includes('+')) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
