// The console: sign-in, then views of keys, aliases, the access key and the audit log, each built
// from signed API calls (api.mjs). No framework: a helper that makes elements, and one render per
// view. Routes live in the fragment (#/keys, #/keys/<id>, #/aliases, #/access-keys, #/audit).
import { ApiError, call, forgetCredentials, storeCredentials, storedCredentials } from './api.mjs';

const main = document.getElementById('main');
const header = document.getElementById('session');

/** `h('p', { class: 'x' }, 'text', child)`: an element; `on…` attributes are listeners, `null`/`false` skipped. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY))
    if (child !== null && child !== undefined && child !== false) element.append(child instanceof Node ? child : String(child));
  return element;
}

function alertBox(err) {
  const text = err instanceof ApiError ? `${err.code}: ${err.message.slice(err.code.length + 2)}` : String(err?.message ?? err);
  return h('div', { role: 'alert', class: 'alert' }, text);
}

/** Replaces what `place` shows of an alert with `err` (or nothing). */
function showAlert(place, err) {
  place.replaceChildren(...(err ? [alertBox(err)] : []));
}

function table(label, headings, rows, empty) {
  return h(
    'table',
    {},
    h('caption', {}, label),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((name) => h('th', { scope: 'col' }, name)),
      ),
    ),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headings.length }, empty))),
  );
}

function localTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * A modal dialog (`<dialog>`, role `dialog`) titled `title`, with `fields` (label → input
 * attributes) and one action button; `submit(values)` runs on it, and the dialog closes when it
 * succeeds. A refusal is shown inside as an alert. `check` (optional) runs on opening: a refusal it
 * finds (say, a DryRun answered Forbidden.NoPermission) is shown at once.
 */
function openDialog({ title, fields, action, submit, check }) {
  const alertPlace = h('div', { class: 'alert-place' });
  const inputs = fields.map(({ label, ...attributes }, i) => {
    const id = `field-${i}`;
    return { label, input: h('input', { id, name: id, ...attributes }) };
  });
  const titleId = 'dialog-title';
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: titleId }, title),
    inputs.map(({ label, input }) => h('p', {}, h('label', { for: input.id }, label), input)),
    alertPlace,
    h(
      'p',
      { class: 'buttons' },
      h('button', { type: 'submit', value: 'submit' }, action),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
    ),
  );
  const dialog = h('dialog', { 'aria-labelledby': titleId }, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(inputs.map(({ label, input }) => [label, input.value.trim()]));
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      await submit(values);
      dialog.close();
    } catch (err) {
      showAlert(alertPlace, err);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  });
  // The page behind a modal dialog is inert for the browser; hidden from assistive technology too,
  // so that only the dialog's controls are found by role and name while it is open.
  const behind = [header.parentElement, main];
  dialog.addEventListener('close', () => {
    for (const element of behind) element.removeAttribute('aria-hidden');
    dialog.remove();
  });
  document.body.append(dialog);
  for (const element of behind) element.setAttribute('aria-hidden', 'true');
  dialog.showModal();
  if (check) check().catch((err) => showAlert(alertPlace, err));
}

/** Resolves when `action` would be allowed (DryRun answers DryRunOperationError), rejects with the API's refusal otherwise. */
async function wouldBeAllowed(credentials, action, params) {
  try {
    await call(credentials, action, { ...params, DryRun: 'true' });
  } catch (err) {
    if (err instanceof ApiError && err.code === 'DryRunOperationError') return;
    throw err;
  }
}

// ---- views ----

function signInView() {
  header.replaceChildren();
  const alertPlace = h('div', { class: 'alert-place' });
  const id = h('input', { id: 'access-key-id', name: 'access-key-id', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', { id: 'access-key-secret', name: 'access-key-secret', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h2', { id: 'sign-in-title' }, 'Sign in'),
    h('p', {}, 'Sign in with an access key of this service. Each request is signed in this page; the secret stays in this tab and is never sent.'),
    h('p', {}, h('label', { for: 'access-key-id' }, 'Access key ID'), id),
    h('p', {}, h('label', { for: 'access-key-secret' }, 'Access key secret'), secret),
    alertPlace,
    h('p', {}, button),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const credentials = { id: id.value.trim(), secret: secret.value };
    button.disabled = true;
    try {
      // A read any console user needs: a read-only key can sign in.
      await call(credentials, 'ListKeys', { PageSize: 1 });
      storeCredentials(credentials);
      secret.value = '';
      if (location.hash === '' || location.hash === '#/' || location.hash === '#/sign-in') location.hash = '#/keys';
      else render();
    } catch (err) {
      showAlert(alertPlace, err);
    } finally {
      button.disabled = false;
    }
  });
  main.replaceChildren(form);
  id.focus();
}

