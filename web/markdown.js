// A small Markdown renderer for the tests' $SLIPWAY_SUMMARY: headings, paragraphs, lists,
// fenced code, block quotes, tables, rules; inline code, bold, italics and links. It builds DOM
// nodes and puts all text in through textContent, so raw HTML in a summary shows as text and
// nothing from a repository ever runs here. Links keep only http(s) and relative URLs; images
// become links, so the page fetches nothing (the server's report.html makes the same choices).
import { el } from './format.js';

export function renderMarkdown(source) {
  const root = el('div', { class: 'markdown' });
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) { i++; continue; }
    let match;
    if ((match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      root.append(inline(el(`h${Math.min(6, match[1].length + 2)}`), match[2]));  // under the page's own h1/h2
      i++;
    } else if ((match = /^\s*(```|~~~)/.exec(line))) {
      const fence = match[1];
      const code = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) code.push(lines[i]);
      i++;
      root.append(el('pre', {}, el('code', {}, code.join('\n'))));
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      root.append(el('hr'));
      i++;
    } else if (/^\s*>/.test(line)) {
      const quoted = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) quoted.push(lines[i].replace(/^\s*>\s?/, ''));
      root.append(el('blockquote', {}, renderMarkdown(quoted.join('\n'))));
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? 'ol' : 'ul');
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++) {
        list.append(inline(el('li'), lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, '')));
      }
      root.append(list);
    } else if (line.includes('|') && i + 1 < lines.length && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[i + 1])) {
      const table = el('table', { class: 'md-table' });
      table.append(el('thead', {}, tableRow('th', line)));
      const body = el('tbody');
      for (i += 2; i < lines.length && lines[i].includes('|') && !/^\s*$/.test(lines[i]); i++) body.append(tableRow('td', lines[i]));
      table.append(body);
      root.append(table);
    } else {
      const paragraph = [];
      for (; i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6}\s|\s*```|\s*>)/.test(lines[i]); i++) paragraph.push(lines[i].trim());
      root.append(inline(el('p'), paragraph.join(' ')));
    }
  }
  return root;
}

function tableRow(cellTag, line) {
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|');
  return el('tr', {}, cells.map((cell) => inline(el(cellTag), cell.trim())));
}

// Inline spans, left to right: the earliest match of any pattern wins.
const INLINE = [
  { kind: 'code', pattern: /`([^`]+)`/ },
  { kind: 'image', pattern: /!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/ },
  { kind: 'link', pattern: /\[([^\]]+)\]\(([^)\s]+)[^)]*\)/ },
  { kind: 'strong', pattern: /\*\*(.+?)\*\*|__(.+?)__/ },
  { kind: 'em', pattern: /\*([^*\s][^*]*?)\*|\b_([^_]+)_\b/ },
];

function inline(parent, text) {
  while (text) {
    let best = null;
    for (const rule of INLINE) {
      const match = rule.pattern.exec(text);
      if (match && (!best || match.index < best.match.index)) best = { rule, match };
    }
    if (!best) { parent.append(text); break; }
    const { rule, match } = best;
    parent.append(text.slice(0, match.index));
    text = text.slice(match.index + match[0].length);
    if (rule.kind === 'code') parent.append(el('code', {}, match[1]));
    else if (rule.kind === 'strong') parent.append(inline(el('strong'), match[1] ?? match[2]));
    else if (rule.kind === 'em') parent.append(inline(el('em'), match[1] ?? match[2]));
    else parent.append(link(match[1] || match[2], match[2]));
  }
  return parent;
}

function link(label, url) {
  const safe = /^(https?:\/\/|\/|#|\.{0,2}\/|[\w.-]+(\/|$))/i.test(url) && !/^\s*(javascript|vbscript|data|file):/i.test(url);
  if (!safe) return document.createTextNode(label);
  return el('a', { href: url, rel: 'noopener noreferrer nofollow', target: '_blank' }, label);
}
