/**
 * One pod process of the test cluster (test/helpers/cluster.ts): the service's entry point
 * (test/helpers/program.ts) with PORT=0 and GRPC_PORT=0, its ports read from its PORTS_FILE, its
 * output appended to one log file across restarts. Every (re)start gets new ports and
 * the record follows: `ports`, `address`, `httpUrl` and `clients` (new gRPC clients, the
 * old ones closed) are the current process's. Read them where you use them, not once
 * ahead of a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { readPortsFile, type BoundPorts } from '../../src/boundPorts.js';
import { lastLines, ROOT, track, waitFor } from './clusterProcess.js';
import { grpcClients, type TestClients } from './grpc.js';
import { programArgs } from './program.js';

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
    /** gRPC clients to a public address (plaintext or TLS, as the cluster runs). */
    private readonly clientsFor: (address: string) => TestClients = (address) => grpcClients(address),
  ) {}

  /** The ports the current (or last) process bound. */
  get ports(): BoundPorts {
    return this.current().ports;
  }

  get httpPort(): number {
    return this.ports.http;
  }

  get grpcPort(): number {
    return this.ports.grpc;
  }

  /** host:port of its public gRPC server (other pods forward to its internal port). */
  get address(): string {
    return this.current().address;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  /** gRPC clients to the current process. */
  get clients(): TestClients {
    return this.current().clients;
  }

  private current(): Endpoint {
    if (!this.endpoint) throw new Error(`${this.name} has not reported its ports yet`);
    return this.endpoint;
  }

  /**
   * Start the process with `env` (which must point PORTS_FILE at `portsFile`) and follow
   * it to the ports it reports. Until then the record keeps the last process's ports.
   */
  async start(env: Record<string, string>): Promise<void> {
    if (this.status !== 'exited') throw new Error(`${this.name} is ${this.status}`);
    rmSync(this.portsFile, { force: true }); // the last process's ports
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, programArgs('main'), { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    track(child);
    this.process = child;
    this.status = 'running';
    this.exited = new Promise<PodExit>((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.process === child) this.status = 'exited';
        resolve({ code, signal });
      });
    });
    const reported = await waitFor(
      `${this.name} to report its ports`,
      async () => (this.process !== child || this.status === 'exited' ? 'exited' : readPortsFile(this.portsFile)),
      { timeoutMs: 60_000, intervalMs: 50, describe: () => this.tail(30) },
    );
    if (reported === 'exited') throw new Error(`${this.name} exited during start:\n${this.tail(30)}`);
    const previous = this.endpoint;
    const address = `127.0.0.1:${reported.grpc}`;
    this.endpoint = { ports: reported, address, clients: this.clientsFor(address) };
    previous?.clients.close();
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.process || this.status === 'exited') throw new Error(`${this.name} is not running`);
    this.process.kill(signal);
  }

  /** SIGTERM (drain) and wait for the exit; fails after `timeoutMs`. */
  async terminate(timeoutMs: number): Promise<PodExit> {
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms of SIGTERM:\n${this.tail(30)}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last `n` log lines (without the per-call access lines). */
  tail(n: number): string {
    return lastLines(this.logFile, n);
  }

  /** The whole log so far. */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Close the clients and SIGKILL the process (continued first if stopped). */
  async close(): Promise<void> {
    this.endpoint?.clients.close();
    if (this.process && this.status !== 'exited') {
      this.process.kill('SIGCONT');
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}
