/**
 * grpc.health.v1.Health for the gRPC server: `""` (the pod) and each ticket service report
 * what the pod's health picture says (src/observability/podHealth.ts, the same picture as
 * REST `/ready`). `Check` answers the latest picture; `Watch` streams get every change.
 * An unknown service name is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch).
 */
import { HealthImplementation } from 'grpc-health-check';
import type { PodHealth } from '../observability/podHealth.js';

export interface GrpcHealth {
  readonly implementation: HealthImplementation;
  /** Stop following the pod's health (the statuses stay as they are). */
  detach(): void;
}

export function grpcHealth(health: PodHealth): GrpcHealth {
  const implementation = new HealthImplementation({ ...health.current().services });
  const detach = health.subscribe((picture) => {
    for (const [name, status] of Object.entries(picture.services)) implementation.setStatus(name, status);
  });
  return { implementation, detach };
}
