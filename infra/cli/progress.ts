import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counts bytes through a stream and, when stderr is a terminal, draws a one-line progress bar
 * (`\r`-redrawn, at most ten times a second). Elsewhere it only counts, and prints nothing.
 */
export class Progress extends Transform {
  #done = 0;
  #lastDraw = 0;
  readonly #total: number | undefined;
  readonly #label: string;
  readonly #draw: boolean;
  readonly #started = Date.now();

  constructor(label: string, total: number | undefined, enabled: boolean) {
    super();
    this.#label = label;
    this.#total = total;
    this.#draw = enabled && process.stderr.isTTY === true;
  }

  get bytes(): number {
    return this.#done;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#done += chunk.length;
    const now = Date.now();
    if (this.#draw && now - this.#lastDraw >= 100) {
      this.#lastDraw = now;
      this.#render(false);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#draw) this.#render(true);
    done();
  }

  /** Clears the line (after a failure), so the error message starts at column 0. */
  clear(): void {
    if (this.#draw) process.stderr.write('\r\x1b[K');
  }

  #render(final: boolean): void {
    const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
    const rate = `${formatBytes(this.#done / seconds)}/s`;
    let line: string;
    if (this.#total !== undefined && this.#total > 0) {
      const fraction = Math.min(this.#done / this.#total, 1);
      const width = 30;
      const filled = Math.round(fraction * width);
      line = `${this.#label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(this.#done)}/${formatBytes(this.#total)} ${rate}`;
    } else {
      line = `${this.#label} ${formatBytes(this.#done)} ${rate}`;
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
