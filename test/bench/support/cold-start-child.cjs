// One cold start of a function bundle, in a fresh process: require the bundle, then invoke its
// handler once with the event in COLD_EVENT (JSON), against the local backend the environment
// names. Prints {"importMs", "firstInvokeMs", "status"} on stdout.
const { performance } = require('node:perf_hooks');

const t0 = performance.now();
const bundle = require(process.argv[2]);
const t1 = performance.now();
const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 };
Promise.resolve()
  .then(() => bundle.handler(JSON.parse(process.env.COLD_EVENT ?? '{}'), context))
  .then(
    (result) => result?.statusCode ?? 'ok',
    (err) => `threw ${err?.name ?? 'error'}`,
  )
  .then((status) => {
    const t2 = performance.now();
    process.stdout.write(`${JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, status })}\n`);
    process.exit(0);
  });
