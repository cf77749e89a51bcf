import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pipeSizedChunks } from '../../lib/audit/audit-log.js';

describe('Audit lines to a shared stdout', () => {
  it('when a batch of lines is cut for a pipe, the pieces rejoin to the batch, each ends at a line end, and none exceeds the limit unless one line alone does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary', maxLength: 700 }).map((s) => `${s.replace(/\n/g, ' ')}\n`),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 64, max: 4096 }),
        (lines, limit) => {
          const text = lines.join('');
          const chunks = pipeSizedChunks(text, limit);
          expect(chunks.join('')).toBe(text);
          for (const chunk of chunks) {
            expect(chunk.endsWith('\n')).toBe(true);
            if (Buffer.byteLength(chunk) > limit) expect(chunk.indexOf('\n')).toBe(chunk.length - 1);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('when the batch fits, it is written whole', () => {
    expect(pipeSizedChunks('a\nb\n', 4096)).toEqual(['a\nb\n']);
  });
});
