// The dashboard's pair view (viewers and the admin): one pair with every vote on it (withdrawn ones too, with the
// guideline version each was given under), its skips with their reasons, the comments on it, and what the trainer
// got from it. Everything people wrote is set as text only.
import { call, describe } from './api.js';

const $ = (id) => document.getElementById(id);
const view = $('pair-view');

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function row(...texts) {
  const tr = document.createElement('tr');
  tr.append(...texts.map((t) => cell(t)));
  return tr;
}

const time = (ms) => (ms ? new Date(ms).toLocaleString() : '–');
const text = (s) => (s === null || s === undefined || s === '' ? '–' : s);

/** What the pair's votes came to: the aggregated outcome, or the per-vote items the trainer got. */
export function outcome(p) {
  if (p.kind === 'gold') return `gold (right: ${p.gold_choice?.toUpperCase() ?? '–'}), never trained on`;
  const items = p.training_items;
  const trained = items.filter((t) => t.trained_at_version !== null).length;
  const label = p.aggregate_outcome ? `${p.aggregate_outcome}; ` : '';
  return `${label}${items.length} training item${items.length === 1 ? '' : 's'} (${trained} trained)`;
}

export async function showPair(pairId, headers) {
  let p;
  try {
    p = (await call(`/api/quality/pair?pair_id=${encodeURIComponent(pairId)}`, { headers })).json;
  } catch (e) {
    $('pair-view-id').textContent = `${pairId}: ${describe(e)}`;
    view.hidden = false;
    return;
  }
  $('pair-view-id').textContent = p.pair_id;
  $('pair-view-prompt').textContent = p.prompt;
  $('pair-view-a').textContent = p.a;
  $('pair-view-b').textContent = p.b;
  const wanted = p.kind === 'gold' ? '' : ` of ${p.votes_wanted}`;
  $('pair-view-kind').textContent = `${p.kind}, policy version ${p.policy_version}, ${p.votes}${wanted} votes`;
  $('pair-view-outcome').textContent = outcome(p);
  $('pair-view-votes').replaceChildren(...p.vote_list.map((v) => row(String(v.id), text(v.annotator), v.choice,
    time(v.created_at), text(v.comment), text(v.guideline_version), v.withdrawn ? 'withdrawn' : 'no',
    text(v.trained_at_version))));
  $('pair-view-skips').replaceChildren(...p.skip_list.map((k) => row(text(k.annotator), k.reason, text(k.comment),
    time(k.created_at))));
  $('pair-view-comments').replaceChildren(...p.comment_list.map((c) => row(text(c.annotator), c.comment,
    time(c.created_at))));
  view.hidden = false;
}

$('pair-view-close').addEventListener('click', () => {
  view.hidden = true;
});
