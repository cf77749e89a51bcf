import { recordHangups } from './hangup.js';

// First, before the gateway's modules load (most of the start): a SIGHUP from here on is kept for
// the gateway, not its default action (see hangup.ts). node:cluster runs this same file in each worker.
recordHangups();
const { main } = await import('./main.js');

/** `npm start`: runs the gateway (see main.ts); a start-up failure prints one line and exits 1. */
main().catch((err: unknown) => {
  // Start-up problems are the operator's to fix: say what, not where in the code.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`kms gateway failed to start: ${message}`);
  process.exit(1);
});
