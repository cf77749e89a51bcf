import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { type Command, InvalidArgumentError } from 'commander';
import { type ApiParams, type ClientTls, DEFAULT_ENDPOINT, endpointUrl, KmsApiError, KmsClient } from '@alibaba-kms-compatible/client';
import { usageError } from './exit-codes.js';
import { emit } from './output.js';

/** The global options (main.ts declares them), as every command sees them. */
export interface GlobalOptions {
  endpoint?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  output?: 'json' | 'table';
  timeout?: number;
  caFile?: string;
  clientCert?: string;
  clientKey?: string;
}

/** The endpoint and credentials from the global options: flags win over ALIBABA_CLOUD_ACCESS_KEY_* and KMS_ENDPOINT. */
export function connectionOf(command: Command): { endpoint: string; accessKeyId: string; accessKeySecret: string; timeoutMs?: number; tls?: ClientTls } {
  const options = command.optsWithGlobals<GlobalOptions>();
  const { accessKeyId, accessKeySecret } = options;
  if (!accessKeyId || !accessKeySecret) {
    throw usageError('no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or pass --access-key-id and --access-key-secret');
  }
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  try {
    endpointUrl(endpoint);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const tls = tlsOf(options);
  return { endpoint, accessKeyId, accessKeySecret, ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }), ...(tls ? { tls } : {}) };
}

/** --ca-file, --client-cert and --client-key, read (a file that cannot be read is a usage error). */
function tlsOf(options: GlobalOptions): ClientTls | undefined {
  if ((options.clientCert === undefined) !== (options.clientKey === undefined)) throw usageError('--client-cert and --client-key go together');
  if (!options.caFile && !options.clientCert) return undefined;
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw usageError(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const tls: ClientTls = {
    ...(options.caFile ? { ca: read('--ca-file', options.caFile) } : {}),
    ...(options.clientCert && options.clientKey ? { cert: read('--client-cert', options.clientCert), key: read('--client-key', options.clientKey) } : {}),
  };
  // Checked here, so that a wrong file is named as the user gave it, not reported in OpenSSL's words mid-request.
  if (tls.ca) usable({ ca: tls.ca }, `--ca-file: ${options.caFile} holds no PEM certificate`);
  if (tls.cert)
    usable(
      { cert: tls.cert, key: tls.key },
      `--client-cert and --client-key: ${options.clientCert} and ${options.clientKey} are not a PEM certificate and its private key`,
    );
  return tls;
}

function usable(options: SecureContextOptions, message: string): void {
  let ok: boolean;
  try {
    createSecureContext(options);
    // A file without a PEM block is taken as no certificate at all, not refused: look for one.
    ok = options.ca === undefined || String(options.ca).includes('-----BEGIN CERTIFICATE-----');
  } catch {
    ok = false;
  }
  if (!ok) throw usageError(message);
}

/**
 * A `PublicKeyBlob` from a file: a PEM public key is sent as it is (the service takes PEM armour),
 * a DER one as Base64. A file that cannot be read is a usage error.
 */
export function publicKeyBlobOf(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw usageError(`--public-key: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const text = bytes.toString('latin1');
  return text.includes('-----BEGIN') ? text : bytes.toString('base64');
}

/** An API client from the global options (see {@link connectionOf}). */
export function clientOf(command: Command): KmsClient {
  const { endpoint, accessKeyId, accessKeySecret, timeoutMs, tls } = connectionOf(command);
  return new KmsClient({ endpoint, credentials: { accessKeyId, accessKeySecret }, timeoutMs, ...(tls ? { tls } : {}) });
}

/**
 * Calls an Action that takes `DryRun`. A dry run always fails at the API (DryRunOperationError when
 * the request would have succeeded); for the CLI that outcome is a success: exit 0 and say so.
 */
export async function callWithDryRun(command: Command, action: string, params: ApiParams, dryRun: boolean | undefined) {
  try {
    return await clientOf(command).call(action, { ...params, DryRun: dryRun ? 'true' : undefined });
  } catch (err) {
    if (dryRun && err instanceof KmsApiError && err.code === 'DryRunOperationError') {
      return { RequestId: err.requestId, DryRun: 'the request would have succeeded; nothing was done' };
    }
    throw err;
  }
}

/** Option parser: a whole number in [min, max]. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Option parser for a repeatable `--context k=v`: collects the pairs into one map. */
export function contextPair(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value (the value may contain "=").');
  const key = value.slice(0, eq);
  // Null-prototype: a key such as "__proto__" is an ordinary pair and must be sent, not dropped.
  const map: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, previous);
  if (Object.hasOwn(map, key)) throw new InvalidArgumentError(`the context key "${key}" is given twice.`);
  map[key] = value.slice(eq + 1);
  return map;
}

/** The EncryptionContext parameter for a context map: JSON, or nothing for an empty map. */
export function contextParam(context: Record<string, string> | undefined): string | undefined {
  return context && Object.keys(context).length > 0 ? JSON.stringify(context) : undefined;
}

/** Fetches every page of a list Action (100 at a time) and returns the items of all pages. */
export async function allPages<T>(fetchPage: (pageNumber: number, pageSize: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const items: T[] = [];
  for (let pageNumber = 1; ; pageNumber++) {
    const page = await fetchPage(pageNumber, 100);
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}

/** One page of a List Action, as a list command reads it: its items, the total, and the answer's paging fields. */
export interface ListedPage<T> {
  items: T[];
  total: number;
  response: { TotalCount?: number; PageNumber?: number; PageSize?: number };
}

/**
 * A list command's output under `listName`: the one page `--page` / `--page-size` name (with the
 * answer's paging fields), or, with neither, every page.
 */
export async function emitListing<T extends Record<string, unknown>>(
  command: Command,
  options: PagingOptions,
  listName: string,
  columns: string[],
  fetchPage: (pageNumber: number, pageSize: number) => Promise<ListedPage<T>>,
): Promise<void> {
  if (options.page !== undefined || options.pageSize !== undefined) {
    const { items, response } = await fetchPage(options.page ?? 1, options.pageSize ?? 10);
    emit(
      command,
      { [listName]: items, TotalCount: response.TotalCount, PageNumber: response.PageNumber, PageSize: response.PageSize },
      { rows: items, columns },
    );
    return;
  }
  const items = await allPages(fetchPage);
  emit(command, { [listName]: items, TotalCount: items.length }, { rows: items, columns });
}

/**
 * Paging options of the list commands: with neither, the command fetches every page; with
 * either, it fetches that one page (PageNumber 1 and PageSize 10 are the API's defaults).
 */
export function addPagingOptions(command: Command): Command {
  return command
    .option('--page <n>', 'fetch only this page (from 1)', integer(1, 1_000_000))
    .option('--page-size <n>', 'items per page, 1–100 (with --page or alone: fetch one page)', integer(1, 100));
}

export interface PagingOptions {
  page?: number;
  pageSize?: number;
}
