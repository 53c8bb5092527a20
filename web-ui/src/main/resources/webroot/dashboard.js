// The live dashboard: training metrics (TRL names) and the vote stream. History comes from the REST API once; after
// that everything arrives over /api/events. Text from the store (prompts, responses, names) is written as text only.
// Every read carries the viewer or admin token when one is entered: with it the dashboard shows everyone's votes;
// without, what the server shows this browser (its own votes; in token mode nothing).
import { ApiError, backoffMs, describe, errorOf, readSse, requestJson, sleep } from './api.js';

const $ = (id) => document.getElementById(id);
const MAX_POINTS = 5000;
const MAX_ROWS = 50;
const TOKEN_KEY = 'pairwise.adminToken';
const tokenEl = $('admin-token');

function authHeaders() {
  const t = tokenEl.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// ---- charts ----

const palette = ['#2456c7', '#d9480f', '#2b8a3e', '#862e9c'];
const STEP_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/**
 * Tick labels with as many decimals as the tick spacing needs, and never "-0". uPlot's default keeps three decimals,
 * so a loss moving in its sixth digit had every tick read "0.693", and margins near zero read "0, -0, -0".
 */
export function tickLabels(splits, incr) {
  if (!(incr > 0)) return splits.map((v) => (v === null ? '' : legendValue(v)));
  const close = (v, d) => Math.abs(Number(v.toFixed(d)) - v) <= Math.abs(incr) * 1e-3;
  let d = 0;
  while (d < 20 && !splits.every((v) => v === null || close(v, d))) d++;
  return splits.map((v) => (v === null ? '' : v.toFixed(d).replace(/^-(0(\.0*)?)$/, '$1')));
}

/** A metric as the legend shows it: six significant digits, plain zero, "–" when there is none. */
export function legendValue(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v === 0 ? '0' : String(Number(v.toPrecision(6)));
}

function lastValue(col) {
  for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null && col[i] !== undefined) return col[i];
  return null;
}

/** One uPlot chart inside a <figure>; x is the training step, or unix seconds for time charts. */
class Chart {
  constructor(figureId, labels, { time = false, bars = false, yRange } = {}) {
    this.fig = $(figureId);
    this.host = this.fig.querySelector('.plot');
    this.labels = labels;
    // Off the plot the legend shows the newest values (uPlot's default is "--" until the cursor is over a point).
    const shown = (format) => (u, v, sidx, idx) => format(idx === null ? lastValue(u.data[sidx]) : v);
    const minute = (t) => (t === null ? '–' : new Date(t * 1000).toLocaleTimeString([], { timeStyle: 'short' }));
    const series = [{ label: time ? 'time' : 'step', value: shown(time ? minute : legendValue) }];
    labels.forEach((label, i) => {
      const s = { label, stroke: palette[i], width: 2, points: { show: true, size: 4 }, value: shown(legendValue) };
      if (bars && uPlot.paths?.bars) {
        s.paths = uPlot.paths.bars({ size: [0.8, 40] });
        s.fill = palette[i] + '66';
        s.points = { show: false };
      }
      series.push(s);
    });
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 200,
        // Half a minute of margin so the newest minute's bar is not cut by the plot's edge.
        scales: {
          x: time ? { time, range: (u, min, max) => [min - 30, max + 30] } : { time },
          ...(yRange ? { y: { range: yRange } } : {}),
        },
        // Steps are whole numbers: no ticks at 0.5. The y labels are as wide as their digits need.
        axes: [
          time ? {} : { incrs: STEP_TICKS },
          {
            values: (u, splits, axisIdx, space, incr) => {
              const ticks = tickLabels(splits, incr);
              // The labels are drawn on a canvas; this lets a reader (and the browser tests) see them as text.
              this.fig.dataset.yTicks = JSON.stringify(ticks);
              return ticks;
            },
            size: (u, values) => Math.max(48, 16 + 7 * Math.max(0, ...(values ?? []).map((v) => v.length))),
          },
        ],
        series,
        legend: { live: true },
      },
      [[], ...labels.map(() => [])],
      this.host,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: 200 })).observe(this.host);
  }

  width() {
    return Math.max(240, this.host.clientWidth || 400);
  }

  /** rows: [x, y1, y2, ...] sorted by x. */
  set(rows) {
    const cols = [[], ...this.labels.map(() => [])];
    for (const r of rows.slice(-MAX_POINTS)) r.forEach((v, i) => cols[i].push(v ?? null));
    this.plot.setData(cols);
    // Lets a reader (and the browser tests) see how many points are drawn without reaching into uPlot.
    this.fig.dataset.points = String(cols[0].length);
    const last = cols[1][cols[1].length - 1];
    this.fig.dataset.last = last === undefined || last === null ? '' : String(last);
  }
}

