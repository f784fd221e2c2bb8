/**
 * Field schemas of catalog input, built on the shared ones every door applies
 * (actors/inventory/commandSchema.ts): ids are UUIDs in any case canonicalised to lower
 * case, text refuses control characters (NUL included: Postgres refuses it) and has a
 * maximum length, and timestamps stay within what Postgres and JSON both represent.
 */
import { z } from 'zod';
import { textField, uuidField } from '../../actors/inventory/commandSchema.js';

export { textField, uuidField };

/** The timestamp range the catalog accepts: years 1 to 9999 in UTC. */
export const TIMESTAMP_MIN_MS = Date.parse('0001-01-01T00:00:00Z');
export const TIMESTAMP_MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** ISO 8601 with an offset, a real calendar date, between years 1 and 9999 (UTC). */
export const timestampField = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 timestamp with offset' })
  .refine(
    (v) => {
      const ms = Date.parse(v);
      return ms >= TIMESTAMP_MIN_MS && ms <= TIMESTAMP_MAX_MS;
    },
    { message: 'must be between years 1 and 9999 (UTC)' },
  );
