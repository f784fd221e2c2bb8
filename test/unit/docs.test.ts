/**
 * The documentation stays true: every configuration variable, error code, ticketctl command
 * and npm script is documented; every document is reachable and every relative link resolves.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';
import { HTTP_STATUS } from '../../src/rest/errors.js';

const readme = readFileSync('README.md', 'utf8');
const docs = readdirSync('docs').filter((f) => f.endsWith('.md'));
const configuration = readFileSync('docs/configuration.md', 'utf8');
const api = readFileSync('docs/api.md', 'utf8');

test('every configuration variable is in docs/configuration.md', (t) => {
  for (const v of CONFIG_VARIABLES) t.true(configuration.includes(`\`${v}\``), v);
});

test('every error code is in docs/api.md with its HTTP status', (t) => {
  for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
    const row = api.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${code}\``));
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

test('the README links every document in docs/', (t) => {
  for (const f of docs) t.true(readme.includes(`(docs/${f})`), f);
});

test('every relative link in the README and docs/ points at a file that exists', (t) => {
  const files = ['README.md', ...docs.map((f) => join('docs', f))];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z]+:/.test(target)) continue;
      t.true(existsSync(join(dirname(file), target)), `${file} → ${target}`);
    }
  }
});

/** `ticketctl shards move`, … for every leaf command of the CLI. */
function commandPaths(command: Command, prefix: string[] = []): string[] {
  const here = [...prefix, command.name()];
  if (command.commands.length === 0) return [here.join(' ')];
  return command.commands.flatMap((c) => commandPaths(c, here));
}

const everything = [readme, ...docs.map((f) => readFileSync(join('docs', f), 'utf8'))].join('\n');

test('every ticketctl command is documented', (t) => {
  const commands = commandPaths(buildProgram());
  t.true(commands.length >= 10);
  for (const command of commands) t.true(everything.includes(command), command);
});

test('every npm script is documented', (t) => {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  for (const name of Object.keys(scripts)) {
    const usages = [`npm run ${name}`, `\`${name}\``, ...(name === 'test' || name === 'start' ? [`npm ${name}`] : [])];
    t.true(usages.some((u) => everything.includes(u)), name);
  }
});
