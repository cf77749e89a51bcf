import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateDataKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, type InvokeCommandInput, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { ALBEvent, ALBResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, AWS_OPERATIONS, type ActionRoute, SECRETS_MANAGER_OPERATIONS } from '../../functions/actions.js';
import { type ForwardRoute, lambdaForwarder } from '../../lib/adapters/lambda-forward.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { applySeed } from '../../lib/seed.js';
import { createService } from '../../lib/service.js';
import { albEventOf, responseOfAlbResult } from '../helpers/alb.js';
import { inProcessKmsClient } from '../helpers/aws.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * The dispatcher on AWS Lambda (functions/dispatch.ts): it reads the Action and forwards the
 * unchanged ALB event to that Action's own function. Lambda is stood in for by a mock whose invoke
 * runs the named function's real handler (each Action's own file, over a seeded file store), so
 * every answer is the Action function's own.
 */

/** The deployed stage region: serverless.yml sets KMS_AWS_REGIONS to it. */
const DEPLOY_REGION = 'eu-central-1';
const PREFIX = 'kms-test-';
const context = { getRemainingTimeInMillis: () => 10_000 } as Context;
const lambda = mockClient(LambdaClient);
const routes: ForwardRoute[] = ACTIONS.map((route) => ({ bindings: route.operation, functionName: route.functionName }));
const saved = { ...process.env };
let dir: string;
/** What the invoked functions answered, in order. */
let answers: ALBResult[] = [];

/** A function's answer as the Lambda client hands it over. */
const payload = (text: string) => Buffer.from(text) as unknown as InvokeCommandOutput['Payload'];

/** Runs the real handler of the function an invoke names, as Lambda would. */
async function runFunction(input: InvokeCommandInput) {
  const route = ACTIONS.find((r) => `${PREFIX}${r.functionName}` === input.FunctionName);
  if (!route) throw Object.assign(new Error(`Function not found: ${input.FunctionName}`), { name: 'ResourceNotFoundException' });
  const module = (await import(`../../${route.file}`)) as { handler: (event: ALBEvent, context: Context) => Promise<ALBResult> };
  const result = await module.handler(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) as ALBEvent, context);
  answers.push(result);
  return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: payload(JSON.stringify(result)) };
}

const forward = lambdaForwarder({ routes, functionNamePrefix: PREFIX, client: new LambdaClient({ region: DEPLOY_REGION }) });
const invoked = () => lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
const bodyOf = (result: ALBResult) => JSON.parse(result.body ?? '') as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-forward-'));
  await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
  Object.assign(process.env, {
    KMS_DATA_DIR: dir,
    KMS_REGION: REGION,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_LOG_LEVEL: 'silent',
    KMS_AWS_REGIONS: DEPLOY_REGION,
    KMS_FUNCTION_NAME_PREFIX: PREFIX,
    AWS_REGION: DEPLOY_REGION,
  });
});

afterAll(async () => {
  process.env = saved;
  lambda.restore();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  lambda.reset();
  lambda.on(InvokeCommand).callsFake(runFunction);
  answers = [];
});

/** Forwards a request and checks it went, unchanged, to exactly `route`'s function, whose answer came back as it was. */
async function forwardedTo(request: RpcRequest, route: ActionRoute): Promise<ALBResult> {
  const event = albEventOf(request);
  const sent = structuredClone(event);
  const result = (await forward(event, context)) as ALBResult;
  const calls = invoked();
  expect(calls.map((c) => c.FunctionName)).toEqual([`${PREFIX}${route.functionName}`]);
  expect(calls[0]!.InvocationType).toBe('RequestResponse');
  expect(JSON.parse(Buffer.from(calls[0]!.Payload as Uint8Array).toString('utf8'))).toEqual(sent);
  expect(result).toEqual(answers[0]);
  // The function took the request as its own: signed for its Action, not refused as another's.
  expect([bodyOf(result).Code, bodyOf(result).__type]).not.toContain('InvalidAction.NotFound');
  expect(result.statusCode).not.toBe(403);
  lambda.resetHistory();
  answers = [];
  return result;
}

