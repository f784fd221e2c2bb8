/**
 * The `authorization` value of the call being served, carried through async work so a
 * command forwarded to another pod is made on behalf of the same caller (the owning pod
 * checks the same token). Set by the REST router and the gRPC call wrappers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const callerAuth = new AsyncLocalStorage<string | undefined>();

export function currentAuthorization(): string | undefined {
  return callerAuth.getStore();
}
