import { expect } from 'vitest';
import { XMLParser } from 'fast-xml-parser';

/** Shared checks for the contract suites (not a test file itself). */

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const xmlParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false });

/** Parses an XML body into plain objects (every value stays a string). */
export function parseXml(raw: string): Record<string, any> {
  return xmlParser.parse(raw) as Record<string, any>;
}

/** Decodes the Base64 `Plaintext` of a data key and returns its length in bytes, checking it is canonical Base64. */
export function dataKeyLength(plaintext: unknown): number {
  expect(typeof plaintext).toBe('string');
  const text = plaintext as string;
  expect(text).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  const bytes = Buffer.from(text, 'base64');
  expect(bytes.toString('base64')).toBe(text);
  return bytes.length;
}

/** A copy of a Base64 blob with one byte XOR-ed. Negative offsets count from the end. */
export function flipByte(blob: string, offset: number): string {
  const bytes = Buffer.from(blob, 'base64');
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64');
}

/** A copy of a Base64 blob whose 36-byte version header names another version id. */
export function withVersionId(blob: string, keyVersionId: string): string {
  const bytes = Buffer.from(blob, 'base64');
  expect(keyVersionId).toHaveLength(36);
  bytes.write(keyVersionId, 0, 'ascii');
  return bytes.toString('base64');
}

/** Offsets inside Alibaba's blob layout: versionId(36) ‖ IV(12) ‖ ciphertext ‖ tag(16). */
export const BLOB_LAYOUT = { versionIdBytes: 36, ivBytes: 12, tagBytes: 16, ciphertextStart: 48 } as const;

export function blobVersionId(blob: string): string {
  return Buffer.from(blob, 'base64').toString('ascii', 0, 36);
}

export const STACK_TRACE = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|node_modules|node:internal/;

interface CallResult {
  status: number;
  body: Record<string, any>;
  raw: string;
  headers: Record<string, string>;
}

/**
 * An Alibaba error body: status, Code, exactly RequestId/HostId/Code/Message/Recommend, a RequestId
 * echoed in `x-acs-request-id`, and no stack trace.
 */
export function expectError(result: CallResult, status: number, code: string, messagePattern?: RegExp | string): void {
  expect({ status: result.status, code: result.body.Code, message: result.body.Message }).toMatchObject({ status, code });
  expect(Object.keys(result.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
  expect(typeof result.body.RequestId).toBe('string');
  expect(result.body.RequestId.length).toBeGreaterThan(0);
  expect(typeof result.body.HostId).toBe('string');
  expect(typeof result.body.Message).toBe('string');
  expect(result.body.Message.length).toBeGreaterThan(0);
  expect(result.headers['x-acs-request-id']).toBe(result.body.RequestId);
  expect(result.raw).not.toMatch(STACK_TRACE);
  if (messagePattern !== undefined) {
    if (typeof messagePattern === 'string') expect(result.body.Message).toContain(messagePattern);
    else expect(result.body.Message).toMatch(messagePattern);
  }
}

export function expectNoStackTrace(raw: string): void {
  expect(raw).not.toMatch(STACK_TRACE);
}

/** `"<Name>"` quoted, as the service's MissingParameter / InvalidParameter messages name a parameter. */
export function names(parameter: string): string {
  return `"${parameter}"`;
}
