// One cold start in a fresh process, for `npm run bench:cold-start` (test/bench/cold-start.ts):
// load the bundle (test/bench/support/cold-start-entry.ts), build the service from the
// environment (what a function's init does), then serve the requests in COLD_REQUESTS (JSON, each
// body in Base64) one after the other. Every HTTP call the process makes (DynamoDB, Secrets
// Manager: all local stand-ins) is counted per phase, with its rounds: calls started before
// another ended count as one round. Prints one JSON line on stdout.
const http = require('node:http');
const { performance } = require('node:perf_hooks');

let clock = 0;
let calls = [];
const request = http.request;
http.request = function countedRequest(...args) {
  const call = { start: ++clock, end: undefined };
  calls.push(call);
  const req = request.apply(this, args);
  const settle = () => {
    if (call.end === undefined) call.end = ++clock;
  };
  req.once('response', (res) => {
    res.once('end', settle);
    res.once('close', settle);
  });
  req.once('error', settle);
  req.once('close', settle);
  return req;
};

/** The calls of a phase, and how many rounds a caller waited for (the critical path's depth). */
function phase() {
  const ordered = calls.sort((a, b) => a.start - b.start);
  const depth = new Map();
  for (const call of ordered) {
    let after = 0;
    for (const earlier of ordered) if (earlier.end !== undefined && earlier.end < call.start) after = Math.max(after, depth.get(earlier));
    depth.set(call, after + 1);
  }
  const result = { calls: ordered.length, rounds: Math.max(0, ...depth.values()) };
  calls = [];
  return result;
}

async function main() {
  const t0 = performance.now();
  const entry = require(process.argv[2]);
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  const service = await entry.serviceFromEnvironment(process.env);
  const handle = entry.buildRpcHandler(entry.generateDataKey, service);
  const initMs = performance.now() - t1;
  const init = phase();
  const requests = [];
  for (const r of JSON.parse(process.env.COLD_REQUESTS)) {
    const t = performance.now();
    const response = await handle({ ...r, body: Buffer.from(r.body, 'base64') });
    requests.push({ ms: performance.now() - t, status: response.statusCode, ...phase() });
  }
  process.stdout.write(`${JSON.stringify({ importMs, initMs, init, requests })}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ error: String(err?.message ?? err) })}\n`);
  process.exit(1);
});
