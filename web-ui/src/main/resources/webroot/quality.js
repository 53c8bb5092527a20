// The dashboard's "Annotators' quality" panel (viewers and the admin): per annotator their votes, pace, time from
// lease to vote and agreement with the majority of the others, with its 95% Wilson interval; their gold accuracy,
// skips by reason and quality-control flag (the admin flags and un-flags here); Fleiss' kappa and Krippendorff's
// alpha over the pairs with two or more votes; Cohen's kappa for each pair of annotators sharing enough pairs; the
// latest pairs, each opening the pair view. Names are written as text only. It reads with the token entered on the
// dashboard, or the signed-in account's cookie.
import { call, describe, setCsrfToken } from './api.js';
import { showPair } from './pairview.js';

const $ = (id) => document.getElementById(id);
const panel = $('quality');
const tokenEl = $('admin-token');
const statusEl = $('quality-status');
const minSharedEl = $('quality-min-shared');
const REFRESH_MS = 30_000;

function headers() {
  const t = tokenEl.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** A statistic the server could not define (no shared pair, no variation) comes as null: a dash, not a number. */
export function fixed(x, digits) {
  return x === null || x === undefined ? '–' : x.toFixed(digits);
}

export function percent(x) {
  return x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

/** A table row for one annotator, found by its data-annotator. */
function annotatorTr(a) {
  const tr = document.createElement('tr');
  tr.dataset.annotator = a.annotator;
  return tr;
}

function annotatorRow(a) {
  const tr = annotatorTr(a);
  const g = a.agreement;
  const rate = g.rate;
  tr.append(cell(a.annotator), cell(String(a.votes), 'num'), cell(fixed(a.votes_per_hour, 1), 'num'),
    cell(fixed(a.median_seconds_lease_to_vote, 1), 'num'),
    cell(rate ? `${percent(rate.value)} (${g.agreed}/${g.compared})` : '–', 'num'),
    cell(rate ? `${percent(rate.low)}–${percent(rate.high)}` : '–', 'num'), cell(String(g.tied), 'num'));
  return tr;
}

let admin = false;

function flagButton(a) {
  const flagged = a.flag?.flagged === true;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'secondary';
  b.textContent = flagged ? 'Un-flag' : 'Flag';
  b.addEventListener('click', async () => {
    const reason = $('quality-flag-reason').value.trim()
      || (flagged ? 'un-flagged by hand on the dashboard' : 'flagged by hand on the dashboard');
    try {
      await call('/api/quality/flags', { method: 'POST', headers: headers(),
        body: { annotator: a.annotator, flagged: !flagged, reason } });
    } catch (e) {
      statusEl.textContent = `Could not change ${a.annotator}'s flag: ${describe(e)}`;
      statusEl.className = 'status err';
      return;
    }
    await refresh();
  });
  return b;
}

/** Gold accuracy, skips by reason and flag state (flagged, cleared by a person, or never set). */
function controlRow(a) {
  const tr = annotatorTr(a);
  const g = a.gold;
  const f = a.flag;
  if (f?.flagged) tr.className = 'flagged';
  const state = !f ? '–' : f.flagged ? 'flagged' : 'cleared';
  tr.append(cell(a.annotator), cell(g.rate ? `${percent(g.rate.value)} (${g.correct}/${g.answered})` : '–', 'num'),
    cell(g.rate ? `${percent(g.rate.low)}–${percent(g.rate.high)}` : '–', 'num'),
    cell(String(a.skips.cant_judge), 'num'), cell(String(a.skips.harmful), 'num'),
    cell(String(a.skips.prompt_unclear), 'num'), cell(state), cell(f?.reason ?? '–'),
    cell(!f ? '–' : f.automatic ? 'auto' : `admin (${f.changed_by})`));
  if (admin) {
    const td = document.createElement('td');
    td.append(flagButton(a));
    tr.append(td);
  }
  return tr;
}

function ruleText(r) {
  const parts = [];
  if (r.min_gold_accuracy !== null) parts.push(`gold accuracy below ${percent(r.min_gold_accuracy)}`);
  if (r.min_agreement !== null) parts.push(`agreement with the majority below ${percent(r.min_agreement)}`);
  if (!parts.length) return 'No automatic flags (no threshold set); the admin flags by hand.';
  return `Flagged automatically when ${parts.join(' or ')} with 95% confidence (the interval's upper end under `
    + `it), after ${r.min_votes} votes; flagged annotators' votes ${r.exclude_flagged ? 'do not reach'
      : 'still reach'} the trainer. Only a person un-flags; after that only newer votes count.`;
}

function recentRow(p) {
  const tr = document.createElement('tr');
  tr.dataset.pair = p.pair_id;
  tr.tabIndex = 0;
  // A gold pair is for everyone (its k is a formality): its votes alone; others' votes of k.
  const prompt = p.prompt.length > 80 ? `${p.prompt.slice(0, 80)}…` : p.prompt;
  tr.append(cell(p.pair_id.slice(0, 8)), cell(p.kind), cell(prompt), cell(p.kind === 'gold' ? String(p.votes) : `${p.votes}/${p.votes_wanted}`, 'num'),
    cell(String(p.withdrawn), 'num'), cell(String(p.skips), 'num'), cell(String(p.comments), 'num'),
    cell(p.flagged_harmful ? 'yes' : '–'), cell(p.aggregate_outcome ?? '–'));
  const open = () => showPair(p.pair_id, headers());
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') open();
  });
  return tr;
}

