/**
 * The first key that one object of a JSON text gives twice, at any depth, compared as decoded
 * strings (so `{"a":1,"\u0061":2}` repeats "a"); undefined when every object's keys are distinct.
 *
 * JSON.parse keeps the last of repeated keys without a word, so a text can mean one thing to this
 * service and another to a reader that keeps the first: callers that bind what was sent (an
 * EncryptionContext) refuse such a text instead. `text` must be JSON that JSON.parse accepted;
 * the scan then only needs to tell strings, keys and nesting apart, in one pass.
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far in an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (expectingKey) {
        const keys = open[open.length - 1]!;
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (keys.has(key)) return key;
        keys.add(key);
        expectingKey = false;
      }
    } else if (c === OPEN_BRACE) {
      open.push(new Set());
      expectingKey = true;
    } else if (c === OPEN_BRACKET) {
      open.push(null);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      open.pop();
      expectingKey = false;
    } else if (c === COMMA) {
      expectingKey = open[open.length - 1] !== null;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
