// A small Markdown subset rendered into DOM nodes: headings (#, ##, ###), paragraphs, - / * / 1. lists, ``` code
// blocks, **bold**, *italic* / _italic_, `code` and [links](https://...). The text is untrusted (the admin writes it,
// but a page must never run what a text says): every piece of it becomes a text node or the content of an element
// made here, never markup, so <script>, <img onerror> and the like show as the characters they are. Links keep only
// http, https and mailto targets.

const SAFE_URL = /^(https?:|mailto:)/i;

/** Renders text (format "text": paragraphs only; "markdown": the subset above) into a DocumentFragment. */
export function renderGuidelines(body, format = 'markdown') {
  const out = document.createDocumentFragment();
  const lines = String(body ?? '').replace(/\r\n?/g, '\n').split('\n');
  if (format !== 'markdown') {
    for (const para of String(body ?? '').replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
      if (!para.trim()) continue;
      const p = document.createElement('p');
      p.textContent = para;
      out.append(p);
    }
    return out;
  }
  let para = [];
  let list = null;
  const flushPara = () => {
    if (para.length) {
      const p = document.createElement('p');
      inline(p, para.join(' '));
      out.append(p);
      para = [];
    }
  };
  const flushList = () => {
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      flushPara();
      flushList();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      const pre = document.createElement('pre');
      const c = document.createElement('code');
      c.textContent = code.join('\n');
      pre.append(c);
      out.append(pre);
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      flushPara();
      flushList();
      const h = document.createElement(`h${heading[1].length + 2}`); // under the page's own h1/h2
      inline(h, heading[2]);
      out.append(h);
    } else if (bullet || numbered) {
      flushPara();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = document.createElement(tag);
        out.append(list);
      }
      const li = document.createElement('li');
      inline(li, (bullet ?? numbered)[1]);
      list.append(li);
    } else if (!line.trim()) {
      flushPara();
      flushList();
    } else {
      flushList();
      para.push(line.trim());
    }
  }
  flushPara();
  return out;
}

// Inline spans, tried in this order at each position; the first that matches wins.
const SPANS = [
  { re: /^`([^`]+)`/, make: (m) => el('code', m[1]) },
  { re: /^\*\*(.+?)\*\*/, make: (m) => el('strong', m[1], true) },
  { re: /^\*(.+?)\*/, make: (m) => el('em', m[1], true) },
  { re: /^_(.+?)_/, make: (m) => el('em', m[1], true) },
  { re: /^\[([^\]]+)\]\(([^)\s]+)\)/, make: (m) => link(m[1], m[2]) },
];

/** Appends text with inline spans to parent, as nodes. */
function inline(parent, text) {
  let plain = '';
  for (let i = 0; i < text.length; ) {
    let matched = null;
    if ('`*_['.includes(text[i])) {
      for (const span of SPANS) {
        const m = span.re.exec(text.slice(i));
        if (m) {
          matched = { node: span.make(m), length: m[0].length };
          break;
        }
      }
    }
    if (matched) {
      if (plain) parent.append(document.createTextNode(plain));
      plain = '';
      parent.append(matched.node);
      i += matched.length;
    } else {
      plain += text[i];
      i++;
    }
  }
  if (plain) parent.append(document.createTextNode(plain));
}

function el(tag, text, nested = false) {
  const e = document.createElement(tag);
  if (nested) inline(e, text);
  else e.textContent = text;
  return e;
}

function link(text, href) {
  if (!SAFE_URL.test(href)) return document.createTextNode(`${text} (${href})`);
  const a = document.createElement('a');
  a.href = href;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  a.textContent = text;
  return a;
}
