// Types of the console's in-page signing (signing.mjs), for the tests that hold it to the server's.
export declare function percentEncode(value: string): string;
export declare function rpcStringToSign(method: string, params: Record<string, string>): string;
export declare function rpcSignature(accessKeySecret: string, stringToSign: string, subtle?: SubtleCrypto): Promise<string>;
export declare function rpcTimestamp(date: Date): string;
export declare function signedRpcQuery(
  action: string,
  params: Record<string, string>,
  credentials: { id: string; secret: string },
  now?: Date,
  nonce?: string,
): Promise<string>;
