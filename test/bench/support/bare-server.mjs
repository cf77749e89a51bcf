// The benchmark's baseline: a bare node:http server answering a fixed ~200-byte JSON body, with
// BARE_WORKERS processes (node:cluster, as the gateway's KMS_WORKERS) on one port. Prints
// "listening <port>" once every process listens; SIGTERM stops it.
import cluster from 'node:cluster';
import { createServer } from 'node:http';

const workers = Number(process.env.BARE_WORKERS ?? 1);
const BODY = JSON.stringify({
  RequestId: '6b4c8f6e-5d2a-4f47-9a51-3f1f0f3c2b11',
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  KeyVersionId: '2ab1a983-7072-4bbc-a582-584b5bd8391e',
  CiphertextBlob: 'ODZhOWVmZDktM2QxNi00ODk0LWJkNGYtMWZjNDNmM2YyYWJmS7FmDBBQ0BkKsQrtRnidtPwirmDcS0ZCCw==',
});

function serve(port, onListening) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 5_000;
  server.listen(port, '127.0.0.1', () => onListening(server.address().port));
  process.on('SIGTERM', () => process.exit(0));
}

if (workers <= 1) serve(0, (port) => console.log(`listening ${port}`));
else if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) console.log(`listening ${address.port}`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else serve(0, () => undefined);
