import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentEncode, sigV4CanonicalRequest } from '@alibaba-kms-compatible/client/signing';

/** The canonical request's headers and path as AWS defines them, spelled out plainly. */
function definedHeaders(headers: Record<string, string>, signed: readonly string[]): string {
  return [...signed]
    .sort()
    .map((name) => `${name}:${(Object.hasOwn(headers, name) ? headers[name]! : '').trim().replace(/[ \t]+/g, ' ')}\n`)
    .join('');
}
function definedPath(path: string): string {
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };
  return path
    .split('/')
    .map((segment) => percentEncode(percentEncode(decode(segment))))
    .join('/');
}

const headerName = fc.constantFrom('host', 'x-amz-date', 'x-amz-target', 'content-type', 'x-amz-content-sha256', 'amz-sdk-request', 'constructor');
const headerValue = fc.oneof(
  fc.string(),
  fc.stringMatching(/^[ \t]*[a-z]{0,3}([ \t]{1,3}[a-z]{1,3}){0,3}[ \t]*$/),
  fc.constantFrom('a\tb', 'a  b', ' \t x \t ', 'attempt=1; max=3'),
);

describe('Module: signing/sigv4 (client package)', () => {
  describe('function sigV4CanonicalRequest', () => {
    it('when headers hold any value (tabs, runs of spaces, leading and trailing space), their lines are trimmed with each run made one space', () => {
      fc.assert(
        fc.property(fc.dictionary(headerName, headerValue), fc.uniqueArray(headerName, { minLength: 1 }), (headers, signed) => {
          const canonical = sigV4CanonicalRequest({ method: 'post', path: '/', query: [], headers, signedHeaders: signed, payloadHash: 'h' });
          expect(canonical).toBe(`POST\n/\n\n${definedHeaders(headers, signed)}\n${[...signed].sort().join(';')}\nh`);
        }),
        { numRuns: 2_000 },
      );
    });

    it('when the path is any path, "/" included, each segment is encoded twice as AWS defines it', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.constant('/'),
            fc.string().map((s) => `/${s}`),
            fc.webPath(),
          ),
          (path) => {
            const canonical = sigV4CanonicalRequest({ method: 'GET', path, query: [], headers: {}, signedHeaders: [], payloadHash: 'h' });
            expect(canonical).toBe(`GET\n${definedPath(path)}\n\n\n\nh`);
          },
        ),
        { numRuns: 1_000 },
      );
    });
  });
});
