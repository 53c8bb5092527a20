// The dashboard's leaderboard panel (viewers and the admin): Bradley-Terry ratings of the policy versions from blind
// battles, with their bootstrap 95% intervals, drawn as SVG; the win rate of each version against the reference v0
// (Wilson 95%) in the order versions were served; the KL guard's measurements; the guard's state (publishing held,
// and why). Plain SVG, no library. It reads with the token entered on the dashboard, or the signed-in account, and is
// shown while the quality panel is (the same readers).
import { call, describe } from './api.js';

const $ = (id) => document.getElementById(id);
const panel = $('leaderboard');
const tokenEl = $('admin-token');
const statusEl = $('leaderboard-status');
const REFRESH_MS = 15_000;
const SVG = 'http://www.w3.org/2000/svg';
const W = 520, H = 220, PAD = { l: 52, r: 12, t: 12, b: 30 };

function headers() {
  const t = tokenEl.value.trim();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** An SVG chart frame: x over the given labels (evenly spaced), y over [lo, hi] with a few ticks. */
function frame(svg, labels, lo, hi, fmt) {
  const x = (i) => PAD.l + (labels.length === 1 ? (W - PAD.l - PAD.r) / 2
    : i * (W - PAD.l - PAD.r) / (labels.length - 1));
  const y = (v) => PAD.t + (hi - v) * (H - PAD.t - PAD.b) / (hi - lo || 1);
  for (let k = 0; k <= 4; k++) {
    const v = lo + k * (hi - lo) / 4;
    svg.append(el('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
  }
  labels.forEach((l, i) => svg.append(el('text', { x: x(i), y: H - 10, 'text-anchor': 'middle', class: 'tick' }, l)));
  return { x, y };
}

function chart(id, label) {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
  $(id).replaceChildren(svg);
  return svg;
}

/** Strength per version: a dot at the rating and a bar over its 95% interval, in version order. */
export function drawStrengths(standings) {
  const svg = chart('leaderboard-strengths', 'Rating per policy version with 95% intervals');
  const rows = [...standings].sort((a, b) => a.policy_version - b.policy_version);
  if (rows.length === 0) return svg;
  let lo = Math.min(...rows.map((s) => s.low)), hi = Math.max(...rows.map((s) => s.high));
  if (hi - lo < 50) { lo -= 25; hi += 25; }
  const { x, y } = frame(svg, rows.map((s) => `v${s.policy_version}`), lo, hi, (v) => v.toFixed(0));
  rows.forEach((s, i) => {
    const g = el('g', { class: 'version', 'data-version': s.policy_version });
    g.append(el('line', { x1: x(i), x2: x(i), y1: y(s.low), y2: y(s.high), class: 'interval' }));
    g.append(el('circle', { cx: x(i), cy: y(s.rating), r: 4, class: 'point' }));
    g.append(el('title', {}, `v${s.policy_version}: ${s.rating.toFixed(0)} [${s.low.toFixed(0)}, `
      + `${s.high.toFixed(0)}], ${s.battles} battles`));
    svg.append(g);
  });
  return svg;
}

/** A line over versions with a band (low..high) and a dashed reference level. */
function drawLine(id, label, points, level, fmt, lo, hi) {
  const svg = chart(id, label);
  if (points.length === 0) return svg;
  const { x, y } = frame(svg, points.map((p) => `v${p.version}`), lo, hi, fmt);
  if (level !== null) {
    svg.append(el('line', { x1: PAD.l, x2: W - PAD.r, y1: y(level), y2: y(level), class: 'level' }));
  }
  const band = points.filter((p) => p.low !== null && p.high !== null);
  if (band.length > 0) {
    const upper = band.map((p) => `${x(points.indexOf(p))},${y(p.high)}`);
    const lower = band.map((p) => `${x(points.indexOf(p))},${y(p.low)}`).reverse();
    svg.append(el('polygon', { points: [...upper, ...lower].join(' '), class: 'band' }));
  }
  const line = points.filter((p) => p.value !== null).map((p) => `${x(points.indexOf(p))},${y(p.value)}`);
  svg.append(el('polyline', { points: line.join(' '), class: 'line' }));
  points.forEach((p, i) => {
    if (p.value !== null) svg.append(el('circle', { cx: x(i), cy: y(p.value), r: 3, class: 'point' }));
  });
  return svg;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render(b) {
  const rows = b.standings.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.version = String(s.policy_version);
    tr.append(cell(`v${s.policy_version}${s.policy_version === b.served_version ? ' (served)' : ''}`),
      cell(s.pinned.join(', ')), cell(s.rating.toFixed(0), 'num'),
      cell(`${s.low.toFixed(0)}–${s.high.toFixed(0)}`, 'num'), cell(String(s.battles), 'num'));
    return tr;
  });
  $('leaderboard-rows').replaceChildren(...rows);
  drawStrengths(b.standings);
  drawLine('leaderboard-vs-reference', 'Win rate against v0 per version, 95% interval',
    b.vs_reference.map((p) => ({ version: p.policy_version, value: p.win_rate, low: p.low, high: p.high })),
    0.5, (v) => v.toFixed(2), 0, 1);
  const kl = b.kl.map((p) => ({ version: p.policy_version, value: p.kl,
    low: p.standard_error === null ? null : p.kl - 2 * p.standard_error,
    high: p.standard_error === null ? null : p.kl + 2 * p.standard_error }));
  const maxKl = b.guard && b.guard.max_kl > 0 ? b.guard.max_kl : null;
  const top = Math.max(maxKl ?? 0, ...kl.map((p) => p.high ?? p.value), 0.1);
  drawLine('leaderboard-kl', 'KL to the reference per served version', kl, maxKl, (v) => v.toFixed(2),
    Math.min(0, ...kl.map((p) => p.low ?? p.value)), top);
  const g = b.guard ?? {};
  const guardEl = $('leaderboard-guard');
  guardEl.textContent = g.publishing === 'held' ? `Publishing held: ${g.reason}. Serving v${g.serving}.`
    : `Publishing on. Serving v${b.served_version}.`;
  guardEl.className = g.publishing === 'held' ? 'status err' : 'status';
  $('leaderboard-votes').textContent = String(b.counted_votes);
  statusEl.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  statusEl.className = 'status';
}

async function refresh() {
  let b;
  try {
    b = (await call('/api/leaderboard', { headers: headers() })).json;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      panel.hidden = true; // an annotator, or nobody yet: which version is which is not for annotators
      return;
    }
    statusEl.textContent = `Could not read the leaderboard: ${describe(e)}`;
    statusEl.className = 'status err';
    return;
  }
  panel.hidden = false;
  render(b);
}

// Who may read the leaderboard is who may read the quality panel (viewers and the admin): follow that panel rather
// than asking with every token typed, since each wrong token counts against the server's failed-login limit.
const quality = $('quality');
function follow() {
  if (quality.hidden) panel.hidden = true;
  else refresh();
}
new MutationObserver(follow).observe(quality, { attributes: true, attributeFilter: ['hidden'] });
$('leaderboard-refresh').addEventListener('click', refresh);
setInterval(() => {
  if (!panel.hidden && document.visibilityState === 'visible') refresh();
}, REFRESH_MS);
if (!quality.hidden) refresh();
