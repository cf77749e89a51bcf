import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  type GetItemCommandOutput,
  PutItemCommand,
  type PutItemCommandInput,
  type PutItemCommandOutput,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/**
 * A stateful, in-memory DynamoDB table (or several) behind aws-sdk-client-mock for PutItem and
 * GetItem, with condition expressions evaluated as DynamoDB does for the subset the nonce store
 * uses: `attribute_exists(p)`, `attribute_not_exists(p)`, comparisons (`= <> < <= > >=`) of
 * attributes and `:values` (numbers compared as numbers), `AND`, `OR`, `NOT`, parentheses and
 * `#name` placeholders. TTL is not applied on its own — as in DynamoDB, expired items linger until
 * {@link sweep} deletes them. Each call runs atomically after a random few event-loop turns.
 */
export class FakeDynamoDb {
  readonly #tables = new Map<string, Map<string, Item>>();
  readonly #keys: Record<string, string>;
  #seed = 0x9e3779b9;
  failure: ((command: string, input: Record<string, unknown>) => Error | undefined) | undefined;

  /** `keys`: table name → partition key attribute (tables not listed do not exist). */
  constructor(keys: Record<string, string>) {
    this.#keys = keys;
    for (const table of Object.keys(keys)) this.#tables.set(table, new Map());
  }

  install(stub: AwsClientStub<DynamoDBClient>): this {
    stub.on(PutItemCommand).callsFake((input: PutItemCommandInput) => this.#run('PutItem', input, () => this.putItem(input)));
    stub.on(GetItemCommand).callsFake((input: GetItemCommandInput) => this.#run('GetItem', input, () => this.getItem(input)));
    return this;
  }

  items(table: string): Item[] {
    return [...(this.#tables.get(table)?.values() ?? [])];
  }

  /** What DynamoDB's TTL process does, eventually: deletes items whose `attribute` is before `nowSeconds`. */
  sweep(table: string, attribute: string, nowSeconds: number): void {
    const items = this.#tables.get(table)!;
    for (const [key, item] of items) if (Number(item[attribute]?.N) < nowSeconds) items.delete(key);
  }

  putItem(input: PutItemCommandInput): PutItemCommandOutput {
    const { items, keyName } = this.#table(input.TableName);
    const item = input.Item ?? {};
    const key = item[keyName]?.S;
    if (key === undefined) throw validation(`One or more parameter values were invalid: Missing the key ${keyName} in the item`);
    if (Buffer.byteLength(key) > 2048)
      throw validation('One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes');
    const existing = items.get(key);
    if (input.ConditionExpression !== undefined) {
      const holds = evaluate(input.ConditionExpression, existing ?? {}, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {});
      if (!holds) {
        throw new ConditionalCheckFailedException({
          $metadata: { httpStatusCode: 400, requestId: randomUUID() },
          message: 'The conditional request failed',
          ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing ? { Item: structuredClone(existing) } : {}),
        });
      }
    }
    items.set(key, structuredClone(item));
    return { $metadata: { httpStatusCode: 200, requestId: randomUUID() } };
  }

  getItem(input: GetItemCommandInput): GetItemCommandOutput {
    const { items, keyName } = this.#table(input.TableName);
    const item = items.get(input.Key?.[keyName]?.S ?? '');
    return { ...(item ? { Item: structuredClone(item) } : {}), $metadata: { httpStatusCode: 200, requestId: randomUUID() } };
  }

  #table(name: string | undefined): { items: Map<string, Item>; keyName: string } {
    const items = name === undefined ? undefined : this.#tables.get(name);
    if (!items) throw new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Requested resource not found' });
    return { items, keyName: this.#keys[name!]! };
  }

  async #run<T>(command: string, input: object, handle: () => T): Promise<T> {
    for (let turns = this.#next() % 3; turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    const failure = this.failure?.(command, input as Record<string, unknown>);
    if (failure) throw failure;
    return handle();
  }

  #next(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

// ---- condition expressions ----

type Token = { kind: 'word' | 'name' | 'value' | 'op' | '(' | ')' | ','; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|(,)|(<>|<=|>=|=|<|>)|(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) throw validation(`Invalid ConditionExpression: syntax error near "${expression.slice(at)}"`);
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: '(', text: '(' });
    else if (m[2]) tokens.push({ kind: ')', text: ')' });
    else if (m[3]) tokens.push({ kind: ',', text: ',' });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] });
    else if (m[5]) tokens.push({ kind: 'name', text: m[5] });
    else if (m[6]) tokens.push({ kind: 'value', text: m[6] });
    else tokens.push({ kind: 'word', text: m[7]! });
  }
  return tokens;
}

/** Evaluates a condition expression against an item (an empty item when there is none). */
export function evaluate(expression: string, item: Item, names: Record<string, string>, values: Record<string, AttributeValue>): boolean {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (kind?: Token['kind'], text?: string): Token => {
    const t = tokens[i++];
    if (!t || (kind && t.kind !== kind) || (text && t.text.toUpperCase() !== text))
      throw validation(`Invalid ConditionExpression: unexpected ${t?.text ?? 'end'}`);
    return t;
  };
  const path = (t: Token): string => {
    if (t.kind === 'name') {
      const name = names[t.text];
      if (name === undefined) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${t.text}`);
      return name;
    }
    if (t.kind === 'word') return t.text;
    throw validation(`Invalid ConditionExpression: ${t.text} is not an attribute`);
  };
  const operand = (): AttributeValue | undefined => {
    const t = take();
    if (t.kind === 'value') {
      const v = values[t.text];
      if (v === undefined) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${t.text}`);
      return v;
    }
    return item[path(t)];
  };
  const compare = (a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean => {
    if (a === undefined || b === undefined) return false;
    let x: number | string;
    let y: number | string;
    if (a.N !== undefined && b.N !== undefined) [x, y] = [Number(a.N), Number(b.N)];
    else if (a.S !== undefined && b.S !== undefined) [x, y] = [a.S, b.S];
    else return op === '<>';
    switch (op) {
      case '=':
        return x === y;
      case '<>':
        return x !== y;
      case '<':
        return x < y;
      case '<=':
        return x <= y;
      case '>':
        return x > y;
      default:
        return x >= y;
    }
  };
  const factor = (): boolean => {
    const t = peek();
    if (t?.kind === 'word' && t.text.toUpperCase() === 'NOT') {
      take();
      return !factor();
    }
    if (t?.kind === '(') {
      take('(');
      const v = or();
      take(')');
      return v;
    }
    if (t?.kind === 'word' && (t.text === 'attribute_exists' || t.text === 'attribute_not_exists')) {
      take();
      take('(');
      const name = path(take());
      take(')');
      return (item[name] !== undefined) === (t.text === 'attribute_exists');
    }
    const left = operand();
    const op = take('op').text;
    return compare(left, op, operand());
  };
  const and = (): boolean => {
    let v = factor();
    while (peek()?.kind === 'word' && peek()!.text.toUpperCase() === 'AND') {
      take();
      v = factor() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.kind === 'word' && peek()!.text.toUpperCase() === 'OR') {
      take();
      v = and() || v;
    }
    return v;
  };
  const result = or();
  if (i !== tokens.length) throw validation(`Invalid ConditionExpression: unexpected ${tokens[i]!.text}`);
  return result;
}
