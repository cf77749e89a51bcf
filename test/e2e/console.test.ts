import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReadyGateway, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { makeCertificates } from '../helpers/tls.js';

/**
 * The web console (/console/) in a real browser: Debian's chromium, driven by playwright-core,
 * queried by role and accessible name only, against the real gateway process. `.ci/run` installs
 * chromium when it is absent.
 */
const CHROMIUM = process.env.KMS_TEST_CHROMIUM ?? '/usr/bin/chromium';

const ADMIN = { accessKeyId: 'consoleAdmin01', accessKeySecret: 'console-admin-secret-0123456789' };
const READER = { accessKeyId: 'consoleReader01', accessKeySecret: 'console-reader-secret-0123456789' };
const OTHER = { accessKeyId: 'consoleOther001', accessKeySecret: 'console-other-secret-0123456789' };
const SEED = {
  keys: [{ keyId: 'key-console0000000000000001', description: 'seeded key', aliases: ['alias/seeded'] }],
  accessKeys: [
    { ...ADMIN, policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } },
    { ...READER, policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Describe*', 'kms:List*'], Resource: '*' }] } },
    { ...OTHER, policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKey'], Resource: '*' }] } },
  ],
};

let dir: string;
let gateway: ReadyGateway;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-console-'));
  const seedFile = await writeSeedFile(dir, SEED);
  [gateway, browser] = await Promise.all([
    startGateway({ dataDir: join(dir, 'data'), seedFile, logLevel: 'silent', env: { KMS_AUDIT_LOG: 'none' } }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A signed API call from outside the browser (another client). */
async function api(credentials: typeof ADMIN, action: string, params: Record<string, string> = {}, base = gateway.url): Promise<any> {
  const response = await fetch(`${base}?${signedRpcRequest(credentials, action, params).rawQuery}`);
  return { status: response.status, ...(await response.json()) };
}

/** A fresh browser context (its own sessionStorage), every request it makes recorded. */
async function openConsole(
  options: { width?: number; base?: string; ignoreHTTPSErrors?: boolean } = {},
): Promise<{ page: Page; context: BrowserContext; requests: string[]; sent: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1200, height: 800 },
    ...(options.ignoreHTTPSErrors ? { ignoreHTTPSErrors: true } : {}),
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const sent: string[] = [];
  page.on('request', (request) => {
    requests.push(request.url());
    sent.push(`${request.url()}\n${JSON.stringify(request.headers())}\n${request.postData() ?? ''}`);
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${options.base ?? gateway.url}console/`);
  expect(errors).toEqual([]);
  return { page, context, requests, sent };
}

async function signIn(page: Page, credentials: typeof ADMIN): Promise<void> {
  await page.getByLabel('Access key ID').fill(credentials.accessKeyId);
  await page.getByLabel('Access key secret').fill(credentials.accessKeySecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

describe('the console is static, same-origin and small', () => {
  it('serves its files with a strict Content-Security-Policy, and nothing else under /console/', async () => {
    const index = await fetch(`${gateway.url}console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');

    const redirect = await fetch(`${gateway.url}console`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/console/');
    for (const path of ['console/nope.js', 'console/app.mjs/', 'console/App.mjs', 'console/index.htm']) {
      expect((await fetch(`${gateway.url}${path}`)).status, path).toBe(404);
    }
    // Sent as written (fetch would resolve the dots first): no path under /console/ reaches a file by name.
    for (const path of ['/console/../data/root.key', '/console/%2e%2e/%2e%2e/etc/passwd', '/console/..%2fseed.json']) {
      const status = await new Promise<number>((resolve, reject) =>
        get({ host: '127.0.0.1', port: new URL(gateway.url).port, path }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject),
      );
      expect(status, path).toBe(404);
    }
    expect((await fetch(`${gateway.url}console/`, { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await fetch(`${gateway.url}console/app.mjs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('loads nothing from any other origin, and weighs well under 200 KB', async () => {
    const { page, context, requests } = await openConsole();
    await signIn(page, ADMIN);
    await page.getByRole('table', { name: 'Keys' }).waitFor();
    const origin = new URL(gateway.url).origin;
    expect(requests.length).toBeGreaterThan(3);
    for (const url of requests) expect(url.startsWith(`${origin}/`) || url.startsWith('data:'), url).toBe(true);
    let bytes = 0;
    for (const url of requests.filter((u) => u.includes('/console/'))) bytes += (await (await fetch(url)).arrayBuffer()).byteLength;
    expect(bytes).toBeLessThan(200 * 1024);
    await context.close();
  });
});

describe('sign-in and sign-out', () => {
  it('a wrong secret shows the API code in an alert, and keeps nothing', async () => {
    const { page, context } = await openConsole();
    await page.getByLabel('Access key ID').fill(ADMIN.accessKeyId);
    await page.getByLabel('Access key secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('SignatureDoesNotMatch');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel('Access key ID').fill('LTAInobodyHasThis1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('InvalidAccessKeyId.NotFound');
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
    await context.close();
  });

  it('signs in with a read-only key, offers the four views, and never sends the secret or keeps it outside sessionStorage', async () => {
    const { page, context, sent } = await openConsole();
    await signIn(page, READER);
    const nav = page.getByRole('navigation', { name: 'Console' });
    for (const name of ['Keys', 'Aliases', 'Access keys', 'Audit log']) await expect.poll(() => nav.getByRole('link', { name, exact: true }).count()).toBe(1);
    await nav.getByRole('link', { name: 'Aliases' }).click();
    await page.getByRole('table', { name: 'Aliases' }).waitFor();
    expect(sent.length).toBeGreaterThan(2);
    for (const request of sent) expect(request).not.toContain(READER.accessKeySecret);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it('Sign out empties sessionStorage and returns to the sign-in form, also after a reload', async () => {
    const { page, context } = await openConsole();
    await signIn(page, ADMIN);
    expect(await page.evaluate(() => sessionStorage.length)).toBeGreaterThan(0);
    // Still signed in after a reload (the tab's session)…
    await page.reload();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // …and not after signing out.
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
    await context.close();
  });

  it('a view that answers after Sign out does not replace the sign-in form', async () => {
    const { page, context } = await openConsole();
    await signIn(page, ADMIN);
    await page.getByRole('table', { name: 'Keys' }).waitFor();
    // Hold the next view's API call until after Sign out, then let it answer.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = 0;
    await page.route(
      (url) => url.pathname === '/' && url.searchParams.get('Action') === 'ListAliases',
      async (route) => {
        holding++;
        await held;
        await route.continue();
      },
    );
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Aliases' }).click();
    await expect.poll(() => holding).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const answered = page.waitForResponse((response) => new URL(response.url()).searchParams.get('Action') === 'ListAliases');
    release();
    await answered;
    // Past the held view's continuation: two animation frames after its answer arrived.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(await page.getByRole('table', { name: 'Aliases' }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
    await context.close();
  });

  it('is usable from the keyboard alone', async () => {
    const { page, context } = await openConsole();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('access-key-id');
    await page.keyboard.type(ADMIN.accessKeyId);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN.accessKeySecret);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    await page.getByRole('link', { name: 'Aliases', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('table', { name: 'Aliases' }).waitFor();
    await context.close();
  });

  it('is readable on a narrow window: nothing wider than the viewport', async () => {
    const { page, context } = await openConsole({ width: 360 });
    await signIn(page, ADMIN);
    await page.getByRole('table', { name: 'Keys' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await context.close();
  });
});

describe('keys', () => {
  it('Create key opens a dialog; the new key appears Enabled; its view rotates, disables, enables and schedules deletion', async () => {
    const { page, context } = await openConsole();
    await signIn(page, ADMIN);
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Description').fill('made in the console');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const keys = page.getByRole('table', { name: 'Keys' });
    for (const name of ['Key ID', 'State', 'Created']) await expect.poll(() => keys.getByRole('columnheader', { name, exact: true }).count()).toBe(1);
    const row = keys.getByRole('row').filter({ hasText: 'made in the console' });
    await expect.poll(() => row.getByRole('cell', { name: 'Enabled', exact: true }).count()).toBe(1);
    const keyId = (await row.getByRole('link').textContent())!;
    expect((await api(ADMIN, 'DescribeKey', { KeyId: keyId })).KeyMetadata.Description).toBe('made in the console');

    await row.getByRole('link').click();
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.waitFor();
    await expect.poll(() => page.getByText('Enabled', { exact: true }).count()).toBe(1);
    const before = await versions.getByRole('row').count();
    await page.getByRole('button', { name: 'Rotate' }).click();
    await expect.poll(() => versions.getByRole('row').count()).toBe(before + 1);

    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.getByText('Disabled', { exact: true }).count()).toBe(1);
    expect((await api(ADMIN, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => page.getByText('Enabled', { exact: true }).count()).toBe(1);

    await page.getByRole('button', { name: 'Schedule deletion' }).click();
    await page.getByRole('dialog').getByLabel('Pending window (days)').fill('7');
    await page.getByRole('dialog').getByRole('button', { name: 'Schedule' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expect.poll(() => page.getByText('PendingDeletion', { exact: true }).count()).toBe(1);
    expect((await api(ADMIN, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingDeletion');
    await context.close();
  });

  it('a dialog stays open with the API refusal when its action fails (a pending window out of range)', async () => {
    const { page, context } = await openConsole();
    await signIn(page, ADMIN);
    await page.getByRole('table', { name: 'Keys' }).getByRole('link', { name: 'key-console0000000000000001' }).click();
    await page.getByRole('button', { name: 'Schedule deletion' }).click();
    await page.getByRole('dialog').getByLabel('Pending window (days)').fill('3');
    // The browser's own range check would stop the form first: the API's answer is what is tested.
    await page
      .getByRole('dialog')
      .getByLabel('Pending window (days)')
      .evaluate((input) => input.removeAttribute('min'));
    await page.getByRole('dialog').getByRole('button', { name: 'Schedule' }).click();
    await expect.poll(() => page.getByRole('dialog').getByRole('alert').textContent()).toContain('InvalidParameter');
    expect((await api(ADMIN, 'DescribeKey', { KeyId: 'key-console0000000000000001' })).KeyMetadata.KeyState).toBe('Enabled');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await context.close();
  });

  it('a caller allowed only kms:Describe* and kms:List* gets Forbidden.NoPermission from Create key, and no key is made', async () => {
    const before = (await api(ADMIN, 'ListKeys', { PageSize: '1' })).TotalCount;
    const { page, context } = await openConsole();
    await signIn(page, READER);
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Forbidden.NoPermission');
    await page.getByRole('dialog').getByLabel('Description').fill('should not exist');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByRole('dialog').getByRole('alert').textContent()).toContain('Forbidden.NoPermission');
    expect((await api(ADMIN, 'ListKeys', { PageSize: '1' })).TotalCount).toBe(before);
    await context.close();
  });
});

describe('aliases', () => {
  it('Create alias opens a dialog; the alias appears with its key', async () => {
    const { page, context } = await openConsole();
    await signIn(page, ADMIN);
    await page.getByRole('link', { name: 'Aliases', exact: true }).click();
    const aliases = page.getByRole('table', { name: 'Aliases' });
    await aliases.waitFor();
    for (const name of ['Alias', 'Key ID']) await expect.poll(() => aliases.getByRole('columnheader', { name, exact: true }).count()).toBe(1);
    await expect.poll(() => aliases.getByRole('cell', { name: 'alias/seeded', exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Create alias' }).click();
    await page.getByRole('dialog').getByLabel('Alias name').fill('alias/from-console');
    await page.getByRole('dialog').getByLabel('Key ID').fill('key-console0000000000000001');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const row = aliases.getByRole('row').filter({ hasText: 'alias/from-console' });
    await expect.poll(() => row.getByRole('cell', { name: 'key-console0000000000000001' }).count()).toBe(1);
    expect((await api(ADMIN, 'DescribeKey', { KeyId: 'alias/from-console' })).KeyMetadata.KeyId).toBe('key-console0000000000000001');
    await context.close();
  });
});

describe('access keys and the audit log', () => {
  it('Access keys shows the signed-in key and its policy', async () => {
    const { page, context } = await openConsole();
    await signIn(page, READER);
    await page.getByRole('link', { name: 'Access keys', exact: true }).click();
    await expect.poll(() => page.getByText(READER.accessKeyId, { exact: true }).first().isVisible()).toBe(true);
    await expect.poll(() => page.getByLabel('Policy').textContent()).toContain('kms:Describe*');
    await expect.poll(() => page.getByText('kms access-keys create', { exact: false }).first().isVisible()).toBe(true);
    await context.close();
  });

  it('Audit log shows every client’s calls, newest first, at least the latest 100', async () => {
    // Another client's calls, one refused.
    for (let i = 0; i < 110; i++) expect((await api(OTHER, 'GenerateDataKey', { KeyId: 'alias/seeded' })).status).toBe(200);
    expect((await api(OTHER, 'CreateKey')).status).toBe(403);
    const { page, context } = await openConsole();
    await signIn(page, READER);
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    const audit = page.getByRole('table', { name: 'Audit log' });
    await audit.waitFor();
    for (const name of ['Time', 'Action', 'Access key', 'Result'])
      await expect.poll(() => audit.getByRole('columnheader', { name, exact: true }).count()).toBe(1);
    const rows = audit.getByRole('row');
    expect(await rows.count()).toBeGreaterThanOrEqual(101);
    const refused = audit.getByRole('row').filter({ hasText: 'Forbidden.NoPermission' }).filter({ hasText: OTHER.accessKeyId });
    await expect.poll(() => refused.getByRole('cell', { name: 'CreateKey', exact: true }).count()).toBe(1);
    expect(await audit.getByRole('row').filter({ hasText: OTHER.accessKeyId }).filter({ hasText: 'GenerateDataKey' }).count()).toBeGreaterThan(90);
    const times = await audit.locator('time').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('datetime')!));
    expect(times.length).toBeGreaterThanOrEqual(100);
    expect([...times].sort().reverse()).toEqual(times);
    await context.close();
  });
});

describe('over TLS', () => {
  it('with KMS_TLS_CERT and KMS_TLS_KEY the console is served over HTTPS on the API port', async () => {
    const pki = await makeCertificates(dir);
    const seedFile = await writeSeedFile(dir, SEED, 'tls-seed.json');
    const secure = await startGateway({
      dataDir: join(dir, 'tls-data'),
      seedFile,
      logLevel: 'silent',
      env: { KMS_AUDIT_LOG: 'none', KMS_TLS_CERT: pki.serverCert, KMS_TLS_KEY: pki.serverKey },
    });
    try {
      expect(secure.url.startsWith('https://')).toBe(true);
      const { page, context } = await openConsole({ base: secure.url, ignoreHTTPSErrors: true });
      const response = await page.reload();
      expect(response!.headers()['strict-transport-security']).toContain('max-age=');
      await signIn(page, ADMIN);
      await expect.poll(() => page.getByRole('table', { name: 'Keys' }).getByRole('link', { name: 'key-console0000000000000001' }).count()).toBe(1);
      await context.close();
    } finally {
      await secure.stop();
    }
  });
});