function sessionHeader(credentials) {
  const link = (href, text) => h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : null }, text);
  header.replaceChildren(
    h(
      'nav',
      { 'aria-label': 'Console' },
      h(
        'ul',
        {},
        [link('#/keys', 'Keys'), link('#/aliases', 'Aliases'), link('#/access-keys', 'Access keys'), link('#/audit', 'Audit log')].map((a) => h('li', {}, a)),
      ),
    ),
    h(
      'p',
      { class: 'who' },
      h('span', {}, credentials.id),
      ' ',
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            forgetCredentials();
            location.hash = '#/sign-in';
            render();
          },
        },
        'Sign out',
      ),
    ),
  );
}

const KEYS_PAGE_SIZE = 20;
/** Keys created in this tab: shown on the first page even when key-id order puts them on another. */
const createdHere = [];

async function keysView(credentials, params) {
  const pageNumber = pageOf(params);
  const alertPlace = h('div', { class: 'alert-place' });
  const create = h('button', { type: 'button' }, 'Create key');
  create.addEventListener('click', () =>
    openDialog({
      title: 'Create key',
      fields: [{ label: 'Description', maxlength: 8192 }],
      action: 'Create',
      check: () => wouldBeAllowed(credentials, 'CreateKey', {}),
      submit: async (values) => {
        const answer = await call(credentials, 'CreateKey', { Description: values.Description || undefined });
        createdHere.unshift(answer.KeyMetadata.KeyId);
        await render();
      },
    }),
  );
  const listed = await call(credentials, 'ListKeys', { PageNumber: pageNumber, PageSize: KEYS_PAGE_SIZE });
  const ids = listed.Keys.Key.map((k) => k.KeyId);
  const shown = pageNumber === 1 ? [...createdHere.filter((id) => !ids.includes(id)), ...ids] : ids;
  const described = await Promise.all(
    shown.map((keyId) =>
      call(credentials, 'DescribeKey', { KeyId: keyId }).then(
        (a) => a.KeyMetadata,
        (err) => ({ KeyId: keyId, KeyState: err instanceof ApiError ? err.code : 'unknown' }),
      ),
    ),
  );
  const rows = described.map((m) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/keys/${encodeURIComponent(m.KeyId)}` }, m.KeyId)),
      h('td', {}, m.KeyState ?? ''),
      h('td', {}, localTime(m.CreationDate)),
      h('td', {}, m.KeySpec ?? ''),
      h('td', {}, m.Description ?? ''),
    ),
  );
  const pages = Math.max(1, Math.ceil(listed.TotalCount / KEYS_PAGE_SIZE));
  return [
    h('div', { class: 'title-row' }, h('h2', {}, 'Keys'), create),
    alertPlace,
    table('Keys', ['Key ID', 'State', 'Created', 'Spec', 'Description'], rows, 'No keys yet.'),
    pager('#/keys', pageNumber, pages, listed.TotalCount),
  ];
}

/** The page a view's route names (`#/keys?page=2`), 1 unless it names a valid one. */
function pageOf(params) {
  return Math.max(1, Math.floor(Number(params.get('page') ?? 1)) || 1);
}

function pager(base, pageNumber, pages, total) {
  return h(
    'p',
    { class: 'pager' },
    pageNumber > 1 ? h('a', { href: `${base}?page=${pageNumber - 1}` }, 'Previous') : null,
    h('span', {}, ` Page ${pageNumber} of ${pages} (${total}) `),
    pageNumber < pages ? h('a', { href: `${base}?page=${pageNumber + 1}` }, 'Next') : null,
  );
}

async function keyView(credentials, keyId) {
  const alertPlace = h('div', { class: 'alert-place' });
  const [described, versions] = await Promise.all([
    call(credentials, 'DescribeKey', { KeyId: keyId }),
    call(credentials, 'ListKeyVersions', { KeyId: keyId, PageSize: 100 }).catch((err) => err),
  ]);
  const m = described.KeyMetadata;
  const act = (label, action, params = {}) =>
    h(
      'button',
      {
        type: 'button',
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await call(credentials, action, { KeyId: m.KeyId, ...params });
            await render();
          } catch (err) {
            showAlert(alertPlace, err);
            event.currentTarget.disabled = false;
          }
        },
      },
      label,
    );
  const schedule = h('button', { type: 'button' }, 'Schedule deletion');
  schedule.addEventListener('click', () =>
    openDialog({
      title: 'Schedule deletion',
      fields: [{ label: 'Pending window (days)', type: 'number', min: 7, max: 366, value: 30, required: true, inputmode: 'numeric' }],
      action: 'Schedule',
      submit: async (values) => {
        await call(credentials, 'ScheduleKeyDeletion', { KeyId: m.KeyId, PendingWindowInDays: values['Pending window (days)'] });
        await render();
      },
    }),
  );
  const buttons =
    m.KeyState === 'PendingDeletion'
      ? [act('Cancel deletion', 'CancelKeyDeletion')]
      : [act('Rotate', 'CreateKeyVersion'), m.KeyState === 'Disabled' ? act('Enable', 'EnableKey') : act('Disable', 'DisableKey'), schedule];
  const versionRows =
    versions instanceof Error
      ? []
      : versions.KeyVersions.KeyVersion.map((v) => h('tr', {}, h('td', {}, v.KeyVersionId), h('td', {}, localTime(v.CreationDate))));
  const facts = [
    ['State', h('span', { class: 'state' }, m.KeyState)],
    ['Description', m.Description ?? ''],
    ['Created', localTime(m.CreationDate)],
    ['Spec', m.KeySpec ?? ''],
    ['Usage', m.KeyUsage ?? ''],
    ['Origin', m.Origin ?? ''],
    ['ARN', m.Arn ?? ''],
    m.DeleteDate ? ['Deletion date', localTime(m.DeleteDate)] : null,
  ].filter(Boolean);
  return [
    h('p', {}, h('a', { href: '#/keys' }, 'Back to the list')),
    h('h2', {}, `Key ${m.KeyId}`),
    h(
      'dl',
      {},
      facts.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
    ),
    h('p', { class: 'buttons' }, buttons),
    alertPlace,
    versions instanceof Error ? alertBox(versions) : table('Versions', ['Version ID', 'Created'], versionRows, 'No versions.'),
  ];
}

