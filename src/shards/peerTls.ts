/**
 * TLS between pods. A pod dials its peers by IP, so the name checked in a peer's
 * certificate is configured (GRPC_TLS_SERVER_NAME, e.g. the headless Service's DNS name),
 * and the roots it trusts are the private CA of GRPC_TLS_CA_PATH (system roots when unset).
 * It presents GRPC_TLS_CLIENT_CERT_PATH/KEY_PATH (default: its server pair); the internal
 * port demands such a client certificate, signed by the same CA, when mutual TLS is on.
 */
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../config.js';
import { readTlsFile } from '../grpc/tlsFiles.js';

export interface PeerTls {
  /** Credentials of the internal port. */
  readonly server: grpc.ServerCredentials;
  /** Credentials and channel options a pod dials its peers with. */
  readonly channel: grpc.ChannelCredentials;
  readonly channelOptions: grpc.ChannelOptions;
}

export async function loadPeerTls(config: Config): Promise<PeerTls> {
  const tls = config.grpc.tls;
  if (!tls.enabled) {
    return { server: grpc.ServerCredentials.createInsecure(), channel: grpc.credentials.createInsecure(), channelOptions: {} };
  }
  const [cert, key, clientCert, clientKey, ca] = await Promise.all([
    readTlsFile(tls.certPath, 'GRPC_TLS_CERT_PATH'),
    readTlsFile(tls.keyPath, 'GRPC_TLS_KEY_PATH'),
    readTlsFile(tls.clientCertPath, 'GRPC_TLS_CLIENT_CERT_PATH'),
    readTlsFile(tls.clientKeyPath, 'GRPC_TLS_CLIENT_KEY_PATH'),
    tls.caPath === undefined ? Promise.resolve(null) : readTlsFile(tls.caPath, 'GRPC_TLS_CA_PATH'),
  ]);
  return {
    server: grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], config.internal.mutualTls),
    channel: grpc.credentials.createSsl(ca, clientKey, clientCert),
    channelOptions: tls.serverName
      ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
      : {},
  };
}
