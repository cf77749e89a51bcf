import type { Counter } from 'prom-client';

/** One label pair's count, and what was counted since the Counter last read it. */
interface Cell<L extends string> {
  readonly labels: Record<L, string>;
  pending: number;
}

/**
 * Increments of a Counter with two labels, kept as plain numbers per label pair and added to the
 * Counter when it is read (call {@link addTo} from its `collect`, which prom-client runs at every
 * scrape and for every worker's report). prom-client hashes the labels of every `inc`, and its
 * `labels(...)` children only bind the same `inc` (measured: ≈ 0.35 µs an `inc` either way); here
 * it is two Map lookups and an addition (≈ 0.03 µs). Series reach the Counter in the order they
 * were first counted, as they did with an `inc` each, so the text is the same.
 *
 * The label values are the caller's to keep few (Actions, Codes, cache names): every pair seen is
 * kept for the life of the process, as prom-client keeps every series.
 */
export class CounterTally<L extends string> {
  readonly #first: L;
  readonly #second: L;
  readonly #rows = new Map<string, Map<string, Cell<L>>>();
  readonly #cells: Cell<L>[] = [];

  constructor(labelNames: readonly [L, L]) {
    [this.#first, this.#second] = labelNames;
  }

  /** Counts one for the pair (`first`, `second`) of label values. */
  add(first: string, second: string): void {
    let row = this.#rows.get(first);
    if (row === undefined) {
      row = new Map();
      this.#rows.set(first, row);
    }
    const cell = row.get(second);
    if (cell !== undefined) {
      cell.pending++;
      return;
    }
    const created: Cell<L> = { labels: { [this.#first]: first, [this.#second]: second } as Record<L, string>, pending: 1 };
    row.set(second, created);
    this.#cells.push(created);
  }

  /** Adds to `counter` what was counted since the last call. */
  addTo(counter: Counter<L>): void {
    for (const cell of this.#cells) {
      if (cell.pending === 0) continue;
      counter.inc(cell.labels, cell.pending);
      cell.pending = 0;
    }
  }
}
