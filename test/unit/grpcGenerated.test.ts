/** The committed gRPC types never drift from protos/ticket.proto: regenerate and compare. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { GENERATED_HEADER, generateGrpcTypes, readGenerated } from '../../src/grpc/codegen.js';

test('src/grpc/generated matches a fresh npm run grpc:generate', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'grpc-generated-'));
  try {
    await generateGrpcTypes(path.join(dir, 'out'));
    const fresh = await readGenerated(path.join(dir, 'out'));
    const committed = await readGenerated('src/grpc/generated');
    t.true(fresh.size > 0);
    t.deepEqual([...committed.keys()], [...fresh.keys()], 'same files (run npm run grpc:generate)');
    for (const [file, text] of fresh) {
      t.true(text.startsWith(GENERATED_HEADER), file);
      t.is(committed.get(file), text, `${file} is stale: run npm run grpc:generate`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
