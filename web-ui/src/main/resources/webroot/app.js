// The annotator page: show a pair, take a vote, show the next pair. Model text and prompts are untrusted: they are
// only ever written with textContent / text nodes, never parsed as HTML.
// First: in accounts mode it redeems an invite link before this page asks the server anything.
import './account.js';
import { ApiError, backoffMs, call, csrfHeaders, describe, readSse, sleep, uuid, errorOf } from './api.js';
import {
  enterSends, judged, offerContinue, onContinue, pendingContinuation, rememberContinuation, showHistory, withdrawn,
} from './conversation.js';

const $ = (id) => document.getElementById(id);
const promptEl = $('prompt');
const paneA = $('response-a');
const paneB = $('response-b');
const cutA = $('cut-a');
const cutB = $('cut-b');
const metaEl = $('pair-meta');
const statusEl = $('status');
const countEl = $('vote-count');
const whoEl = $('whoami');
const askForm = $('ask-form');
const askPrompt = $('ask-prompt');
const askSubmit = $('ask-submit');
const voteButtons = [...document.querySelectorAll('.vote button')];
const tokenField = $('token-field');
const tokenEl = $('annotator-token');

const CONFIRM_MS = 400;
const TOKEN_KEY = 'pairwise.annotatorToken';

const state = {
  pair: null, // the pair on screen, votable once shown in full
  next: null, // Promise of the prefetched pair (or null when the prefetch failed)
  voting: false,
  streaming: false,
  voted: new Set(),
  who: '', // the name the server stores this person's votes under
  last: null, // the last vote while it may be undone: {id, pair, until}
  back: [], // pairs an undo put aside, shown again before any new one
};

// ---- small view helpers ----

function setStatus(text, kind = '') {
  statusEl.textContent = text;
  statusEl.className = `status ${kind}`;
}

function updateButtons() {
  const enabled = state.pair !== null && !state.voting && !state.streaming;
  for (const b of voteButtons) b.disabled = !enabled;
  updateCampaignButtons(enabled);
}

function authHeaders() {
  const t = tokenEl.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** In token mode the server answers 401: ask for the token and resolve once the person has entered one. */
function needToken() {
  tokenField.hidden = false;
  setStatus('This server asks for an annotator token: enter yours at the top of the page.', 'warn');
  tokenEl.focus();
  return new Promise((resolve) => tokenEl.addEventListener('change', resolve, { once: true }));
}

// The count is per identity on this browser: two people sharing it with their own tokens each see their own.
function countKey() {
  return `pairwise.votes.${state.who || 'anonymous'}`;
}

function setWho(name) {
  if (!name || name === state.who) return;
  state.who = name;
  whoEl.textContent = name;
  showCount();
}

/** Asks the server who it takes this browser (its identity cookie) or this token for. */
async function showWho() {
  try {
    setWho((await call('/api/me', { headers: authHeaders() })).json?.annotator);
  } catch (e) {
    whoEl.textContent = e instanceof ApiError && e.status === 401 ? 'nobody yet: enter your token' : '…';
  }
}

function showCount() {
  countEl.textContent = String(Number(localStorage.getItem(countKey()) ?? 0));
}

function render(pair, { own = false, label = 'your prompt' } = {}) {
  state.pair = null;
  updateButtons();
  // A conversation's earlier turns go above the pair; its prompt is then the last user message.
  promptEl.textContent = showHistory(pair) ?? pair.prompt ?? '';
  promptEl.removeAttribute('aria-busy');
  // A streamed pair's final event may carry only its id: the panes already hold the streamed text then.
  if (pair.a?.text !== undefined) paneA.textContent = pair.a.text;
  if (pair.b?.text !== undefined) paneB.textContent = pair.b.text;
  // "length": generation stopped at max_new_tokens, not at an end of text; a reader should know it was cut.
  cutA.hidden = pair.a?.finish_reason !== 'length';
  cutB.hidden = pair.b?.finish_reason !== 'length';
  paneA.classList.remove('streaming');
  paneB.classList.remove('streaming');
  const version = pair.policy_version !== undefined ? `policy v${pair.policy_version}` : '';
  metaEl.textContent = own ? `(${label}${version ? `, ${version}` : ''})` : version ? `(${version})` : '';
  // Enable voting only after the browser has painted both responses, so a key held down from the previous vote
  // cannot land on a pair nobody has seen yet.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      state.pair = pair;
      // Lets a reader of the DOM (support staff, the browser tests) tie what is shown to the stored pair.
      document.body.dataset.pairId = pair.pair_id ?? '';
      updateButtons();
    }),
  );
}