const ALIASES_PAGE_SIZE = 50;

async function aliasesView(credentials, params) {
  const pageNumber = pageOf(params);
  const alertPlace = h('div', { class: 'alert-place' });
  const create = h('button', { type: 'button' }, 'Create alias');
  create.addEventListener('click', () =>
    openDialog({
      title: 'Create alias',
      fields: [
        { label: 'Alias name', placeholder: 'alias/…', required: true, spellcheck: 'false' },
        { label: 'Key ID', required: true, spellcheck: 'false' },
      ],
      action: 'Create',
      submit: async (values) => {
        await call(credentials, 'CreateAlias', { AliasName: values['Alias name'], KeyId: values['Key ID'] });
        await render();
      },
    }),
  );
  const listed = await call(credentials, 'ListAliases', { PageNumber: pageNumber, PageSize: ALIASES_PAGE_SIZE });
  const rows = listed.Aliases.Alias.map((a) =>
    h(
      'tr',
      {},
      h('td', {}, a.AliasName),
      h('td', {}, h('a', { href: `#/keys/${encodeURIComponent(a.KeyId)}` }, a.KeyId)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            'aria-label': `Delete ${a.AliasName}`,
            onclick: async () => {
              try {
                await call(credentials, 'DeleteAlias', { AliasName: a.AliasName });
                await render();
              } catch (err) {
                showAlert(alertPlace, err);
              }
            },
          },
          'Delete',
        ),
      ),
    ),
  );
  return [
    h('div', { class: 'title-row' }, h('h2', {}, 'Aliases'), create),
    alertPlace,
    table('Aliases', ['Alias', 'Key ID', ''], rows, 'No aliases yet.'),
    pager('#/aliases', pageNumber, Math.max(1, Math.ceil(listed.TotalCount / ALIASES_PAGE_SIZE)), listed.TotalCount),
  ];
}

