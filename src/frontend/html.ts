// Escaping is the default: every value interpolated into `html` is escaped unless it
// is already markup (the result of another `html` call, or `trusted()` for HTML the
// API documents as sanitised). Forgetting to escape then takes effort, not the reverse.
import { escapeHtml } from '../lib/html.ts';
import { parseHttpUrl } from '../lib/url.ts';

export class Markup {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = Markup | string | number | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof Markup) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Markup(out);
}

/** HTML the API promises is sanitised (article bodies, response bodies): rendered as is. */
export function trusted(sanitisedHtml: string): Markup {
  return new Markup(sanitisedHtml);
}

/**
 * A URL from users (a commenter's website, an avatar) fit for href/src: only absolute
 * http(s). Escaping alone would let `javascript:` through an href.
 */
export function safeUrl(url: string | null | undefined): string | null {
  return url ? (parseHttpUrl(url)?.href ?? null) : null;
}
