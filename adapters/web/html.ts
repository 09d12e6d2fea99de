import type { SafeHtml } from './kit.js';

/** HTML that is already safe to emit. */
class Html implements SafeHtml {
  constructor(readonly __html: string) {}
  toString(): string {
    return this.__html;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function isSafeHtml(value: unknown): value is SafeHtml {
  return value instanceof Html;
}

function piece(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Html) return value.__html;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value instanceof Date) return escapeHtml(value.toISOString());
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every interpolated value unless it is SafeHtml. Arrays are
 * joined; `null`, `undefined` and `false` render nothing (so `${cond && html`…`}` works).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Marks a trusted string as SafeHtml. */
export function raw(s: string): SafeHtml {
  return new Html(s);
}

/** JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so it cannot close the tag. */
export function jsonScript(value: unknown): SafeHtml {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new Html(json);
}