// ---- pairs ----

async function fetchPairOnce() {
  return (await call('/api/pairs/next', { headers: authHeaders() })).json;
}

/** Fetches a pair, retrying politely while the server is busy, unreachable, or has none ready yet. */
async function fetchPair() {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchPairOnce();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        await needToken();
        continue;
      }
      if (!(e instanceof ApiError) || !(e.status === 0 || e.status === 429 || e.status >= 500)) {
        setStatus(`Could not load a pair: ${describe(e)}`, 'err');
        throw e;
      }
      const ms = backoffMs(attempt, e.retryAfter);
      const why = e.status === 0 ? 'Cannot reach the server' : e.status === 429 ? 'The server is busy'
        : 'No pair is ready yet';
      setStatus(`${why}; retrying in ${Math.ceil(ms / 1000)} s…`, 'warn');
      await sleep(ms);
    }
  }
}

function prefetch() {
  // One silent try: if it fails, showNext fetches again with visible retries.
  state.next = fetchPairOnce().catch(() => null);
}

async function showNext() {
  if (state.back.length) {
    render(state.back.pop());
    return;
  }
  let pair = state.next ? await state.next : null;
  state.next = null;
  if (!pair || state.voted.has(pair.pair_id)) {
    pair = await fetchPair();
  }
  // The last vote's confirmation (or warning) belongs to the pair it was about, not to this one.
  if (!statusEl.classList.contains('err')) setStatus('');
  render(pair);
  prefetch();
}

// ---- votes ----

async function vote(choice) {
  const pair = state.pair;
  if (!pair || state.voting || state.streaming) return;
  state.voting = true;
  updateButtons();
  // One key per vote, reused by every retry of it: the server stores it once however often it arrives.
  const body = { pair_id: pair.pair_id, choice, idempotency_key: uuid() };
  let outcome;
  for (let attempt = 0; !outcome; attempt++) {
    try {
      const { status, json } = await call('/api/preferences', { method: 'POST', body, headers: authHeaders() });
      setWho(json?.annotator);
      outcome = status === 201 ? 'created' : 'duplicate';
      if (status === 201) rememberVote(json, pair);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 0 || e.status === 429 || e.status >= 500)) {
        const ms = backoffMs(attempt, e.retryAfter);
        const why = e.status === 429 ? 'The server is busy' : e.status === 0 ? 'Connection lost' : 'Server error';
        setStatus(`${why}; retrying your vote in ${Math.ceil(ms / 1000)} s…`, 'warn');
        await sleep(ms);
      } else if (e instanceof ApiError && e.status === 401) {
        await needToken();
      } else if (e instanceof ApiError && e.status === 409) {
        outcome = 'conflict';
      } else if (e instanceof ApiError && e.status === 404) {
        outcome = 'gone';
      } else {
        setStatus(`Your vote was not recorded: ${describe(e)}`, 'err');
        state.voting = false;
        updateButtons();
        return;
      }
    }
  }
  state.voted.add(pair.pair_id);
  judged(pair.pair_id);
  // Nothing is votable until the next pair is on screen: a second key press must not reach the pair just voted on.
  state.pair = null;
  if (outcome === 'created' || outcome === 'duplicate') {
    offerContinue(pair, choice, authHeaders());
  }
  if (outcome === 'created') {
    localStorage.setItem(countKey(), String(Number(localStorage.getItem(countKey()) ?? 0) + 1));
    showCount();
    setStatus('Recorded', 'ok');
  } else if (outcome === 'duplicate') {
    setStatus('Already recorded', 'ok');
  } else if (outcome === 'conflict') {
    setStatus('You had already voted differently on this pair; your first vote stands.', 'warn');
  } else {
    setStatus('That pair is no longer available; here is another.', 'warn');
  }
  await sleep(CONFIRM_MS);
  state.voting = false;
  try {
    await showNext();
  } catch {
    // fetchPair already said why on the page.
  }
}