const charts = {
  loss: new Chart('chart-loss', ['loss']),
  accuracies: new Chart('chart-accuracies', ['rewards/accuracies'], { yRange: [0, 1] }),
  margins: new Chart('chart-margins', ['rewards/margins']),
  rewards: new Chart('chart-rewards', ['rewards/chosen', 'rewards/rejected']),
  votes: new Chart('chart-votes', ['votes'], { time: true, bars: true }),
  policy: new Chart('chart-policy', ['policy version', 'off_policy_age']),
};

// ---- training metrics ----

/** step -> the metrics of that step; a Map so the history fetch and live events can overlap without duplicates. */
const steps = new Map();
let redrawQueued = false;

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function addStep(m) {
  const step = num(m?.step);
  if (step === null) return;
  steps.set(step, { ...steps.get(step), ...m });
  queueRedraw();
}

function queueRedraw() {
  if (redrawQueued) return;
  redrawQueued = true;
  // Many events can arrive in one burst (history replay); draw once per frame.
  requestAnimationFrame(() => {
    redrawQueued = false;
    redraw();
  });
}

function redraw() {
  const rows = [...steps.values()].sort((x, y) => x.step - y.step);
  const col = (...keys) => rows.map((r) => [r.step, ...keys.map((k) => num(r[k]))]);
  charts.loss.set(col('loss'));
  charts.accuracies.set(col('rewards/accuracies'));
  charts.margins.set(col('rewards/margins'));
  charts.rewards.set(col('rewards/chosen', 'rewards/rejected'));
  charts.policy.set(col('policy_version', 'off_policy_age'));
  showTrainingHint();
  if (rows.length) {
    const last = rows[rows.length - 1];
    if (last.step > Number($('step').textContent)) $('step').textContent = String(last.step);
    if (num(last.policy_version) !== null) setPolicyVersion(last.policy_version);
  }
  drawVotesPerMinute();
}

function setPolicyVersion(v) {
  const el = $('policy-version');
  if (Number(el.textContent) < v || el.textContent === '') el.textContent = String(v);
}

// ---- votes ----

/**
 * minute (unix seconds, floored) -> votes in it. Seeded from the newest stored votes, then counted from the live
 * stream; vote ids already counted are remembered so the two sources never count one vote twice.
 */
const perMinute = new Map();
const countedVotes = new Set();
const openedMinute = Math.floor(Date.now() / 60000) * 60;
const HISTORY_VOTES = 100;

function countVote(v) {
  if (v.id === undefined || countedVotes.has(v.id)) return;
  countedVotes.add(v.id);
  const minute = Math.floor((num(v.created_at) ?? Date.now()) / 60000) * 60;
  perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
}

function drawVotesPerMinute() {
  const now = Math.floor(Date.now() / 60000) * 60;
  // At least ten minutes wide: a single point would leave uPlot's time axis without a range.
  const first = Math.min(openedMinute, now - 9 * 60, ...perMinute.keys());
  const rows = [];
  // Minutes without votes are zeros, not gaps: a quiet stream is a fact worth seeing.
  for (let t = Math.max(first, now - 120 * 60); t <= now; t += 60) rows.push([t, perMinute.get(t) ?? 0]);
  charts.votes.set(rows);
}

const choiceLabel = { a: 'A', b: 'B', tie: 'Tie', both_bad: 'Both bad' };

function cell(text, cls) {
  const td = document.createElement('td');
  const s = text === undefined || text === null ? '' : String(text);
  // textContent only: prompts, responses and names are whatever people and the model wrote.
  td.textContent = s.length > 240 ? `${s.slice(0, 240)}…` : s;
  if (s.length > 240) td.title = s;
  if (cls) td.className = cls;
  return td;
}

function voteRow(v) {
  const tr = document.createElement('tr');
  const pair = v.pair ?? {};
  tr.append(
    cell(new Date(num(v.created_at) ?? Date.now()).toLocaleTimeString()),
    cell(v.annotator ?? '—'),
    cell(choiceLabel[v.choice] ?? v.choice, 'choice'),
    cell(pair.prompt, 'text'),
    cell(pair.a?.text, 'text'),
    cell(pair.b?.text, 'text'),
    cell(num(pair.policy_version) !== null ? `v${pair.policy_version}` : ''),
  );
  return tr;
}

