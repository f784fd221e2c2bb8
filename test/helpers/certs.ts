/**
 * A private CA and pod certificates for TLS tests, made with the openssl command line.
 * Pod certificates name `ticket-service-pods` (the name pods check, as in k8s/) and
 * `localhost`, but not 127.0.0.1: a pod that dials a peer by IP must check the configured
 * name, exactly as in a cluster. They carry both server and client auth usages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const POD_SERVER_NAME = 'ticket-service-pods';

export interface CertFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA's certificate and a pod certificate it signed. */
  readonly pods: CertFiles;
  /** A pod certificate signed by another CA (with that CA as its `ca`). */
  readonly rogue: CertFiles;
  /** `GRPC_TLS_*` for a pod of `pki.pods` (mutual TLS: the CA is set). */
  env(files?: CertFiles): Record<string, string>;
  remove(): void;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', key, '-out', cert]);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, [
    `subjectAltName=DNS:${POD_SERVER_NAME},DNS:localhost`,
    'extendedKeyUsage=serverAuth,clientAuth',
    'keyUsage=critical,digitalSignature',
    'basicConstraints=CA:FALSE',
  ].join('\n'));
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', key, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'ticket-pki-'));
  const ca = makeCa(dir, 'pods-ca');
  const other = makeCa(dir, 'other-ca');
  const pods = { ca: ca.cert, ...makeLeaf(dir, 'pod', ca) };
  const rogue = { ca: other.cert, ...makeLeaf(dir, 'rogue', other) };
  return {
    dir,
    pods,
    rogue,
    env(files = pods) {
      return {
        GRPC_TLS_ENABLED: 'true',
        GRPC_TLS_CERT_PATH: files.cert,
        GRPC_TLS_KEY_PATH: files.key,
        GRPC_TLS_CA_PATH: files.ca,
        GRPC_TLS_SERVER_NAME: POD_SERVER_NAME,
      };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
