/** Shared zod pieces for REST input. */
import { z } from 'zod';

export const uuid = z.uuid({ message: 'must be a UUID' });
export const idParams = z.object({ id: uuid });

/** Query-string booleans: `true/false/1/0`. */
export const queryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp with offset' });

/** Trimmed, non-empty, bounded text. */
export const text = (max: number) => z.string().trim().min(1).max(max);