/** The newest votes joined with their pairs (GET /api/votes/latest); also seeds the votes-per-minute history. */
async function loadLatest(limit = 20) {
  try {
    const { votes = [] } = await requestJson(`/api/votes/latest?limit=${limit}`, { headers: authHeaders() });
    $('latest').replaceChildren(...votes.slice(0, MAX_ROWS).map(voteRow));
    return votes;
  } catch (e) {
    console.warn('latest votes', describe(e));
    return [];
  }
}

async function seedVoteHistory() {
  const votes = await loadLatest(HISTORY_VOTES);
  // With a full page of history the oldest minute may hold more votes than were returned: leave it out rather than
  // draw it too low.
  const cut = votes.length === HISTORY_VOTES ? Math.floor(num(votes.at(-1).created_at) / 60000) * 60 : -Infinity;
  for (const v of votes) {
    if (Math.floor((num(v.created_at) ?? 0) / 60000) * 60 > cut) countVote(v);
    else countedVotes.add(v.id);
  }
  queueRedraw();
}

// ---- stats ----

/** What the trainer said last, and how many A/B votes wait for it: what the hint over empty charts is made of. */
const trainer = { status: null, untrained: null };

function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** Until the first step the charts are empty; this says why, and what starts training. */
function showTrainingHint() {
  const el = $('training-hint');
  const t = trainer.status;
  if (steps.size > 0 || !t || num(t.steps) > 0) {
    el.hidden = true;
    return;
  }
  let text;
  if (t.state === 'failed' || t.state === 'stopped') {
    text = `No training step yet, and the trainer has ${t.state}${t.error ? ` (${t.error})` : ''}.`;
  } else if (t.paused) {
    text = 'No training step yet: the trainer is paused.';
  } else {
    const n = num(t.votes_per_step) ?? 1;
    const waiting = num(trainer.untrained);
    const windowMs = num(t.batch_window_ms);
    const windowPart = windowMs === null ? ''
      : `, or ${duration(windowMs)} after the first A/B vote if fewer arrive (the batch window)`;
    text = `No training step yet. Training starts once ${n} A/B ${n === 1 ? 'vote is' : 'votes are'} in`
      + `${waiting === null ? '' : ` (${waiting} so far)`}${windowPart}. Ties and both-bad votes are not trained on.`;
  }
  el.textContent = text;
  el.hidden = false;
}

/** Without a chat template the conversational export could not be trained on this model: offer it only with one. */
function showChatTemplate(has) {
  const b = $('export-conversational');
  const note = $('export-note');
  b.disabled = !has;
  b.dataset.off = String(!has);
  note.hidden = has;
  note.textContent = has ? '' : 'Conversational export is off: this model has no chat template, so TRL (and pairwise '
    + 'train) could not render its records. Export standard, or serve with --chat-template FILE.';
}

function showTrainer(t) {
  if (!t || typeof t !== 'object') return;
  trainer.status = t;
  showTrainingHint();
  $('trainer-state').textContent = t.error ? `${t.state} (${t.error})` : t.state ?? '–';
  if (num(t.steps) !== null && t.steps > Number($('step').textContent)) $('step').textContent = String(t.steps);
  if (num(t.policy_version) !== null) setPolicyVersion(t.policy_version);
}

function applyStats(s) {
  $('votes-total').textContent = String(s.votes ?? 0);
  const c = s.votes_by_choice ?? {};
  $('votes-by-choice').textContent = `${c.a ?? 0} / ${c.b ?? 0} / ${c.tie ?? 0} / ${c.both_bad ?? 0}`;
  if (num(s.policy_version) !== null) setPolicyVersion(s.policy_version);
  if (s.pool) $('pool-size').textContent = `${s.pool.ready} / ${s.pool.size}`;
  if (num(s.untrained_ab_votes) !== null) trainer.untrained = s.untrained_ab_votes;
  if (typeof s.chat_template === 'boolean') showChatTemplate(s.chat_template);
  showTrainer(s.trainer);
}

async function loadStats() {
  try {
    applyStats(await requestJson('/api/stats', { headers: authHeaders() }));
  } catch (e) {
    $('trainer-state').textContent = 'unavailable';
    console.warn('stats', describe(e));
  }
}

async function loadMetrics() {
  try {
    const body = await requestJson('/api/training/metrics?since=0', { headers: authHeaders() });
    for (const m of body.steps ?? []) addStep(m);
    showTrainer(body.trainer);
  } catch (e) {
    console.warn('metrics', describe(e));
  }
}

/** Runs fn at most once per interval however many events ask for it, and always once after the last ask. */
function debounced(fn, ms) {
  let timer = null;
  return () => {
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    }
  };
}

const refreshAfterVote = debounced(() => {
  loadStats();
  loadLatest();
}, 500);

// ---- live events ----

