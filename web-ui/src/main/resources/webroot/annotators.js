// The dashboard's Annotators panel (accounts mode, admin only): create, list, disable, enable and delete annotators,
// hand out invite links and script tokens (each shown once), and publish guidelines. It speaks with the admin token
// entered on the dashboard, or the admin account's session cookie (then with its CSRF token). Names and guidelines
// are written as text only; the preview is markdown.js's nodes.
import { call, describe, setCsrfToken } from './api.js';
import { renderGuidelines } from './markdown.js';

const $ = (id) => document.getElementById(id);
const panel = $('accounts');
const rows = $('annotators');
const statusEl = $('accounts-status');
const tokenEl = $('admin-token');
const textEl = $('guidelines-text');
const formatEl = $('guidelines-format');
const previewEl = $('guidelines-preview');

function headers() {
  const t = tokenEl.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

const api = (url, options = {}) => call(url, { ...options, headers: headers() });

function say(text, kind = '') {
  statusEl.textContent = text;
  statusEl.className = `status ${kind}`;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function action(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'secondary';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

function row(a) {
  const tr = document.createElement('tr');
  tr.dataset.name = a.name;
  tr.append(cell(a.name), cell(a.role), cell(a.status), cell(a.has_token ? 'yes' : '–'));
  const td = document.createElement('td');
  if (a.status === 'active') {
    td.append(action('Invite', () => invite(a.name)), action('Token', () => newToken(a.name)),
      action('Disable', () => setStatus(a.name, 'disabled')));
  } else if (a.status === 'disabled') {
    td.append(action('Enable', () => setStatus(a.name, 'active')));
  }
  if (a.status !== 'deleted') {
    // Two clicks: deleting is for good (the name is never given out again).
    const del = action('Delete', () => {
      if (del.dataset.armed) setStatus(a.name, 'deleted');
      else {
        del.dataset.armed = '1';
        del.textContent = 'Really delete?';
      }
    });
    td.append(del);
  }
  tr.append(td);
  return tr;
}

async function refresh() {
  let list;
  try {
    list = (await api('/api/annotators')).json.annotators;
  } catch {
    // Not the admin, or accounts are off: the panel is not for this reader.
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  rows.replaceChildren(...list.map(row));
  if (!tokenEl.value.trim()) {
    // An admin account signed in by cookie: its writes carry the session's CSRF token. Asked only now, once the
    // list showed an admin, so that in open mode this page never races dashboard.js for an identity cookie.
    try {
      setCsrfToken((await call('/api/me')).json?.csrf_token);
    } catch {
      // the writes will say what is wrong
    }
  }
  try {
    const g = (await api('/api/guidelines')).json;
    $('guidelines-current').textContent = g.version ? `(current: version ${g.version})` : '(none yet)';
    if (g.version && !textEl.value) {
      textEl.value = g.body;
      formatEl.value = g.format;
      preview();
    }
  } catch {
    // the list is what matters here
  }
}

async function act(what, fn) {
  try {
    await fn();
  } catch (e) {
    say(`${what} failed: ${describe(e)}`, 'err');
  }
  await refresh();
}

function setStatus(name, status) {
  return act(`Setting ${name} ${status}`, async () => {
    await api('/api/annotators/status', { method: 'POST', body: { name, status } });
    say(`${name} is ${status}.`, 'ok');
  });
}

function invite(name) {
  return act(`Inviting ${name}`, async () => {
    const { json } = await api('/api/invites', { method: 'POST', body: { name } });
    $('invite-for').textContent = name;
    // This page's own origin: behind a TLS proxy it is the https one people reach, which the server cannot see.
    $('invite-link').value = location.origin + json.path;
    $('invite-row').hidden = false;
    say(`Invite link for ${name}: it works once, until ${new Date(json.expires_at).toLocaleString()}.`, 'ok');
  });
}

function newToken(name) {
  return act(`A token for ${name}`, async () => {
    const { json } = await api('/api/annotators/token', { method: 'POST', body: { name } });
    $('token-for').textContent = name;
    $('new-token').value = json.token;
    $('token-row').hidden = false;
    say(`A new token for ${name}; the old one no longer works. Copy it now: it is not shown again.`, 'ok');
  });
}

$('create-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('new-name').value.trim();
  if (!name) return;
  act(`Creating ${name}`, async () => {
    await api('/api/annotators', { method: 'POST', body: { name, role: $('new-role').value } });
    $('new-name').value = '';
    say(`${name} created: now send them an invite link.`, 'ok');
  });
});

$('copy-invite').addEventListener('click', async () => {
  const link = $('invite-link');
  try {
    await navigator.clipboard.writeText(link.value);
    say('Invite link copied.', 'ok');
  } catch {
    // No clipboard access (plain http on a LAN, say): select it for a manual copy.
    link.select();
    say('Select and copy the link by hand (Ctrl+C): this browser gives the page no clipboard.', 'warn');
  }
});

function preview() {
  previewEl.replaceChildren(renderGuidelines(textEl.value, formatEl.value));
}
textEl.addEventListener('input', preview);
formatEl.addEventListener('change', preview);

$('guidelines-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!textEl.value.trim()) return;
  act('Publishing the guidelines', async () => {
    const { json } = await api('/api/guidelines', { method: 'POST', body: { format: formatEl.value,
      body: textEl.value } });
    say(`Guidelines version ${json.version} published: votes from now on are given under it.`, 'ok');
  });
});

tokenEl.addEventListener('change', refresh);
refresh();
