/** A StreamInventory client for tests: send items, await answers by request_id or in arrival order, and the stream's end. */
import * as grpc from '@grpc/grpc-js';
import type { InventoryStreamRequest } from '../../src/grpc/generated/ticket/InventoryStreamRequest.js';
import type { InventoryStreamResponse__Output } from '../../src/grpc/generated/ticket/InventoryStreamResponse.js';
import type { TicketServiceClient } from '../../src/grpc/generated/ticket/TicketService.js';
import { callMetadata } from './grpc.js';

export type Answer = InventoryStreamResponse__Output;

export interface InventoryStream {
  readonly call: grpc.ClientDuplexStream<InventoryStreamRequest, Answer>;
  /** Every answer so far, in arrival order. */
  readonly answers: Answer[];
  send(item: InventoryStreamRequest): void;
  /** Send `item` and wait for the answer naming its request_id. */
  request(item: InventoryStreamRequest & { request_id: string }): Promise<Answer>;
  /** Wait until `n` answers have arrived. */
  waitForAnswers(n: number): Promise<Answer[]>;
  /** Half-close and wait for the stream's status. */
  end(): Promise<grpc.StatusObject>;
  /** The stream's status once it ends (an error status for a refused stream). */
  readonly status: Promise<grpc.StatusObject>;
}

export function openInventoryStream(client: TicketServiceClient, token: string | null): InventoryStream {
  const call = client.StreamInventory(callMetadata({ token }));
  const answers: Answer[] = [];
  const waiters: Array<() => void> = [];
  const status = new Promise<grpc.StatusObject>((resolve) => {
    call.on('status', resolve);
    call.on('error', () => undefined); // the status says it
  });
  call.on('data', (a: Answer) => {
    answers.push(a);
    for (const w of waiters.splice(0)) w();
  });
  const until = (done: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (done()) resolve();
        else waiters.push(check);
      };
      void status.then((s) => {
        if (!done()) reject(new Error(`stream ended (${grpc.status[s.code]} ${s.details}) before the answer came`));
      });
      check();
    });
  return {
    call,
    answers,
    status,
    send: (item) => void call.write(item),
    async request(item) {
      call.write(item);
      await until(() => answers.some((a) => a.request_id === item.request_id));
      return answers.find((a) => a.request_id === item.request_id) as Answer;
    },
    async waitForAnswers(n) {
      await until(() => answers.length >= n);
      return answers;
    },
    end() {
      call.end();
      return status;
    },
  };
}
