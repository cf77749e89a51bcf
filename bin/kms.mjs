#!/usr/bin/env node
// The `kms` command (package.json "bin"): runs the TypeScript CLI through tsx, so it works from a
// fresh clone with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../infra/cli/main.ts');
