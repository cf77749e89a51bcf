import { run } from './program.js';

// A reader that stops early (`kms --help | head`) closes the pipe: what is left to print has no
// reader, which is the end of the command, not a failure of it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

// The `kms` command's entry point (bin/kms.mjs runs the compiled file): run, and exit with the code.
process.exitCode = await run(process.argv);
