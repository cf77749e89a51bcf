#!/usr/bin/env node
// The `kms` command (package.json "bin"): the compiled CLI, run by plain node (`npm run build`,
// which `npm install` runs through `prepare`, compiles it to dist/).
await import('../dist/infra/cli/main.js');