function parse(ev) {
  try {
    return JSON.parse(ev.data);
  } catch {
    return null;
  }
}

// Event names and payloads as the server's EventStream sends them.
const handlers = {
  vote: (v) => {
    countVote(v);
    queueRedraw();
    refreshAfterVote();
  },
  step: (m) => addStep(m),
  policy: (p) => setPolicyVersion(p.policy_version),
  trainer: (t) => showTrainer(t),
};

/** The open event stream's controller: aborting it reconnects at once (with a new token, say). */
let stream = null;

/**
 * Reads /api/events with fetch: EventSource cannot send the token. Reconnects by itself with backoff; the indicator
 * only tells the reader that updates are paused meanwhile.
 */
async function connect() {
  const live = $('live');
  let opened = false;
  for (let attempt = 0; ; attempt++) {
    const ctrl = new AbortController();
    stream = ctrl;
    try {
      const res = await fetch('/api/events', { headers: { Accept: 'text/event-stream', ...authHeaders() },
        signal: ctrl.signal });
      if (!res.ok) throw await errorOf(res);
      live.textContent = 'live';
      live.className = 'live on';
      // After a reconnect, what happened while the stream was down is fetched again; the Map drops known steps.
      if (opened) reloadAll();
      opened = true;
      attempt = 0;
      await readSse(res, ({ event, data }) => {
        if (handlers[event] && data && typeof data === 'object') handlers[event](data);
      });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        live.textContent = 'needs a viewer or admin token';
        live.className = 'live off';
        await new Promise((resolve) => tokenEl.addEventListener('change', resolve, { once: true }));
        continue;
      }
    }
    if (ctrl.signal.aborted) continue;
    live.textContent = 'reconnecting…';
    live.className = 'live off';
    await sleep(backoffMs(attempt));
  }
}

function reloadAll() {
  loadMetrics();
  loadStats();
  seedVoteHistory(); // the newest votes, and their minutes counted (once) for the votes chart
  showScope();
}

/** Says whose votes the table shows: the reader's own, or everyone's. */
async function showScope() {
  const el = $('latest-scope');
  try {
    const me = await requestJson('/api/me', { headers: authHeaders() });
    el.textContent = me.role === 'annotator' ? `(yours: ${me.annotator}; a viewer or admin token shows everyone's)`
      : `(everyone's; you are ${me.role} ${me.annotator})`;
  } catch {
    el.textContent = '(enter a viewer or admin token to see them)';
  }
}

// ---- admin downloads ----

const adminStatus = $('admin-status');
tokenEl.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
tokenEl.addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, tokenEl.value.trim()));
// A new token: read everything again with it, and reopen the stream.
tokenEl.addEventListener('change', () => {
  stream?.abort();
  reloadAll();
});

async function download(url, fallbackName, button) {
  const token = tokenEl.value.trim();
  if (!token) {
    adminStatus.textContent = 'Enter the admin token first (pairwise serve prints it at start-up).';
    adminStatus.className = 'status warn';
    tokenEl.focus();
    return;
  }
  button.disabled = true;
  adminStatus.textContent = 'Downloading…';
  adminStatus.className = 'status';
  try {
    // A plain link cannot carry the Authorization header, hence fetch + Blob.
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) {
      const err = await errorOf(res);
      throw new Error(res.status === 401 || res.status === 403 ? 'the admin token was not accepted' : describe(err));
    }
    const blob = await res.blob();
    const disposition = res.headers.get('Content-Disposition') ?? '';
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    adminStatus.textContent = `Saved ${name} (${blob.size.toLocaleString()} bytes).`;
    adminStatus.className = 'status ok';
  } catch (e) {
    adminStatus.textContent = `Download failed: ${e.message}`;
    adminStatus.className = 'status err';
  } finally {
    button.disabled = button.dataset.off === 'true';
  }
}

for (const id of ['export-standard', 'export-conversational']) {
  const b = $(id);
  const f = b.dataset.format;
  b.addEventListener('click', () => download(`/api/export?format=${f}`, `pairwise-${f}.jsonl`, b));
}
$('export-adapter').addEventListener('click', (e) => download('/api/adapter', 'pairwise-adapter.zip', e.currentTarget));
$('admin-form').addEventListener('submit', (e) => e.preventDefault());

// ---- start ----

// This browser's identity first (open mode sets its cookie on that answer), then everything else with it.
await showScope();
connect();
await Promise.all([loadStats(), loadMetrics(), seedVoteHistory()]);
// Pool size and trainer state change without events of their own; a slow poll keeps the cards honest.
setInterval(loadStats, 15000);
setInterval(queueRedraw, 30000);
