import { writeDocSection } from '../helpers/doc-sections.js';
import { COST_DOC, COST_SECTION, monthlyCost, oldDesignCost, PRICES, PRICES_AS_OF, renderCostTable } from './support/cost-model.js';

/**
 * `npm run cost`: the monthly cost of one AWS stage for the stated workload, from list prices
 * (test/bench/support/cost-model.ts, where every price has its source), printed and written into
 * docs/deploy-aws.md between its `aws-cost` markers.
 */
const table = renderCostTable();
await writeDocSection(COST_DOC, COST_SECTION, table);
console.log(table);
console.log(`\nPrices as of ${PRICES_AS_OF}, from:`);
for (const source of new Set(Object.values(PRICES).map((p) => p.source))) console.log(`  ${source}`);
console.log(
  `\ntotal ${monthlyCost().total.toFixed(2)} USD a month (one secret per version: ${oldDesignCost().total.toFixed(2)}); written to docs/deploy-aws.md`,
);
