// @ts-check
// A small SQL tokenizer for highlighting: keywords, identifiers (plain and "quoted"), strings,
// numbers, comments, operators. It never rejects input (anything unknown is an operator token), and
// the output is text nodes inside spans, so model text is never parsed as HTML.
import { h } from '../ui.js';

// PostgreSQL's reserved words and the usual query words; other words are identifiers.
const keywords = new Set(`
  all and any array as asc between by case cast collate cross current_date current_time current_timestamp
  desc distinct else end except exists false fetch filter first for from full group having ilike in inner
  intersect interval is join lateral left like limit not null nulls offset on only or order outer over
  partition right row rows select similar some table then true union using values when where window with
  count sum avg min max coalesce nullif extract date_trunc recursive
  insert update delete into set create drop alter grant revoke truncate returning explain analyze
`.trim().split(/\s+/));

/** @typedef {'keyword' | 'identifier' | 'string' | 'number' | 'comment' | 'operator' | 'space'} TokenKind */
/** @typedef {{ kind: TokenKind, text: string }} Token */

// Tried in order at each position; the first that matches (sticky, at that position) wins.
/** @type {Array<[TokenKind, RegExp]>} */
const rules = [
  ['space', /\s+/y],
  ['comment', /--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y],
  // 'it''s'; backslash escapes only in E'...' strings (standard strings keep \ as a character); unterminated up to the end.
  ['string', /[eE]'(?:[^'\\]|''|\\[\s\S])*(?:'|$)/y],
  ['string', /'(?:[^']|'')*(?:'|$)/y],
  ['identifier', /"(?:[^"]|"")*(?:"|$)/y],
  ['number', /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y],
  ['identifier', /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y],
  ['operator', /::|<=|>=|<>|!=|\|\||[^\sA-Za-z0-9_'"]/y],
];

/** Splits SQL into tokens whose texts, joined, give back the input exactly. @param {string} sql @returns {Token[]} */
export function tokenize(sql) {
  /** @type {Token[]} */
  const tokens = [];
  let at = 0;
  while (at < sql.length) {
    let matched = false;
    for (const [kind, pattern] of rules) {
      pattern.lastIndex = at;
      const match = pattern.exec(sql);
      if (!match || match[0].length === 0) continue;
      const text = match[0];
      tokens.push({ kind: kind === 'identifier' && keywords.has(text.toLowerCase()) ? 'keyword' : kind, text });
      at += text.length;
      matched = true;
      break;
    }
    // Unreachable with the catch-all operator rule, but never loop forever on a surprise.
    if (!matched) tokens.push({ kind: 'operator', text: sql[at++] });
  }
  return tokens;
}

/** The SQL as nodes: a span with class sql-<kind> per token, plain text for white space. @param {string} sql @returns {Node[]} */
export function highlight(sql) {
  return tokenize(sql).map(t => (t.kind === 'space' ? document.createTextNode(t.text) : h('span', { class: `sql-${t.kind}` }, t.text)));
}
