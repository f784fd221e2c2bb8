/**
 * One pod of the test cluster (test/helpers/cluster.ts) as the tests see it. Its process
 * binds PORT=0 and GRPC_PORT=0 and reports what it got in its PORTS_FILE, so a pod gets
 * new ports with every (re)start: `bind` switches the record to them (new gRPC clients,
 * the old ones closed). Read `pod.clients`, `pod.httpUrl` … where you use them, not once
 * ahead of a restart.
 */
import type { ChildProcess } from 'node:child_process';
import type { BoundPorts } from '../../src/boundPorts.js';
import { grpcClients, type TestClients } from './grpc.js';

export type PodStatus = 'running' | 'stopped' | 'exited';

export interface PodExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Endpoint {
  readonly ports: BoundPorts;
  readonly address: string;
  readonly clients: TestClients;
}

export class Pod {
  status: PodStatus = 'exited';
  process: ChildProcess | undefined;
  /** Resolves when the current process exits. */
  exited: Promise<PodExit> = Promise.resolve({ code: null, signal: null });
  private endpoint: Endpoint | undefined;

  constructor(
    readonly name: string,
    readonly logFile: string,
    /** Where the process writes its bound ports (PORTS_FILE). */
    readonly portsFile: string,
  ) {}

  /** The ports the current (or last) process bound. */
  get ports(): BoundPorts {
    if (!this.endpoint) throw new Error(`${this.name} has not reported its ports yet`);
    return this.endpoint.ports;
  }

  get httpPort(): number {
    return this.ports.http;
  }

  get grpcPort(): number {
    return this.ports.grpc;
  }

  /** host:port of its gRPC server (what it advertises to other pods). */
  get address(): string {
    if (!this.endpoint) throw new Error(`${this.name} has not reported its ports yet`);
    return this.endpoint.address;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  /** gRPC clients to the current process. */
  get clients(): TestClients {
    if (!this.endpoint) throw new Error(`${this.name} has not reported its ports yet`);
    return this.endpoint.clients;
  }

  /** Follow a (re)started process to the ports it reported. */
  bind(ports: BoundPorts): void {
    const previous = this.endpoint;
    const address = `127.0.0.1:${ports.grpc}`;
    this.endpoint = { ports, address, clients: grpcClients(address) };
    previous?.clients.close();
  }

  /** Close the gRPC clients (the cluster is closing). */
  closeClients(): void {
    this.endpoint?.clients.close();
  }
}