describe('Dispatcher: forwarding to the Action functions (AWS Lambda)', () => {
  it('when an Alibaba request names its Action only in a form body (pop-core POST), each Action goes to its own function, the event unchanged', async () => {
    for (const route of ACTIONS.filter((r) => r.operation.alibaba)) {
      const request = signedRpcRequest(ADMIN, route.action, {}, { method: 'POST', form: true });
      delete (request.headers as Record<string, string | undefined>)['x-acs-action'];
      expect(request.rawQuery).not.toContain('Action=');
      await forwardedTo(request, route);
    }
  });

  it('when the Action is in the query (RPC GET) or in the x-acs-action header (ACS3), it goes to that Action’s function too', async () => {
    const generateDataKey = ACTIONS.find((r) => r.action === 'GenerateDataKey')!;
    const viaQuery = await forwardedTo(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }), generateDataKey);
    expect(bodyOf(viaQuery).KeyId).toBe(KEY_ID);
    const viaHeader = await forwardedTo(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }), generateDataKey);
    expect(bodyOf(viaHeader).KeyId).toBe(KEY_ID);
  });

  it('when an AWS request names an operation by X-Amz-Target, it goes to the function of the Action serving it; ListAliases by whether the body has KeyId', async () => {
    for (const [target, actions] of AWS_OPERATIONS) {
      if (actions.length !== 1) continue;
      await forwardedTo(signedAwsRequest(ADMIN, target, {}, { region: DEPLOY_REGION }), ACTIONS.find((r) => r.action === actions[0])!);
    }
    const byKey = await forwardedTo(
      signedAwsRequest(ADMIN, 'ListAliases', { KeyId: KEY_ID }, { region: DEPLOY_REGION }),
      ACTIONS.find((r) => r.action === 'ListAliasesByKeyId')!,
    );
    expect((bodyOf(byKey).Aliases as Array<{ AliasName: string }>).map((a) => a.AliasName)).toEqual([ALIAS]);
    await forwardedTo(signedAwsRequest(ADMIN, 'ListAliases', {}, { region: DEPLOY_REGION }), ACTIONS.find((r) => r.action === 'ListAliases')!);
    expect([...AWS_OPERATIONS.values()].some((actions) => actions.length > 1)).toBe(true);
  });

  it('when the official AWS SDK signs for the deploy region (KMS_AWS_REGIONS), its requests are served through the dispatcher; another region is refused', async () => {
    const dispatch = async (request: RpcRequest) => responseOfAlbResult((await forward(albEventOf(request), context)) as ALBResult);
    const kms = inProcessKmsClient({ dispatch }, ADMIN, { region: DEPLOY_REGION });
    const generated = await kms.send(new GenerateDataKeyCommand({ KeyId: ALIAS, NumberOfBytes: 32 }));
    expect(generated.KeyId).toBe(`arn:aws:kms:${DEPLOY_REGION}:${ACCOUNT_ID}:key/${KEY_ID}`);
    expect((await kms.send(new ListAliasesCommand({ KeyId: KEY_ID }))).Aliases!.map((a) => a.AliasName)).toEqual([ALIAS]);
    const elsewhere = inProcessKmsClient({ dispatch }, ADMIN, { region: 'us-west-2' });
    await expect(elsewhere.send(new GenerateDataKeyCommand({ KeyId: ALIAS, NumberOfBytes: 32 }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('when a request names an Action no function serves, or none, it is answered in its protocol without any invoke', async () => {
    const cases: Array<[RpcRequest, number, string, string]> = [
      [signedRpcRequest(ADMIN, 'NoSuchAction', {}, { method: 'POST', form: true }), 404, 'Code', 'InvalidAction.NotFound'],
      [signedRpcRequest(ADMIN, 'NoSuchAction', {}), 404, 'Code', 'InvalidAction.NotFound'],
      [signedV3Request(ADMIN, 'NoSuchAction', {}), 404, 'Code', 'InvalidAction.NotFound'],
      [{ method: 'GET', path: '/', rawQuery: 'Format=JSON', headers: {}, body: Buffer.alloc(0) }, 400, 'Code', 'MissingParameter'],
      [signedAwsRequest(ADMIN, 'NoSuchOperation', {}, { region: DEPLOY_REGION }), 400, '__type', 'UnknownOperationException'],
    ];
    for (const [request, status, field, code] of cases) {
      const result = (await forward(albEventOf(request), context)) as ALBResult;
      expect(result.statusCode, code).toBe(status);
      expect(bodyOf(result)[field]).toBe(code);
    }
    const xml = (await forward(albEventOf(signedRpcRequest(ADMIN, 'NoSuchAction', { Format: 'XML' })), context)) as ALBResult;
    expect(xml.body).toContain('<Code>InvalidAction.NotFound</Code>');
    expect(invoked()).toEqual([]);
  });

  it.each([
    [
      'the invoke is refused (throttled, or no permission)',
      () => lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded at arn:…'), { name: 'TooManyRequestsException' })),
    ],
    [
      'the function fails',
      () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"boom at /var/task/x.js:1"}') }),
    ],
    ['the function answers something that is not JSON', () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('not json') })],
    ['the function answers no HTTP result', () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('null') })],
  ])('when %s, the answer is a 503 in the protocol’s words, never a 502 or a trace', async (_case, fail) => {
    fail();
    const failures: unknown[] = [];
    const failing = lambdaForwarder({
      routes,
      functionNamePrefix: PREFIX,
      client: new LambdaClient({ region: DEPLOY_REGION }),
      onFailure: (f) => failures.push(f),
    });
    const alibaba = (await failing(albEventOf(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: 'aGk=' })), context)) as ALBResult;
    expect(alibaba).toMatchObject({ statusCode: 503, statusDescription: '503 Service Unavailable' });
    expect(bodyOf(alibaba).Code).toBe('ServiceUnavailableTemporary');
    const aws = (await failing(
      albEventOf(signedAwsRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: 'aGk=' }, { region: DEPLOY_REGION })),
      context,
    )) as ALBResult;
    expect(aws.statusCode).toBe(503);
    expect(bodyOf(aws).__type).toBeDefined();
    for (const body of [alibaba.body, aws.body]) expect(body).not.toMatch(/boom|Rate exceeded|var\/task|not json/);
    expect(failures).toEqual([expect.objectContaining({ action: 'Encrypt', functionName: `${PREFIX}encrypt` }), expect.anything()]);
  });

  it('when deployed (functions/dispatch.ts), it names the functions by KMS_FUNCTION_NAME_PREFIX and serves a form-body request through its Action’s function', async () => {
    const { handler } = await import('../../functions/dispatch.js');
    const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { method: 'POST', form: true });
    delete (request.headers as Record<string, string | undefined>)['x-acs-action'];
    const result = (await handler(albEventOf(request), context)) as ALBResult;
    expect(invoked().map((c) => c.FunctionName)).toEqual([`${PREFIX}generateDataKey`]);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).KeyId).toBe(KEY_ID);
  });

  it('when a Secrets Manager request names an operation by X-Amz-Target (secretsmanager.*), it goes to the function of the Action serving it, TagResource and UntagResource to the same functions as their AWS KMS operations', async () => {
    expect([...SECRETS_MANAGER_OPERATIONS.keys()].sort()).toEqual(
      [
        'BatchGetSecretValue',
        'CreateSecret',
        'DeleteSecret',
        'DescribeSecret',
        'GetRandomPassword',
        'GetSecretValue',
        'ListSecretVersionIds',
        'ListSecrets',
        'PutSecretValue',
        'RestoreSecret',
        'TagResource',
        'UntagResource',
        'UpdateSecret',
        'UpdateSecretVersionStage',
      ].sort(),
    );
    for (const [target, actions] of SECRETS_MANAGER_OPERATIONS) {
      expect(actions, target).toHaveLength(1);
      await forwardedTo(
        signedAwsRequest(ADMIN, target, {}, { region: DEPLOY_REGION, service: 'secretsmanager' }),
        ACTIONS.find((r) => r.action === actions[0])!,
      );
    }
  });

  it('when deployed (functions/dispatch.ts), the secrets Actions are forwarded like every other: a secret made over Alibaba RPC (form body) is read back over Secrets Manager’s protocol and over RPC (query, header), each by its own function', async () => {
    const { handler } = await import('../../functions/dispatch.js');
    const send = async (request: RpcRequest) => {
      lambda.resetHistory();
      const result = (await handler(albEventOf(request), context)) as ALBResult;
      return { result, functions: invoked().map((c) => c.FunctionName) };
    };
    const form = signedRpcRequest(ADMIN, 'CreateSecret', { SecretName: 'forwarded', SecretData: 's3cr3t', VersionId: 'v1' }, { method: 'POST', form: true });
    delete (form.headers as Record<string, string | undefined>)['x-acs-action'];
    const created = await send(form);
    expect(created.result.statusCode, created.result.body).toBe(200);
    expect(created.functions).toEqual([`${PREFIX}createSecret`]);
    const aws = await send(signedAwsRequest(ADMIN, 'GetSecretValue', { SecretId: 'forwarded' }, { region: DEPLOY_REGION, service: 'secretsmanager' }));
    expect(aws.result.statusCode, aws.result.body).toBe(200);
    expect(bodyOf(aws.result)).toMatchObject({ Name: 'forwarded', SecretString: 's3cr3t', VersionId: 'v1' });
    expect(aws.functions).toEqual([`${PREFIX}getSecretValue`]);
    for (const request of [
      signedRpcRequest(ADMIN, 'GetSecretValue', { SecretName: 'forwarded' }),
      signedV3Request(ADMIN, 'GetSecretValue', { SecretName: 'forwarded' }),
    ]) {
      const rpc = await send(request);
      expect(rpc.result.statusCode, rpc.result.body).toBe(200);
      expect(bodyOf(rpc.result)).toMatchObject({ SecretName: 'forwarded', SecretData: 's3cr3t', VersionId: 'v1' });
      expect(rpc.functions).toEqual([`${PREFIX}getSecretValue`]);
    }
    const batch = await send(
      signedAwsRequest(ADMIN, 'BatchGetSecretValue', { SecretIdList: ['forwarded'] }, { region: DEPLOY_REGION, service: 'secretsmanager' }),
    );
    expect(batch.result.statusCode, batch.result.body).toBe(200);
    expect(batch.functions).toEqual([`${PREFIX}batchGetSecretValue`]);
  });

  it('when the function-name prefix is not set, every forward is a 503 and nothing is invoked by a guessed name', async () => {
    const unnamed = lambdaForwarder({ routes, functionNamePrefix: '', client: new LambdaClient({ region: DEPLOY_REGION }) });
    const result = (await unnamed(albEventOf(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: 'aGk=' })), context)) as ALBResult;
    expect(result.statusCode).toBe(503);
    expect(invoked()).toEqual([]);
  });

  it('when a request reaches a function whose Action it does not name (a forward gone wrong), that function refuses it', async () => {
    // A table that sends GenerateDataKey to the Encrypt function.
    const wrong = routes.map((r) => (r.bindings.name === 'GenerateDataKey' ? { ...r, functionName: 'encrypt' } : r));
    const misrouted = lambdaForwarder({ routes: wrong, functionNamePrefix: PREFIX, client: new LambdaClient({ region: DEPLOY_REGION }) });
    const result = (await misrouted(
      albEventOf(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { method: 'POST', form: true })),
      context,
    )) as ALBResult;
    expect(invoked().map((c) => c.FunctionName)).toEqual([`${PREFIX}encrypt`]);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result).Code).toBe('InvalidAction.NotFound');
    expect(bodyOf(result).Plaintext).toBeUndefined();
  });
});
