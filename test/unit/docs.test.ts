/** The README stays true: every configuration variable and error code is documented. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';
import { HTTP_STATUS } from '../../src/rest/errors.js';

const readme = readFileSync('README.md', 'utf8');

test('every configuration variable is in the README', (t) => {
  for (const v of CONFIG_VARIABLES) t.true(readme.includes(`\`${v}\``), v);
});

test('every error code is in the README with its HTTP status', (t) => {
  for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
    const row = readme.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${code}\``));
    t.truthy(row, code);
    t.true(row?.includes(`| ${HTTP_STATUS[code]} |`), `${code} → ${HTTP_STATUS[code]}`);
  }
});

test('the quick start is exactly two commands', (t) => {
  const section = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const commands = block.split('\n').filter((l) => l.trim() !== '');
  t.is(commands.length, 2);
  t.regex(commands[0] ?? '', /npm run dev/);
  t.regex(commands[1] ?? '', /^npm test\b/);
});
