#!/usr/bin/env node
// The `kms` command (package.json "bin"): the compiled CLI, run by plain node (`npm run build`,
// which `npm install` runs through `prepare`, compiles it to dist/).
import { recordHangups } from '../dist/infra/gateway/hangup.js';

// First, before the CLI's modules load: a SIGHUP while `kms serve` starts must not end the gateway
// (infra/gateway/hangup.ts). Every other command gives the signal back its default action before it runs.
recordHangups();
await import('../dist/infra/cli/main.js');
