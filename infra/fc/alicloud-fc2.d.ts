/**
 * The part of `@alicloud/fc2` (FC API 2016-08-15, which ships no types) that the deployment uses.
 * Every call resolves to `{ headers, data }`; a non-2xx answer rejects with an Error whose `code`
 * is FC's `ErrorCode` (e.g. `ServiceNotFound`, `FunctionAlreadyExists`).
 */
declare module '@alicloud/fc2' {
  interface FCClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    /** Overrides `https://<account>.<region>.fc.aliyuncs.com` (with `secure`). */
    endpoint?: string;
    secure?: boolean;
    internal?: boolean;
    /** Milliseconds; default 60 000. */
    timeout?: number;
    headers?: Record<string, string>;
  }

  interface FCResponse<T = Record<string, unknown>> {
    headers: Record<string, string | string[] | undefined>;
    data: T;
  }

  /** The fields of a trigger the deployment reads (FC answers more). */
  interface FCTrigger {
    triggerName?: string;
    triggerType?: string;
    /** An HTTP trigger's address inside Alibaba Cloud's network. */
    urlInternet?: string;
    [field: string]: unknown;
  }

  class FCClient {
    constructor(accountId: string, config: FCClientConfig);
    getService(serviceName: string): Promise<FCResponse>;
    createService(serviceName: string, options?: Record<string, unknown>): Promise<FCResponse>;
    updateService(serviceName: string, options?: Record<string, unknown>): Promise<FCResponse>;
    getFunction(serviceName: string, functionName: string): Promise<FCResponse>;
    createFunction(serviceName: string, options: Record<string, unknown>): Promise<FCResponse>;
    updateFunction(serviceName: string, functionName: string, options: Record<string, unknown>): Promise<FCResponse>;
    getTrigger(serviceName: string, functionName: string, triggerName: string): Promise<FCResponse<FCTrigger>>;
    createTrigger(serviceName: string, functionName: string, options: Record<string, unknown>): Promise<FCResponse<FCTrigger>>;
    updateTrigger(serviceName: string, functionName: string, triggerName: string, options?: Record<string, unknown>): Promise<FCResponse<FCTrigger>>;
  }

  export = FCClient;
}