function kappaRow(k) {
  const tr = document.createElement('tr');
  tr.dataset.pair = `${k.a} ${k.b}`;
  tr.append(cell(k.a), cell(k.b), cell(String(k.shared), 'num'), cell(percent(k.observed), 'num'),
    cell(fixed(k.kappa, 3), 'num'));
  return tr;
}

function render(q) {
  $('quality-fleiss').textContent = fixed(q.fleiss_kappa.kappa, 3);
  $('quality-alpha').textContent = fixed(q.krippendorff_alpha.alpha, 3);
  $('quality-shared').textContent = String(q.pairs_with_two_or_more_votes);
  $('quality-votes').textContent = String(q.votes);
  $('quality-annotators').replaceChildren(...q.annotators.map(annotatorRow));
  $('quality-pairs').replaceChildren(...q.cohen_kappa.pairs.map(kappaRow));
  $('quality-no-pairs').hidden = q.cohen_kappa.pairs.length > 0;
  for (const el of panel.querySelectorAll('.admin-only')) el.hidden = !admin;
  $('quality-control').replaceChildren(...q.annotators.map(controlRow));
  $('quality-rule').textContent = ruleText(q.flagging);
  statusEl.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  statusEl.className = 'status';
}

/** The shared pairs a kappa needs, as typed (a number from 1 up; anything else, the default 10). */
function minShared() {
  const n = Number.parseInt(minSharedEl.value, 10);
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 10;
}

async function refresh() {
  let q;
  try {
    q = (await call(`/api/quality?min_shared=${minShared()}`, { headers: headers() })).json;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      panel.hidden = true; // an annotator, or nobody yet: the per-annotator figures are not for this reader
      return;
    }
    statusEl.textContent = `Could not read the quality figures: ${describe(e)}`;
    statusEl.className = 'status err';
    return;
  }
  try {
    // Whether the flag buttons are for this reader; a signed-in admin's writes carry the session's CSRF token.
    const me = (await call('/api/me', { headers: headers() })).json;
    admin = me.role === 'admin';
    if (me.csrf_token) setCsrfToken(me.csrf_token);
    $('quality-recent').replaceChildren(...(await call('/api/quality/pairs?limit=20', { headers: headers() }))
      .json.pairs.map(recentRow));
  } catch (e) {
    statusEl.textContent = `Could not read the recent pairs: ${describe(e)}`;
    statusEl.className = 'status err';
  }
  panel.hidden = false;
  render(q);
}

$('quality-refresh').addEventListener('click', refresh);
tokenEl.addEventListener('change', refresh);
minSharedEl.addEventListener('change', refresh);
setInterval(() => {
  if (!panel.hidden && document.visibilityState === 'visible') refresh();
}, REFRESH_MS);
refresh();
