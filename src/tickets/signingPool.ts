/**
 * Bulk ticket-code signing. Small batches (the common confirm of a few tickets) are signed
 * inline: an Ed25519 signature costs tens of microseconds and a worker round trip would
 * cost more. Large batches (a confirm issuing thousands of tickets, re-signing on import)
 * are encoded on the calling thread, split into chunks and signed by a piscina pool, so the
 * event loop keeps serving requests meanwhile and several cores share the work.
 *
 * Codes are identical on both paths (Ed25519 is deterministic; see ticketCodes.ts). Each
 * batch is signed with the key current when it starts (the key ring's active key, so a
 * rotation applies from the next batch); a task names its key, and each worker keeps the
 * parsed private keys it has seen by kid.
 *
 * Worker threads are started lazily on the first large batch, are unref'd while idle (they
 * never keep the process alive) and exit after `idleTimeoutMs` without work. `close()`
 * destroys the pool; tasks still running are rejected.
 *
 * The worker file is found next to this module: `signingWorker.ts` when running from source
 * under tsx (tests, dev; the worker then loads tsx with `--import`), `signingWorker.js` when
 * compiled to dist/.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { SigningTask } from './signingWorker.js';
import { TICKET_PAYLOAD_BYTES, encodeTicketPayload, signEncodedTicketPayload, type SigningKey, type TicketCodePayload } from './ticketCodes.js';

/** What signs: an Ed25519 private key, its kid, and its PKCS#8 PEM for the worker threads. */
export interface SignerKey extends SigningKey {
  readonly privateKeyPem: string;
}

export interface TicketSignerOptions {
  /**
   * Batches smaller than this are signed inline. Default 256: below a few hundred codes
   * (≈ 10 ms of signing) worker start-up and messaging outweigh the gain (bench/signing.ts).
   */
  readonly minBatchForWorkers?: number;
  /** Worker threads at most. Default: available parallelism, at most 8. */
  readonly maxThreads?: number;
  /** Idle worker threads exit after this long. Default 30 s. */
  readonly idleTimeoutMs?: number;
}

export interface TicketSigner {
  /** The codes of `payloads`, in the same order. Rejects on a payload that is not UUIDs. */
  signMany(payloads: readonly TicketCodePayload[]): Promise<string[]>;
  /** Stop the worker threads. Further signMany calls reject. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MIN_BATCH_FOR_WORKERS = 256;
/** Smallest chunk handed to one worker task: keeps messaging overhead well below signing time. */
const MIN_CHUNK = 128;
/** Chunks per thread for one batch, so faster threads pick up the slack of slower ones. */
const CHUNKS_PER_THREAD = 4;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const runningFromSource = import.meta.url.endsWith('.ts');
const workerFilename = fileURLToPath(new URL(runningFromSource ? './signingWorker.ts' : './signingWorker.js', import.meta.url));

/** Worker execArgv: under tsx the worker must load tsx itself to import the .ts worker file. */
function workerExecArgv(): string[] | undefined {
  if (!runningFromSource) return undefined;
  // An absolute URL, so it resolves no matter the process's working directory.
  return ['--import', import.meta.resolve('tsx')];
}

/** `key`: the signing key, or a function giving the current one (read once per batch). */
export function createTicketSigner(key: SignerKey | (() => SignerKey), options: TicketSignerOptions = {}): TicketSigner {
  const currentKey = typeof key === 'function' ? key : () => key;
  const first = currentKey();
  if (first.privateKey.type !== 'private' || first.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('ticket signer: the private key must be Ed25519');
  }
  const minBatch = options.minBatchForWorkers ?? DEFAULT_MIN_BATCH_FOR_WORKERS;
  const maxThreads = options.maxThreads ?? Math.max(1, Math.min(8, availableParallelism()));
  if (!Number.isInteger(maxThreads) || maxThreads < 1) throw new RangeError('ticket signer: maxThreads must be a positive integer');
  const idleTimeout = options.idleTimeoutMs ?? 30_000;

  let pool: Piscina<SigningTask, string[]> | undefined;
  let closed = false;

  const getPool = (): Piscina<SigningTask, string[]> => {
    pool ??= new Piscina<SigningTask, string[]>({
      filename: workerFilename,
      minThreads: 0,
      maxThreads,
      idleTimeout,
      execArgv: workerExecArgv(),
    });
    return pool;
  };

  const signInline = (signing: SignerKey, payloads: readonly TicketCodePayload[]): string[] => {
    const bytes = Buffer.allocUnsafe(TICKET_PAYLOAD_BYTES);
    return payloads.map((p) => signEncodedTicketPayload(signing, encodeTicketPayload(p, bytes)));
  };

  const signInWorkers = async (signing: SignerKey, payloads: readonly TicketCodePayload[]): Promise<string[]> => {
    const chunkSize = Math.max(MIN_CHUNK, Math.ceil(payloads.length / (maxThreads * CHUNKS_PER_THREAD)));
    const workers = getPool();
    const tasks: Promise<string[]>[] = [];
    try {
      for (let start = 0; start < payloads.length; start += chunkSize) {
        // Encoding (≈ 0.6 µs a code) is the only per-code work left on this thread: yield
        // between chunks so a 50k batch never stalls the event loop for long.
        if (start > 0) await yieldToEventLoop();
        if (closed) throw new Error('ticket signer is closed');
        const part = payloads.slice(start, start + chunkSize);
        // Own ArrayBuffer per chunk (never Buffer's shared pool), so it is transferred, not copied.
        const buffer = new ArrayBuffer(part.length * TICKET_PAYLOAD_BYTES);
        const view = Buffer.from(buffer);
        part.forEach((p, i) => encodeTicketPayload(p, view, i * TICKET_PAYLOAD_BYTES));
        const task: SigningTask = { kid: signing.kid, privateKeyPem: signing.privateKeyPem, payloads: new Uint8Array(buffer) };
        tasks.push(workers.run(task, { transferList: [buffer] }));
      }
    } catch (err) {
      // A bad payload (or close()) part-way: settle what was already queued, then fail the batch.
      await Promise.allSettled(tasks);
      throw err;
    }
    return (await Promise.all(tasks)).flat();
  };

  return {
    async signMany(payloads) {
      if (closed) throw new Error('ticket signer is closed');
      const signing = currentKey();
      if (payloads.length < minBatch) return signInline(signing, payloads);
      return signInWorkers(signing, payloads);
    },
    async close() {
      closed = true;
      const p = pool;
      pool = undefined;
      await p?.destroy();
    },
  };
}
