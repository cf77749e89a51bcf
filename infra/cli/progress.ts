import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counts bytes through a stream (or items, with `advance`) and, when stderr is a terminal, draws a
 * one-line progress bar (`\r`-redrawn, at most ten times a second). Elsewhere it only counts, and
 * prints nothing.
 */
export class Progress extends Transform {
  #done = 0;
  #lastDraw = 0;
  readonly #total: number | undefined;
  readonly #label: string;
  readonly #draw: boolean;
  readonly #started = Date.now();
  readonly #format: (n: number) => string;

  constructor(label: string, total: number | undefined, enabled: boolean, unit: 'bytes' | 'items' = 'bytes') {
    super();
    this.#label = label;
    this.#total = total;
    this.#draw = enabled && process.stderr.isTTY === true;
    this.#format = unit === 'bytes' ? formatBytes : (n) => n.toFixed(0);
  }

  /** Counts `n` more (items, when nothing streams through), redrawing at most ten times a second. */
  advance(n: number): void {
    this.#done += n;
    const now = Date.now();
    if (this.#draw && now - this.#lastDraw >= 100) {
      this.#lastDraw = now;
      this.#render(false);
    }
  }

  /** Draws the final line (a stream does this when it ends). */
  finish(): void {
    if (this.#draw) this.#render(true);
  }

  get bytes(): number {
    return this.#done;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.advance(chunk.length);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.finish();
    done();
  }

  /** Clears the line (after a failure), so the error message starts at column 0. */
  clear(): void {
    if (this.#draw) process.stderr.write('\r\x1b[K');
  }

  #render(final: boolean): void {
    const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
    const rate = `${this.#format(this.#done / seconds)}/s`;
    let line: string;
    if (this.#total !== undefined && this.#total > 0) {
      const fraction = Math.min(this.#done / this.#total, 1);
      const width = 30;
      const filled = Math.round(fraction * width);
      line = `${this.#label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${this.#format(this.#done)}/${this.#format(this.#total)} ${rate}`;
    } else {
      line = `${this.#label} ${this.#format(this.#done)} ${rate}`;
    }
    process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
