// Accounts on the annotator page (--annotation accounts): an invite link (/#invite=CODE) is redeemed here for a
// session cookie before anything else asks the server who this is; then the page shows who is signed in, the
// current guidelines (rendered by markdown.js into nodes, never as HTML) and the person's own vote count from the
// server. app.js imports this module first, so its top-level await finishes before app.js's first request.
import { ApiError, call, describe, setCsrfToken } from './api.js';
import { renderGuidelines } from './markdown.js';

const $ = (id) => document.getElementById(id);
const signinEl = $('signin');
const accountEl = $('account');
const guidelinesEl = $('guidelines');
const guidelinesBody = $('guidelines-body');
const guidelinesVersion = $('guidelines-version');
const progressEl = $('progress');
const signOutButton = $('sign-out');
// A token entered on this page (token mode, or a script's token in accounts mode) reads the guidelines too.
const token = localStorage.getItem('pairwise.annotatorToken');
const auth = token ? { headers: { Authorization: `Bearer ${token}` } } : {};

function say(text, kind = '') {
  signinEl.hidden = !text;
  signinEl.textContent = text;
  signinEl.className = `status ${kind}`;
}

/** Redeems the invite code in the address, once, and takes it out of the address bar and history. */
async function redeemInvite() {
  const m = /(?:^#|&)invite=([0-9a-f]+)/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  try {
    const { json } = await call('/api/session', { method: 'POST', body: { code: m[1] } });
    setCsrfToken(json.csrf_token);
    say(`Welcome, ${json.annotator}: you are signed in on this browser.`, 'ok');
  } catch (e) {
    say(`This invite link did not sign you in: ${describe(e)}`, 'err');
  }
}

async function showGuidelines() {
  try {
    const g = (await call('/api/guidelines', auth)).json;
    if (g?.version === null || g?.version === undefined) return;
    guidelinesBody.replaceChildren(renderGuidelines(g.body, g.format));
    guidelinesVersion.textContent = `version ${g.version}`;
    guidelinesEl.hidden = false;
  } catch {
    // No guidelines to show (not signed in yet, say): the page works without them.
  }
}

async function showProgress() {
  try {
    const p = (await call('/api/progress', auth)).json;
    progressEl.textContent = `${p.votes} vote${p.votes === 1 ? '' : 's'} so far`;
    progressEl.hidden = false;
  } catch {
    progressEl.hidden = true;
  }
}

async function signOut() {
  try {
    await call('/api/session/end', { method: 'POST' });
  } finally {
    location.reload();
  }
}

await redeemInvite();
let me = null;
try {
  me = (await call('/api/me', auth)).json;
} catch (e) {
  if (e instanceof ApiError && e.status === 401 && e.detail?.annotation === 'accounts' && signinEl.hidden) {
    say('You are not signed in: open the invite link the admin gave you (or enter a token above).', 'warn');
  }
}
if (me?.annotation === 'accounts') {
  setCsrfToken(me.csrf_token);
  accountEl.hidden = false;
  signOutButton.hidden = !me.csrf_token; // a token's holder has no session to end
  signOutButton.addEventListener('click', signOut);
  showProgress();
  // app.js updates the local count after each recorded vote: the server's count follows.
  new MutationObserver(showProgress).observe($('vote-count'), { childList: true, characterData: true, subtree: true });
}
showGuidelines();
