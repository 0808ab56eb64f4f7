// Every regular expression in src/ (literals, `new RegExp` with a constant pattern, and the
// `pattern` keywords of route schemas, which Ajv runs on public input) is checked by
// recheck (https://makenowjust-labs.github.io/recheck/) for super-linear backtracking:
// exponential or polynomial, like the `/\.+$/` that let one 63 KB pingback freeze the
// server. A `new RegExp` built at run time must be listed below with why it is safe.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'acorn';
import { simple } from 'acorn-walk';
import { transformSync } from 'esbuild';
import { checkSync } from 'recheck';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../src/paths.ts';

/** `new RegExp(…)` calls whose pattern is built at run time, by file, with the reason they are linear. */
const DYNAMIC: Record<string, string> = {
  // ^ + the operator's PERMALINK with its literal text escaped + fixed groups ([^/]+), (\d+), (\d{4}), (\d{2}) separated by that text + $
  'src/articles/permalink.ts': 'anchored; groups are separated by escaped literal text',
  // ^ + EMAIL_SOURCE + $: the same constant is the comment schema's pattern, which this test checks as a literal
  'src/comments/responses.service.ts': 'anchored EMAIL_SOURCE, checked as the comment schema pattern',
};

interface Found {
  where: string;
  source: string;
  flags: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [path] : [];
  });
}

function regexesIn(file: string): { found: Found[]; dynamic: string[] } {
  const name = relative(fromRoot('.'), file);
  const { code } = transformSync(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'esnext' });
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  const found: Found[] = [];
  const dynamic: string[] = [];
  // string constants of the file, so `new RegExp(SOME_PATTERN)` is checked too
  const constants = new Map<string, string>();
  simple(ast, {
    VariableDeclarator(node) {
      const init = node.init;
      if (node.id.type === 'Identifier' && init?.type === 'Literal' && typeof init.value === 'string') constants.set(node.id.name, init.value);
    },
  });
  const at = (node: { loc?: { start: { line: number } } | null }) => `${name}:${node.loc?.start.line} (compiled)`;
  simple(ast, {
    Literal(node) {
      if ('regex' in node && node.regex) found.push({ where: at(node), source: node.regex.pattern, flags: node.regex.flags });
    },
    NewExpression(node) {
      if (node.callee.type !== 'Identifier' || node.callee.name !== 'RegExp') return;
      const [pattern, flags] = node.arguments;
      const text = (n: typeof pattern | undefined) =>
        n?.type === 'Literal' && typeof n.value === 'string' ? n.value : n?.type === 'Identifier' ? constants.get(n.name) : undefined;
      const source = text(pattern);
      if (source === undefined) dynamic.push(at(node));
      else found.push({ where: at(node), source, flags: text(flags) ?? '' });
    },
    Property(node) {
      // TypeBox's { pattern: '…' }: Ajv compiles it with the u flag
      const key = node.key.type === 'Identifier' ? node.key.name : node.key.type === 'Literal' ? node.key.value : undefined;
      if (key === 'pattern' && node.value.type === 'Literal' && typeof node.value.value === 'string') found.push({ where: at(node), source: node.value.value, flags: 'u' });
    },
  });
  return { found, dynamic };
}

describe('regular expressions in src/', () => {
  const files = filesUnder(fromRoot('src'));
  const all = files.map(regexesIn);
  const found = all.flatMap((f) => f.found);

  it('finds them (literals, constant new RegExp, schema patterns)', () => {
    expect(found.length).toBeGreaterThan(50);
    expect(found.some((f) => f.where.startsWith('src/lib/slug.ts') && f.source.startsWith('^[\\p{Ll}'))).toBe(true);
  });

  it('builds none at run time except the listed ones', () => {
    const dynamicFiles = [...new Set(all.flatMap((f) => f.dynamic).map((w) => w.split(':')[0]))];
    expect(dynamicFiles.sort()).toEqual(Object.keys(DYNAMIC).sort());
  });

  it('none backtracks super-linearly (recheck)', { timeout: 300_000 }, () => {
    const unsafe: string[] = [];
    const verdicts = new Map<string, ReturnType<typeof checkSync>>();
    for (const r of found) {
      const key = `/${r.source}/${r.flags}`;
      const result = verdicts.get(key) ?? checkSync(r.source, r.flags, { timeout: 10_000 });
      verdicts.set(key, result);
      if (result.status === 'vulnerable') unsafe.push(`${r.where} ${key}: ${result.complexity.type}${result.complexity.type === 'polynomial' ? ` (degree ${result.complexity.degree})` : ''}, attack ${JSON.stringify(result.attack.pattern)}`);
      else if (result.status === 'unknown') unsafe.push(`${r.where} ${key}: recheck could not decide (${result.error.kind})`);
    }
    expect(unsafe, unsafe.join('\n')).toEqual([]);
  });
});
