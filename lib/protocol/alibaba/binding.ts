import type * as z from '../../zod.js';

/**
 * How an Action speaks Alibaba's RPC API: its parameters (strings, and maps the older SDK
 * flattens) mapped to its typed input by a schema, whose first failure is a 400 naming the
 * parameter. The output is answered as it is, in JSON or XML.
 */
export interface AlibabaBinding<Input> {
  params: z.ZodMiniType<Input, unknown>;
}
