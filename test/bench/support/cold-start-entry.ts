/**
 * What `npm run bench:cold-start` bundles (esbuild, as serverless.yml bundles a function) and loads
 * in each fresh process: the composition a function's init runs, and the Action it then serves.
 */
export { action as generateDataKey } from '../../../functions/generate-data-key.js';
export { buildRpcHandler } from '../../../lib/middleware/stack.js';
export { serviceFromEnvironment } from '../../../lib/service-from-env.js';
