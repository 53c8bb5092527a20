// The dashboard's "Annotators' quality" panel (viewers and the admin): per annotator their votes, pace and agreement
// with the majority of the others, with its 95% Wilson interval; Fleiss' kappa and Krippendorff's alpha over the
// pairs with two or more votes; Cohen's kappa for each pair of annotators sharing enough pairs. Names are written as
// text only. It reads with the token entered on the dashboard, or the signed-in account's cookie.
import { call, describe } from './api.js';

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

function annotatorRow(a) {
  const tr = document.createElement('tr');
  tr.dataset.annotator = a.annotator;
  const g = a.agreement;
  const rate = g.rate;
  tr.append(cell(a.annotator), cell(String(a.votes), 'num'), cell(fixed(a.votes_per_hour, 1), 'num'),
    cell(fixed(a.median_seconds_between_votes, 1), 'num'),
    cell(rate ? `${percent(rate.value)} (${g.agreed}/${g.compared})` : '–', 'num'),
    cell(rate ? `${percent(rate.low)}–${percent(rate.high)}` : '–', 'num'), cell(String(g.tied), 'num'));
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