for (const b of voteButtons) {
  b.addEventListener('click', () => vote(b.dataset.choice));
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const t = e.target;
  // Typing a token or a prompt that contains digits must not vote.
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t?.isContentEditable) return;
  if (e.key === 'u' || e.key === 'U' || e.key === 'Backspace') {
    e.preventDefault();
    undo();
    return;
  }
  const i = ['1', '2', '3', '4'].indexOf(e.key);
  if (i < 0) return;
  e.preventDefault();
  if (!voteButtons[i].disabled) vote(voteButtons[i].dataset.choice);
});

// ---- undo, skips with a reason, flags ----

const undoButton = $('undo');
const skipButtons = [...document.querySelectorAll('button.skip')];
const flagForm = $('flag-form');
const flagComment = $('flag-comment');
const flagSubmit = $('flag-submit');
let undoTimer;

function updateCampaignButtons(pairVotable) {
  undoButton.disabled = !(state.last && Date.now() < state.last.until && !state.voting && !state.streaming);
  for (const b of skipButtons) b.disabled = !pairVotable;
  flagSubmit.disabled = !pairVotable;
}

/** The server answers a new vote with undo_until: until then U (or Backspace) withdraws it. */
function rememberVote(json, pair) {
  if (!json?.id || !(json.undo_until > Date.now())) return;
  state.last = { id: json.id, pair, until: json.undo_until };
  clearTimeout(undoTimer);
  undoTimer = setTimeout(() => {
    state.last = null;
    updateButtons();
  }, json.undo_until - Date.now());
}

/** Withdraws the last vote and shows its pair again, to vote on anew; the pair on screen waits its turn. */
async function undo() {
  const last = state.last;
  if (!last || Date.now() >= last.until || state.voting || state.streaming) return;
  state.voting = true;
  updateButtons();
  try {
    await call('/api/preferences/withdraw', { method: 'POST', body: { vote_id: last.id }, headers: authHeaders() });
    state.last = null;
    state.voted.delete(last.pair.pair_id);
    withdrawn(last.pair.pair_id);
    localStorage.setItem(countKey(), String(Math.max(0, Number(localStorage.getItem(countKey()) ?? 0) - 1)));
    showCount();
    if (state.pair) state.back.push(state.pair);
    render(last.pair);
    setStatus('Vote withdrawn: vote again on this pair, or skip it.', 'ok');
  } catch (e) {
    state.last = null;
    setStatus(`Could not undo: ${describe(e)}`, 'err');
  } finally {
    state.voting = false;
    updateButtons();
  }
}

async function skip(reason) {
  const pair = state.pair;
  if (!pair || state.voting || state.streaming) return;
  state.voting = true;
  updateButtons();
  try {
    await call('/api/skips', { method: 'POST', body: { pair_id: pair.pair_id, reason }, headers: authHeaders() });
  } catch (e) {
    setStatus(`Could not skip: ${describe(e)}`, 'err');
    state.voting = false;
    updateButtons();
    return;
  }
  state.voted.add(pair.pair_id);
  judged(pair.pair_id);
  state.pair = null;
  state.last = null;
  setStatus(reason === 'harmful' ? 'Skipped and flagged for the admin' : 'Skipped', 'ok');
  await sleep(CONFIRM_MS);
  state.voting = false;
  try {
    await showNext();
  } catch {
    // fetchPair already said why on the page.
  }
}

undoButton.addEventListener('click', () => undo());
for (const b of skipButtons) {
  b.addEventListener('click', () => skip(b.dataset.reason));
}
flagForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const comment = flagComment.value.trim();
  const pair = state.pair;
  if (!pair || !comment) return;
  try {
    await call('/api/pair-flags', { method: 'POST', body: { pair_id: pair.pair_id, comment },
      headers: authHeaders() });
    flagComment.value = '';
    setStatus('Flag sent to the admin', 'ok');
  } catch (err) {
    setStatus(`Could not flag the pair: ${describe(err)}`, 'err');
  }
});

// ---- ask your own prompt, or continue a conversation (streamed) ----