async function accessKeysView(credentials) {
  let policy;
  try {
    const answer = await call(credentials, 'DescribeAccessKey', { AccessKeyId: credentials.id });
    policy = h('pre', { class: 'policy', 'aria-label': 'Policy' }, JSON.stringify(JSON.parse(answer.AccessKey.Policy), null, 2));
  } catch (err) {
    policy = h('p', {}, `This key may not read its own policy (${err instanceof ApiError ? err.code : err.message}).`);
  }
  return [
    h('h2', {}, 'Access keys'),
    h('dl', {}, h('dt', {}, 'Signed in as'), h('dd', {}, h('code', {}, credentials.id))),
    h('h3', {}, 'Policy'),
    policy,
    h('h3', {}, 'Managing access keys'),
    h(
      'p',
      {},
      'Access keys and their policies are kept in the key store and managed on the host with the kms command, not over the API: ',
      h('code', {}, 'kms access-keys create --policy policy.json'),
      ', ',
      h('code', {}, 'kms access-keys list'),
      ', ',
      h('code', {}, 'kms access-keys set-policy <id> --policy policy.json'),
      ', ',
      h('code', {}, 'kms access-keys delete <id>'),
      '. A new secret is shown once, when it is created.',
    ),
  ];
}

const AUDIT_PAGE_SIZE = 100;

async function auditView(credentials, params) {
  const pageNumber = pageOf(params);
  const listed = await call(credentials, 'ListAuditEvents', { PageNumber: pageNumber, PageSize: AUDIT_PAGE_SIZE });
  const rows = listed.AuditEvents.AuditEvent.map((e) =>
    h(
      'tr',
      {},
      h('td', {}, h('time', { datetime: e.Time }, localTime(e.Time))),
      h('td', {}, e.Action ?? e.AwsOperation ?? ''),
      h('td', {}, e.AccessKeyId ?? ''),
      h('td', { class: e.Result === 'OK' ? 'ok' : 'refused' }, e.Result),
      h('td', {}, e.SourceIp ?? ''),
      // The ARN's resource part (`key/…`): the rest is the same on every line.
      h('td', {}, e.KeyArn ? e.KeyArn.slice(e.KeyArn.lastIndexOf(':') + 1) : ''),
    ),
  );
  const pages = Math.max(1, Math.ceil(listed.TotalCount / AUDIT_PAGE_SIZE));
  return [
    h('div', { class: 'title-row' }, h('h2', {}, 'Audit log'), h('button', { type: 'button', onclick: () => render() }, 'Refresh')),
    h('p', {}, 'Every request to this gateway, from any client, newest first.'),
    table('Audit log', ['Time', 'Action', 'Access key', 'Result', 'Source IP', 'Key'], rows, 'No audit records.'),
    pager('#/audit', pageNumber, pages, listed.TotalCount),
  ];
}

// ---- routing ----

let rendering = 0;

async function render() {
  // Every render, the sign-in form's too, supersedes any still waiting for the API: a view that
  // answers after Sign out must not replace the form.
  const turn = ++rendering;
  const credentials = storedCredentials();
  if (!credentials) return signInView();
  sessionHeader(credentials);
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = (path ?? '').split('/').filter(Boolean);
  main.setAttribute('aria-busy', 'true');
  let content;
  try {
    if (parts[0] === 'keys' && parts[1]) content = await keyView(credentials, decodeURIComponent(parts[1]));
    else if (parts[0] === 'aliases') content = await aliasesView(credentials, params);
    else if (parts[0] === 'access-keys') content = await accessKeysView(credentials);
    else if (parts[0] === 'audit') content = await auditView(credentials, params);
    else content = await keysView(credentials, params);
  } catch (err) {
    content = [alertBox(err)];
  }
  // A later render (another click) wins.
  if (turn !== rendering) return;
  main.replaceChildren(...content);
  main.removeAttribute('aria-busy');
  if (!document.activeElement || document.activeElement === document.body) main.querySelector('h2')?.setAttribute('tabindex', '-1');
}

window.addEventListener('hashchange', () => void render());
void render();
