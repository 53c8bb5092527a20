// Multi-turn on the annotator page: the earlier turns of a conversation above the pair, and after an A or B vote the
// offer to continue it (the response preferred becomes the assistant's turn, the person writes the next user
// message). The server continues only with a chat template; /api/stats says whether it has one. Turns are model and
// user text: written with textContent only.
import { call } from './api.js';

const $ = (id) => document.getElementById(id);
const historyEl = $('history');
const turnsEl = $('history-turns');
const section = $('continue');
const fromEl = $('continue-from');
const form = $('continue-form');
const messageEl = $('continue-message');
const unavailable = $('continue-unavailable');

const ROLES = { user: 'User', assistant: 'Assistant', system: 'System' };

/** The conversation a pair continues: its messages when it has any, else its text prompt as one user turn. */
export function conversationOf(pair) {
  return pair.messages?.length ? pair.messages : [{ role: 'user', content: pair.prompt ?? '' }];
}

/**
 * Shows the turns before a pair's last user message above it and returns that message (the pair's prompt); hides
 * the history and returns null when the pair is a single prompt.
 */
export function showHistory(pair) {
  const m = pair.messages;
  turnsEl.replaceChildren();
  if (!m || m.length < 2 || m.at(-1).role !== 'user') {
    historyEl.hidden = true;
    return null;
  }
  for (const turn of m.slice(0, -1)) {
    const li = document.createElement('li');
    li.className = `turn ${turn.role === 'assistant' ? 'assistant' : 'user'}`;
    const role = document.createElement('span');
    role.className = 'role';
    role.textContent = ROLES[turn.role] ?? String(turn.role);
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = String(turn.content ?? '');
    li.append(role, text);
    turnsEl.append(li);
  }
  historyEl.hidden = false;
  return String(m.at(-1).content ?? '');
}

let template = null; // Promise<boolean|null>: whether the server has a chat template (null: could not tell)
let offered = null; // {pair, choice} the box continues from

function hasTemplate(headers) {
  template ??= call('/api/stats', { headers }).then(({ json }) => json?.chat_template === true).catch(() => {
    template = null; // ask again next time
    return null;
  });
  return template;
}

/**
 * After a vote: with A or B, the box to continue from it (or why it is not offered: no chat template); with a tie or
 * both bad, that continuing needs a preferred response.
 */
export async function offerContinue(pair, choice, headers) {
  offered = null;
  section.hidden = true;
  const preferred = choice === 'a' || choice === 'b';
  const available = preferred ? await hasTemplate(headers) : null;
  if (preferred && available === null) return;
  form.hidden = !(preferred && available);
  unavailable.hidden = !form.hidden;
  if (!preferred) {
    unavailable.textContent = 'To continue a conversation, vote A or B: the response you prefer becomes the '
      + "assistant's turn.";
  } else if (!available) {
    unavailable.textContent = 'Continuing the conversation is not offered: this model has no chat template to '
      + 'write earlier turns in. The admin can start the server with --chat-template FILE to give it one.';
  } else {
    offered = { pair, choice };
    fromEl.textContent = `Response ${choice.toUpperCase()}, which you preferred, becomes the assistant's turn; `
      + 'write the next user message and the model answers it twice.';
  }
  section.hidden = false;
}

/** A vote on this pair was withdrawn: nothing to continue from any more. */
export function withdrawn(pairId) {
  if (!offered || offered.pair.pair_id === pairId) {
    offered = null;
    section.hidden = true;
  }
}

/**
 * Calls start({pair_id, message}, messages) when the person sends the next message, with the conversation as it
 * will be (for the page to show while the pair streams); start resolves to whether the continuation came back.
 */
export function onContinue(start) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const message = messageEl.value.trim();
    const from = offered;
    if (!message || !from) return;
    const chosen = from.pair[from.choice]?.text ?? '';
    const messages = [...conversationOf(from.pair), { role: 'assistant', content: chosen },
      { role: 'user', content: message }];
    section.hidden = true;
    if (await start({ pair_id: from.pair.pair_id, message }, messages)) {
      messageEl.value = '';
      offered = null;
    } else {
      section.hidden = false; // the reason is on the page; the message is still there to send again
    }
  });
  enterSends(messageEl, form);
}

// The continuation on screen, kept for this tab until it is voted on or skipped: a reload shows it again (it stays
// leased to this person for lease_seconds) instead of leaving the conversation with nobody.
const PENDING = 'pairwise.continuation';

export function rememberContinuation(pair, who) {
  sessionStorage.setItem(PENDING, JSON.stringify({ who, pair }));
}

function readPending() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  } catch {
    return null;
  }
}

/** The continuation this tab showed to this person and they have not judged yet, or null. */
export function pendingContinuation(who) {
  const p = readPending();
  return p?.who === who && p.pair?.pair_id ? p.pair : null;
}

/** The person judged (or skipped) this pair: a pending continuation of that id is done. */
export function judged(pairId) {
  if (readPending()?.pair?.pair_id === pairId) sessionStorage.removeItem(PENDING);
}

/** Enter sends the form, Shift+Enter makes a new line, as in chat boxes. */
export function enterSends(textarea, target) {
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      target.requestSubmit();
    }
  });
}
