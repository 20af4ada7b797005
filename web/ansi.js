// ANSI escape codes in log text: colours and bold (SGR) become spans with classes, every other
// escape sequence (cursor moves, titles, erase) is dropped. The text still goes in through
// textContent, so a log can never inject markup.

// CSI ... final byte, OSC ... BEL/ST, and lone two-byte escapes.
const ESCAPE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;

// Appends `text` to `parent` as text nodes and coloured spans.
export function appendAnsi(parent, text) {
  if (!text.includes('\x1b')) {
    parent.append(text);
    return;
  }
  let style = { fg: null, bold: false };
  let last = 0;
  for (const match of text.matchAll(ESCAPE)) {
    appendStyled(parent, text.slice(last, match.index), style);
    last = match.index + match[0].length;
    if (match[0].startsWith('\x1b[') && match[0].endsWith('m')) style = applySgr(style, match[0].slice(2, -1));
  }
  appendStyled(parent, text.slice(last), style);
}

function appendStyled(parent, text, style) {
  if (!text) return;
  if (style.fg === null && !style.bold) {
    parent.append(text);
    return;
  }
  const span = document.createElement('span');
  if (style.fg !== null) span.classList.add(`ansi-${style.fg}`);
  if (style.bold) span.classList.add('ansi-bold');
  span.textContent = text;
  parent.append(span);
}

// Only what logs commonly use: reset, bold, the 8 colours and their bright forms.
function applySgr(style, parameters) {
  const next = { ...style };
  const codes = parameters === '' ? [0] : parameters.split(';').map(Number);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(next, { fg: null, bold: false });
    else if (code === 1) next.bold = true;
    else if (code === 22) next.bold = false;
    else if (code === 39) next.fg = null;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : 4;  // 256/true colour: skip
  }
  return next;
}
