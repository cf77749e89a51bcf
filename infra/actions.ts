import * as decrypt from '../functions/decrypt.js';
import * as encrypt from '../functions/encrypt.js';
import * as generateDataKey from '../functions/generate-data-key.js';
import * as generateDataKeyWithoutPlaintext from '../functions/generate-data-key-without-plaintext.js';
import type { Operation } from '../lib/operation.js';

/**
 * The one table of Actions: which function serves which RPC Action. The local gateway dispatches
 * through it, serverless.yml declares a function per row, and a test fails when they drift.
 */
export interface ActionRoute {
  action: string;
  /** The function's name in serverless.yml and Function Compute. */
  functionName: string;
  /** The source file under functions/ that exports `handler`. */
  file: string;
  operation: Operation<any, any>;
}

export const ACTIONS: readonly ActionRoute[] = [
  { action: 'GenerateDataKey', functionName: 'generateDataKey', file: 'functions/generate-data-key.ts', operation: generateDataKey.operation },
  {
    action: 'GenerateDataKeyWithoutPlaintext',
    functionName: 'generateDataKeyWithoutPlaintext',
    file: 'functions/generate-data-key-without-plaintext.ts',
    operation: generateDataKeyWithoutPlaintext.operation,
  },
  { action: 'Encrypt', functionName: 'encrypt', file: 'functions/encrypt.ts', operation: encrypt.operation },
  { action: 'Decrypt', functionName: 'decrypt', file: 'functions/decrypt.ts', operation: decrypt.operation },
];

export const OPERATIONS: readonly Operation<any, any>[] = ACTIONS.map((route) => route.operation);
