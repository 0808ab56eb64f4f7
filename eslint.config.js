// ESLint: typescript-eslint's recommended rules (syntax only: the type-aware ones need
// TypeScript's compiler API, which TypeScript 7 does not ship) and eslint-plugin-regexp's
// recommended set, with regexp/no-super-linear-backtracking among them (a regex that
// backtracks on untrusted input is a denial of service).
//
// typescript-eslint parses with TypeScript's JS API (`ts.createSourceFile`), which the
// project's TypeScript 7 (a native binary, `tsc` only) does not have: its packages
// resolve `typescript` to `typescript-for-eslint` (typescript@5.9.3, a parser only here;
// `npm run typecheck` stays on TypeScript 7). package.json's overrides let npm accept
// their peer range.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'typescript' && /[\\/]node_modules[\\/](@typescript-eslint|typescript-eslint|ts-api-utils)[\\/]/.test(context.parentURL ?? '')) {
      return nextResolve('typescript-for-eslint', context);
    }
    return nextResolve(specifier, context);
  },
});

const { default: js } = await import('@eslint/js');
const { default: tseslint } = await import('typescript-eslint');
const { default: regexp } = await import('eslint-plugin-regexp');

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'drizzle/', 'openapi/', 'coverage/', '.vitest-*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  regexp.configs['flat/recommended'],
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      // style, not mistakes: `[A-Za-z0-9_]` reads as plainly as `\w`, and a group may group without being read
      'regexp/prefer-w': 'off',
      'regexp/use-ignore-case': 'off',
      'regexp/no-unused-capturing-group': 'off',
      // a server's handler may name the object that the next line creates
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks what is there to be skipped (a destructured field left out, a parameter kept for its position)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // tests read JSON answers loosely
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
