// `npm run docs:screenshots`: the console's screenshots in docs/images/, taken from the real
// gateway in Debian's chromium (as test/e2e/console.test.ts drives it), so the pictures in
// docs/console.md show what the code serves. Writes PNGs only; run it after changing the console.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startGateway } from '../helpers/gateway-process.js';
import { signedRpcRequest } from '../helpers/sign.js';

const dir = await mkdtemp(join(tmpdir(), 'kms-console-shots-'));
const gateway = await startGateway({ dataDir: join(dir, 'data'), logLevel: 'silent', env: { KMS_AUDIT_LOG: 'none' } });
const browser = await chromium.launch({ executablePath: process.env.KMS_TEST_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const admin = JSON.parse(await readFile(join(dir, 'data', 'admin-credentials.json'), 'utf8')) as { accessKeyId: string; accessKeySecret: string };
  const api = async (action: string, params: Record<string, string> = {}) =>
    (await fetch(`${gateway.url}?${signedRpcRequest(admin, action, params).rawQuery}`)).json() as Promise<any>;
  // Something to show: two keys, an alias, a rotation, a data key, a refused call.
  const orders = (await api('CreateKey', { Description: 'orders service' })).KeyMetadata.KeyId;
  await api('CreateKey', { Description: 'billing exports' });
  await api('CreateAlias', { AliasName: 'alias/orders', KeyId: orders });
  await api('CreateKeyVersion', { KeyId: orders });
  for (let i = 0; i < 3; i++) await api('GenerateDataKey', { KeyId: 'alias/orders' });
  await api('Decrypt', { CiphertextBlob: 'bm90IGEgYmxvYg==' });

  const shot = async (name: string, width: number, go: (page: import('playwright-core').Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: { width, height: 640 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${gateway.url}console/`);
    await go(page);
    await page.screenshot({ path: join(REPO_ROOT, 'docs', 'images', `console-${name}.png`) });
    await context.close();
  };
  const signIn = async (page: import('playwright-core').Page) => {
    await page.getByLabel('Access key ID').fill(admin.accessKeyId);
    await page.getByLabel('Access key secret').fill(admin.accessKeySecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  };
  await shot('sign-in', 900, async () => {});
  await shot('keys', 1100, async (page) => {
    await signIn(page);
    await page.getByRole('table', { name: 'Keys' }).getByRole('row').nth(2).waitFor();
  });
  await shot('key', 1100, async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: orders }).click();
    await page.getByRole('table', { name: 'Versions' }).waitFor();
  });
  await shot('audit-log', 1100, async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
  });
  await shot('narrow', 390, async (page) => {
    await signIn(page);
    await page.getByRole('table', { name: 'Keys' }).waitFor();
  });
  console.log('wrote docs/images/console-{sign-in,keys,key,audit-log,narrow}.png');
} finally {
  await browser.close();
  await gateway.stop();
  await rm(dir, { recursive: true, force: true });
}
