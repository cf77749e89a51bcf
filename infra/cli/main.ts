import { run } from './program.js';

// The `kms` command's entry point (bin/kms.mjs runs the compiled file): run, and exit with the code.
process.exitCode = await run(process.argv);
