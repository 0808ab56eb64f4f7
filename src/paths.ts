// Where the project's own files are (migrations, the stylesheet, package.json), whether
// this code runs from src/ (tsx: tests, the CLI) or bundled into dist/ (`npm start`):
// the nearest directory above this module that holds package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

export const fromRoot = (...parts: string[]): string => join(ROOT, ...parts);

export const PACKAGE = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { name: string; version: string };
