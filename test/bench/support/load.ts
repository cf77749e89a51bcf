import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  /** Connection errors, timeouts and answers other than 2xx. */
  failures: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
}

/** A request built in advance, sent as it is (`host` among the headers, as it was signed). */
export interface PreparedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * One load run of `seconds` with autocannon (in this process: the same load generator for every
 * target). With `paths`, request i is `GET paths[i]`; with `requests`, request i is `requests[i]`
 * (method, path, headers and body: a POST signed with SigV4). Either are signed in advance with
 * unique nonces; there must be more than the run can send, or the repeats are refused as replays
 * and counted as failures. Without either, every request is `GET /`. The rate counts 2xx answers
 * only.
 */
export async function runLoad(options: {
  url: string;
  connections: number;
  paths?: string[];
  requests?: PreparedRequest[];
  seconds: number;
}): Promise<LoadResult> {
  const { paths, requests } = options;
  let next = 0;
  // A copy of the headers each time: autocannon adds Content-Length to the object it is given.
  const setupRequest = requests
    ? (req: any) => {
        const r = requests[next++ % requests.length]!;
        return { ...req, method: r.method, path: r.path, headers: { ...r.headers }, body: r.body ?? Buffer.alloc(0) };
      }
    : paths
      ? (req: any) => ({ ...req, path: paths[next++ % paths.length] })
      : undefined;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
    duration: options.seconds,
    ...(setupRequest ? { requests: [{ method: 'GET', setupRequest }] } : {}),
  } as autocannon.Options);
  const ok = result['2xx'];
  return {
    requests: ok,
    seconds: result.duration,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: (result.latency as unknown as Record<string, number>).p99_9 ?? result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    statuses: Object.fromEntries(
      Object.entries((result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}).map(([code, v]) => [code, v.count]),
    ),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