/**
 * Generates a pair now and streams it onto the page: a person's own prompt (POST /api/pairs) or the next turn of a
 * conversation they voted on (POST /api/pairs/continue, with the turns so far in messages). Resolves to the pair
 * shown, or null when none came back.
 */
async function streamPair(url, body, { prompt, messages = null, label }) {
  state.streaming = true;
  state.pair = null;
  updateButtons();
  askSubmit.disabled = true;
  promptEl.textContent = showHistory({ messages }) ?? prompt;
  paneA.textContent = '';
  paneB.textContent = '';
  cutA.hidden = true;
  cutB.hidden = true;
  metaEl.textContent = `(${label})`;
  paneA.classList.add('streaming');
  paneB.classList.add('streaming');
  setStatus('Generating…');
  let pair = null;
  try {
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...csrfHeaders(),
            ...authHeaders() },
          body: JSON.stringify(body),
        });
      } catch (e) {
        throw new ApiError(0, 'network error', String(e));
      }
      if (res.status === 429) {
        const err = await errorOf(res);
        const ms = backoffMs(attempt, err.retryAfter);
        setStatus(`The server is busy; retrying in ${Math.ceil(ms / 1000)} s…`, 'warn');
        await sleep(ms);
        continue;
      }
      if (res.status === 401) tokenField.hidden = false;
      if (!res.ok) throw await errorOf(res);
      if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
        await readSse(res, (ev) => {
          const final = onStreamEvent(ev);
          if (final) pair = final;
        });
      } else {
        pair = await res.json();
      }
      break;
    }
    if (!pair) throw new Error('the stream ended before the pair was complete');
    setStatus('');
  } catch (e) {
    setStatus(`Could not generate: ${describe(e)}`, 'err');
  } finally {
    state.streaming = false;
    askSubmit.disabled = false;
    paneA.classList.remove('streaming');
    paneB.classList.remove('streaming');
  }
  if (!pair) {
    updateButtons();
    return null;
  }
  const shown = { ...pair, prompt: pair.prompt ?? prompt, messages: pair.messages ?? messages ?? undefined };
  render(shown, { own: true, label });
  return shown;
}

function ask(prompt) {
  return streamPair('/api/pairs', { prompt }, { prompt, label: 'your prompt' });
}

// The pair on screen waits its turn behind the continuation, as behind an undone pair.
onContinue(async (body, messages) => {
  if (state.streaming || state.voting) return false;
  const onScreen = state.pair;
  const pair = await streamPair('/api/pairs/continue', body, { prompt: body.message, messages,
    label: 'your conversation' });
  if (pair) rememberContinuation(pair, state.who);
  if (onScreen && pair) state.back.push(onScreen);
  else if (onScreen) render(onScreen);
  return pair !== null;
});

/** Applies one streamed event; returns the finished pair when this event is the final one. */
// The server's stream: events "a" and "b" carry {text} deltas of each side, "pair" the stored pair, "error" {error}.
function onStreamEvent({ event, data }) {
  if (event === 'error') {
    throw new ApiError(500, data?.error ?? 'generation failed', data?.detail);
  }
  if (!data || typeof data !== 'object') return null;
  if (event === 'pair') return data;
  if ((event === 'a' || event === 'b') && typeof data.text === 'string') {
    // A text node, never markup: the delta may hold half a tag, or a whole one.
    (event === 'a' ? paneA : paneB).append(document.createTextNode(data.text));
  }
  return null;
}

askForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const prompt = askPrompt.value.trim();
  if (!prompt || state.streaming || state.voting) return;
  ask(prompt);
});

enterSends(askPrompt, askForm);

// ---- start ----

tokenEl.value = localStorage.getItem(TOKEN_KEY) ?? '';
tokenField.hidden = tokenEl.value === '';
tokenEl.addEventListener('change', () => {
  localStorage.setItem(TOKEN_KEY, tokenEl.value.trim());
  showWho();
});
showCount();
// First, alone: a browser without an identity gets its cookie from this answer, and every later request carries it
// (two first requests at once would each be given a different one).
await showWho();
const pending = pendingContinuation(state.who);
if (pending) state.back.push(pending);
showNext().catch(() => {});
