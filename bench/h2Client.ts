/**
 * A lean gRPC unary client for load generation (what ghz or h2load are elsewhere): one
 * HTTP/2 session from node:http2, the 5-byte gRPC message framing, and the status read
 * from the trailers. It does what a grpc-js client does on the wire for a unary call,
 * without the channel, interceptor and call-stack machinery, so that the load child's
 * CPU is not what limits a run. Select grpc-js instead with BENCH_GRPC_CLIENT=grpc-js.
 */
import http2 from 'node:http2';

export interface RawUnaryClient {
  /** Resolves with the response message bytes when grpc-status is 0; rejects otherwise. */
  call(path: string, message: Uint8Array): Promise<Buffer>;
  close(): void;
}

export class GrpcStatusError extends Error {
  override readonly name = 'GrpcStatusError';
  constructor(readonly code: number, detail: string) {
    super(`grpc-status ${code}: ${detail}`);
  }
}

/** `authorization` omitted: an anonymous caller. */
export async function rawGrpcClient(port: number, authorization?: string): Promise<RawUnaryClient> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const headers = {
    ':method': 'POST',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '30S',
    ...(authorization === undefined ? {} : { authorization }),
  };
  return {
    call(path, message) {
      return new Promise<Buffer>((resolve, reject) => {
        const frame = Buffer.allocUnsafe(5 + message.length);
        frame[0] = 0;
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        const req = session.request({ ...headers, ':path': path });
        const chunks: Buffer[] = [];
        let status: string | undefined;
        let detail = '';
        const readStatus = (h: http2.IncomingHttpHeaders) => {
          const s = h['grpc-status'];
          if (typeof s === 'string') {
            status = s;
            const m = h['grpc-message'];
            detail = typeof m === 'string' ? decodeURIComponent(m) : '';
          }
        };
        req.on('response', readStatus); // a trailers-only reply carries the status here
        req.on('trailers', readStatus);
        req.on('data', (c: Buffer) => chunks.push(c));
        let settled = false;
        const fail = (err: Error) => {
          if (!settled) {
            settled = true;
            reject(err);
          }
        };
        req.on('error', fail);
        req.on('end', () => {
          if (settled) return;
          settled = true;
          if (status === '0') resolve(Buffer.concat(chunks).subarray(5));
          else reject(new GrpcStatusError(Number(status ?? 2), status === undefined ? 'no grpc-status' : detail));
        });
        // a stream reset (or a session torn down) closes without 'end'
        req.on('close', () => fail(new GrpcStatusError(14, `stream closed (rst code ${req.rstCode})`)));
        req.end(frame);
      });
    },
    close: () => session.close(),
  };
}
