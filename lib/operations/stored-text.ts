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
