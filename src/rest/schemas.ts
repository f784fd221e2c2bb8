/**
 * The REST door's field schemas, built on the shared field schemas every door applies
 * (src/catalog/fields.ts): a value that fails one is a 400 VALIDATION naming the field,
 * before anything is read or written.
 */
import { z } from 'zod';
import { textField, timestampField, uuidField } from '../catalog/fields.js';

/** A UUID in any case, canonicalised to lower case (path parameters, query and body ids). */
export const uuid = uuidField;
export const idParams = z.object({ id: uuid });

/** Query-string booleans: `true/false/1/0`. */
export const queryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** ISO 8601 with an offset, between years 1 and 9999. */
export const isoDate = timestampField;

/** Trimmed, non-empty, bounded text without control characters. */
export const text = (max: number) => z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), textField(max));

// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Long free text (descriptions): may be empty and hold line breaks and tabs, never NUL or other control characters. */
export const freeText = (max: number) =>
  z
    .string()
    .max(max, { message: `must be at most ${max} characters` })
    .refine((v) => !CONTROL_EXCEPT_LINES.test(v), { message: 'must not contain control characters other than line breaks and tabs' });

/** An http(s) URL without control characters (the URL parser would otherwise drop or escape them). */
export const httpUrl = (max: number) =>
  z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(max, { message: `must be at most ${max} characters` })
    // eslint-disable-next-line no-control-regex
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: 'must not contain control characters' });

/** An opaque page cursor as the service hands it out (decoded and type-checked before use). */
export const cursor = z.string().regex(/^[A-Za-z0-9_-]{1,1000}$/, { message: 'must be a cursor from next_cursor' });
