/**
 * `ticketctl search reindex` shows a progress bar per phase (copy, catch-up, swap, cleanup)
 * on stderr when it is a terminal, and none otherwise or with --json.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { progressBar } from '../../src/cli/commands/search.js';
import type { ReindexProgress } from '../../src/search/reindex.js';

/** A stream that keeps what is written, a terminal or not. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return Object.assign(stream, { isTTY, columns: 100, text: () => chunks.join('') });
}

const RUN: ReindexProgress[] = [
  { phase: 'copy', done: 0, total: 9 },
  { phase: 'copy', done: 4, total: 9 },
  { phase: 'copy', done: 9, total: 9 },
  { phase: 'catch-up', done: 2, total: 2 },
  { phase: 'swap', done: 0, total: 1 },
  { phase: 'swap', done: 1, total: 1 },
  { phase: 'cleanup', done: 1, total: 1 },
];

test('at a terminal: one bar per phase, each ending at its total', (t) => {
  const out = sink(true);
  const bar = progressBar(out, true);
  for (const p of RUN) bar.update(p);
  bar.stop();
  // eslint-disable-next-line no-control-regex
  const plain = out.text().replace(/\x1B(\[[0-9;?]*[A-Za-z]|[78])/g, '');
  t.regex(plain, /copy {5}\[=+\] 9\/9 100%/);
  t.regex(plain, /catch-up \[=+\] 2\/2 100%/);
  t.regex(plain, /swap {5}\[=+\] 1\/1 100%/);
  t.regex(plain, /cleanup {2}\[=+\] 1\/1 100%/);
});

test('no bar when stderr is not a terminal, nor with --json', (t) => {
  for (const [isTTY, enabled] of [[false, true], [true, false]] as const) {
    const out = sink(isTTY);
    const bar = progressBar(out, enabled);
    for (const p of RUN) bar.update(p);
    bar.stop();
    t.is(out.text(), '', `isTTY=${isTTY} enabled=${enabled}`);
  }
});
