/** Characters XML 1.0 cannot carry (and a lone surrogate, which no encoding can). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: it matches the control characters XML 1.0 cannot carry, to refuse them
export const XML_UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\p{Cs}]/u;

/**
 * Why text the service stores and returns (a Description) is refused, or undefined: more than
 * `max` characters, or a control character (tab, newline and carriage return aside) or a lone
 * surrogate — XML 1.0 cannot carry those, and a Format=XML answer must stay valid XML.
 */
export function storedTextProblem(text: string, max: number): string | undefined {
  if (text.length > max) return `It must be at most ${max.toLocaleString('en-US')} characters.`;
  if (XML_UNSAFE.test(text)) return 'It must not contain control characters or invalid Unicode.';
  return undefined;
}

const XML_UNSAFE_ALL = new RegExp(XML_UNSAFE.source, 'gu');

/**
 * Text a caller chose that the service shows back (an audit record's Action or access key id, as
 * the request claimed them), with each character XML 1.0 cannot carry replaced by U+FFFD: such
 * text is recorded as it came, and must not make a Format=XML answer that shows it impossible.
 */
export function displayableText(text: string): string {
  return XML_UNSAFE.test(text) ? text.replace(XML_UNSAFE_ALL, '\uFFFD') : text;
}
