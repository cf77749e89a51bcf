import { describe, expect, it } from 'vitest';
import { COST_DOC, COST_SECTION, monthlyCost, OLD_DESIGN, oldDesignCost, PRICES, renderCostTable, WORKLOAD } from '../bench/support/cost-model.js';
import { readDocSection } from '../helpers/doc-sections.js';

/*
 * The cost table of docs/deploy-aws.md: what `npm run cost` computes from list prices, never a
 * figure typed by hand; under $100 a month for the stated workload, and a count of secrets that
 * does not grow with keys or versions.
 */

describe('the cost of one AWS stage', () => {
  it('docs/deploy-aws.md carries the table npm run cost computes', async () => {
    expect(await readDocSection(COST_DOC, COST_SECTION)).toBe(`${renderCostTable()}\n`);
  });

  it('comes to under $100 a month for 1,000 keys × 12 versions and 10 M requests, and is the sum of its lines', () => {
    const { lines, total } = monthlyCost();
    expect(WORKLOAD).toMatchObject({ keys: 1_000, versionsPerKey: 12, requestsPerMonth: 10_000_000, region: 'eu-central-1' });
    expect(total).toBeCloseTo(
      lines.reduce((sum, l) => sum + l.usd, 0),
      9,
    );
    expect(total).toBeLessThan(100);
    expect(lines.every((l) => Number.isFinite(l.usd) && l.usd >= 0)).toBe(true);
  });

  it('holds one secret per stage, however many keys and versions; the earlier design paid for one per version', () => {
    const secretsLine = (keys: number, versionsPerKey: number) =>
      monthlyCost({ ...WORKLOAD, keys, versionsPerKey }).lines.find((l) => l.item === 'Secrets Manager secrets')!;
    expect(secretsLine(1_000, 12).usd).toBe(PRICES.secretMonth.usd);
    expect(secretsLine(100_000, 50)).toEqual(secretsLine(1_000, 12));
    expect(OLD_DESIGN.secrets).toBe(12_001);
    expect(oldDesignCost().secretsUsd).toBeGreaterThan(OLD_DESIGN.secrets * PRICES.secretMonth.usd - 0.01);
    expect(oldDesignCost().total).toBeGreaterThan(monthlyCost().total * 50);
  });

  it('grows with the requests: ten times the traffic costs more, and more than the fixed lines', () => {
    const base = monthlyCost().total;
    const busy = monthlyCost({ ...WORKLOAD, requestsPerMonth: WORKLOAD.requestsPerMonth * 10 }).total;
    expect(busy).toBeGreaterThan(base * 3);
  });
});
