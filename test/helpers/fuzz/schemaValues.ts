/**
 * Values for a JSON schema (as OpenAPI and zod's toJSONSchema write them): `plausible`
 * ones the schema would accept, near enough (the fixtures' ids, future dates, small
 * numbers), and objects whose fields are plausible or hostile.
 */
import fc from 'fast-check';
import { hostileJson } from './hostile.js';

export type JsonSchema = Record<string, any>;

/** A value the schema would accept, near enough (the fixtures' ids, dates in the future, small numbers). */
export function plausible(schema: JsonSchema | undefined, ids: readonly string[]): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant('x');
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) return fc.oneof(...branches.map((b) => plausible(b, ids)));
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.const !== undefined) return fc.constant(schema.const);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid' || String(schema.pattern ?? '').includes('[0-9a-fA-F]{8}')) return fc.constantFrom(...ids);
      if (schema.format === 'date-time') return fc.integer({ min: 1, max: 400 }).map((d) => new Date(Date.now() + d * 86_400_000).toISOString());
      if (schema.format === 'uri') return fc.constant('https://example.com/a.png');
      if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^[A-Z]{3}')) return fc.constant('USD');
      return fc.constantFrom('Fuzz', 'USD', 'FUZZ10', 'concerts', 'Berlin');
    case 'integer':
      return fc.integer({ min: Math.max(Number(schema.minimum ?? 0), 0), max: Math.min(Number(schema.maximum ?? 1000), 1000) });
    case 'number':
      return fc.constantFrom(1.5, 0, 42);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(plausible(schema.items as JsonSchema, ids), { maxLength: 2 });
    case 'object':
      return objectOf(schema, ids, 0);
    default:
      return fc.constant(null);
  }
}

/** An object with some of the schema's properties, each plausible or hostile. */
export function objectOf(schema: JsonSchema, ids: readonly string[], hostileWeight: number): fc.Arbitrary<JsonSchema> {
  const props = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, prop] of props) {
    record[name] = hostileWeight === 0 ? plausible(prop, ids) : fc.oneof({ weight: 2, arbitrary: plausible(prop, ids) }, { weight: hostileWeight, arbitrary: hostileJson(ids) });
  }
  // The schema's required keys are always there (so requests get past the shape), the others now and then.
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return fc.record(record, { requiredKeys: required.filter((k) => k in record) }) as fc.Arbitrary<JsonSchema>;
}

