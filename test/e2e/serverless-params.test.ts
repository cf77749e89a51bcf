import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gateway-process.js';
import { paramArgs, testParams } from '../helpers/serverless-params.js';

/*
 * The real command line without the site-specific parameters: `npx serverless package` stops
 * before it resolves or builds anything (so it shares no work folder with the packaging of
 * test/e2e/serverless.test.ts), exits non-zero and names each parameter, not the dozens of places
 * that use it. test/unit/required-params.test.ts covers every parameter and every malformed value.
 */

const run = promisify(execFile);
const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'kms-no-such-profile', AWS_SDK_LOAD_CONFIG: '0' };

/** `npx serverless package` with these arguments: its exit code and everything it printed. */
const packageWith = async (args: string[]) => {
  try {
    const { stdout, stderr } = await run('npx', ['serverless', 'package', '--package', '/nonexistent/kms-never-written', ...args], {
      cwd: REPO_ROOT,
      env,
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
};

describe('npx serverless package without the required parameters', () => {
  it('exits non-zero naming each missing and each malformed one (not where they are used), and packages nothing', async () => {
    const { alarmEmail: _missing, kmsEndpoint: _alsoMissing, listenerArn: _malformed, ...rest } = testParams('prod');
    const malformed = 'arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/kms/1';
    const { code, output } = await packageWith(['--stage', 'prod', ...paramArgs(rest), '--param', `listenerArn=${malformed}`]);
    expect(code).not.toBe(0);
    expect(output).toContain('Stage "prod" needs these parameters (docs/deploy-aws.md#parameters)');
    expect(output).toContain('--param alarmEmail=…  is missing');
    expect(output).toContain('--param kmsEndpoint=…  is missing');
    expect(output).toContain(`--param listenerArn=${malformed}  is malformed`);
    for (const given of Object.keys(rest)) expect(output).not.toContain(`--param ${given}=`);
    expect(output).not.toContain('Value not found');
    expect(output).not.toContain('Service packaged');
  }, 120_000);
});

describe('npx serverless package with a stage too long for its role names', () => {
  it('exits non-zero before building anything, naming the role, its length and the longest stage the region allows', async () => {
    const stage = 'integration-eu';
    const { code, output } = await packageWith(['--stage', stage, ...paramArgs(testParams(stage))]);
    expect(code).not.toBe(0);
    expect(output).toContain(`Stage "${stage}" is too long for its functions' role names`);
    expect(output).toContain(`kms-${stage}-provisionPartitionKeys-eu-central-1-lambdaRole has 65 characters`);
    expect(output).toContain('in eu-central-1, a stage of at most 13 characters');
    expect(output).not.toContain('Service packaged');
  }, 120_000);
});
