/** The worked example of the shard hash in docs/shards.md is what the service computes. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { SHARD_HASH, shardOf } from '../../src/shards/shardOf.js';

const doc = readFileSync('docs/shards.md', 'utf8');

test('docs/shards.md: the worked example maps its event id to the shard shardOf computes', (t) => {
  const example = /the event id\s+`([0-9A-Fa-f-]{36})`[\s\S]*?hash is `0x([0-9a-f]{8})`\s*\((\d+)\);\s*with `shard_count` (\d+) the shard is \d+ mod \d+ = \*\*(\d+)\*\*/.exec(doc);
  t.truthy(example, 'the worked example is in docs/shards.md');
  const [, eventId, hex, decimal, count, shard] = example as RegExpExecArray;
  t.is(Number.parseInt(hex as string, 16), Number(decimal));
  t.is(shardOf(eventId as string, Number(count)), Number(shard));
  t.is(Number(decimal) % Number(count), Number(shard));
  t.true(doc.includes(`\`"${SHARD_HASH}"\``), 'the hash name GetShardMap reports is documented');
});
