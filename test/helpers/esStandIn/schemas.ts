/**
 * The request bodies the Elasticsearch stand-in accepts, after the Elasticsearch REST API
 * reference (create index, update aliases, bulk, search with the Query DSL). Every object
 * is strict: an unknown or misspelt key, a wrong type or a missing required part is a
 * 400 like Elasticsearch's own `x_content_parse_exception` / `parsing_exception`. Only
 * the subset the service uses is accepted; anything else is refused rather than ignored.
 */
import { z } from 'zod';
import { TOKEN_FILTERS } from './analysis.js';

export const FIELD_TYPES = ['text', 'keyword', 'search_as_you_type', 'boolean', 'date', 'geo_point', 'integer', 'long'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldMapping {
  type: FieldType;
  analyzer?: string;
  normalizer?: string;
  index?: boolean;
  fields?: Record<string, FieldMapping>;
}

const fieldMapping: z.ZodType<FieldMapping> = z.lazy(() =>
  z.strictObject({
    type: z.enum(FIELD_TYPES),
    analyzer: z.string().optional(),
    normalizer: z.string().optional(),
    index: z.boolean().optional(),
    fields: z.record(z.string(), fieldMapping).optional(),
  }),
);

const customAnalyzer = z.strictObject({ type: z.literal('custom'), tokenizer: z.literal('standard'), filter: z.array(z.enum(TOKEN_FILTERS)) });
const customNormalizer = z.strictObject({ type: z.literal('custom'), filter: z.array(z.enum(['lowercase', 'asciifolding'])) });

export const createIndexBody = z.strictObject({
  settings: z
    .strictObject({
      number_of_shards: z.number().int().min(1).optional(),
      number_of_replicas: z.number().int().min(0).optional(),
      analysis: z
        .strictObject({
          analyzer: z.record(z.string(), customAnalyzer).optional(),
          normalizer: z.record(z.string(), customNormalizer).optional(),
        })
        .optional(),
    })
    .optional(),
  mappings: z
    .strictObject({
      dynamic: z.enum(['strict', 'true', 'false']).or(z.boolean()).optional(),
      properties: z.record(z.string(), fieldMapping),
    })
    .optional(),
  aliases: z.record(z.string(), z.strictObject({ is_write_index: z.boolean().optional() })).optional(),
});
export type CreateIndexBody = z.infer<typeof createIndexBody>;

const aliasAction = z.union([
  z.strictObject({ add: z.strictObject({ index: z.string().min(1), alias: z.string().min(1), is_write_index: z.boolean().optional() }) }),
  z.strictObject({ remove: z.strictObject({ index: z.string().min(1), alias: z.string().min(1) }) }),
  z.strictObject({ remove_index: z.strictObject({ index: z.string().min(1) }) }),
]);
export const updateAliasesBody = z.strictObject({ actions: z.array(aliasAction).min(1) });
export type AliasAction = z.infer<typeof aliasAction>;

const versionMeta = {
  _index: z.string().min(1).optional(),
  _id: z.string().min(1).max(512),
  version: z.number().int().min(0).optional(),
  version_type: z.enum(['internal', 'external', 'external_gte']).optional(),
};
export const bulkAction = z.union([
  z.strictObject({ index: z.strictObject(versionMeta) }),
  z.strictObject({ delete: z.strictObject(versionMeta) }),
]);
export type BulkAction = z.infer<typeof bulkAction>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const fuzziness = z.union([z.literal('AUTO'), z.literal(0), z.literal(1), z.literal(2), z.enum(['0', '1', '2']).transform(Number)]);
const oneField = <T extends z.ZodType>(value: T) =>
  z.record(z.string(), value).refine((r) => Object.keys(r).length === 1, { message: 'query must name exactly one field' });
const point = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

export type Query =
  | { bool: { must?: Query | Query[]; filter?: Query | Query[]; should?: Query | Query[]; must_not?: Query | Query[]; minimum_should_match?: number } }
  | { multi_match: { query: string; fields: string[]; type?: 'best_fields' | 'bool_prefix'; operator?: 'and' | 'or'; fuzziness?: 'AUTO' | number } }
  | { term: Record<string, string | number | boolean | { value: string | number | boolean }> }
  | { range: Record<string, { gt?: string | number; gte?: string | number; lt?: string | number; lte?: string | number }> }
  | { geo_distance: { distance: string; [field: string]: unknown } }
  | { match_all: Record<string, never> };

export const query: z.ZodType<Query> = z.lazy(() => {
  const clause = z.union([query, z.array(query)]);
  return z.union([
    z.strictObject({
      bool: z.strictObject({ must: clause.optional(), filter: clause.optional(), should: clause.optional(), must_not: clause.optional(), minimum_should_match: z.number().int().min(0).optional() }),
    }),
    z.strictObject({
      multi_match: z.strictObject({
        query: z.string(),
        fields: z.array(z.string().regex(/^[a-z_][a-z0-9_.]*(\^\d+(\.\d+)?)?$/)).min(1),
        type: z.enum(['best_fields', 'bool_prefix']).optional(),
        operator: z.enum(['and', 'or', 'AND', 'OR']).transform((v) => v.toLowerCase() as 'and' | 'or').optional(),
        fuzziness: fuzziness.optional(),
      }),
    }),
    z.strictObject({ term: oneField(z.union([scalar, z.strictObject({ value: scalar })])) }),
    z.strictObject({
      range: oneField(
        z.strictObject({ gt: z.union([z.string(), z.number()]).optional(), gte: z.union([z.string(), z.number()]).optional(), lt: z.union([z.string(), z.number()]).optional(), lte: z.union([z.string(), z.number()]).optional() }),
      ),
    }),
    z.strictObject({
      geo_distance: z
        .looseObject({ distance: z.string().regex(/^\d+(\.\d+)?(km|m)$/) })
        .refine((g) => Object.keys(g).filter((k) => k !== 'distance').length === 1, { message: 'geo_distance needs exactly one field' })
        .refine((g) => Object.entries(g).every(([k, v]) => k === 'distance' || point.safeParse(v).success), { message: 'geo_distance point must be {lat, lon}' }),
    }),
    z.strictObject({ match_all: z.strictObject({}) }),
  ]) as z.ZodType<Query>;
});

const order = z.enum(['asc', 'desc']);
export const sortClause = z.union([
  z.literal('_score'),
  z.strictObject({ _geo_distance: z.looseObject({ order: order.optional(), unit: z.enum(['km', 'm']).optional() }).refine((g) => Object.entries(g).filter(([k]) => k !== 'order' && k !== 'unit').every(([, v]) => point.safeParse(v).success), { message: 'point must be {lat, lon}' }) }),
  oneField(z.union([order, z.strictObject({ order })])),
]);
export type SortClause = z.infer<typeof sortClause>;

export const searchBody = z.strictObject({
  query: query.optional(),
  from: z.number().int().min(0).optional(),
  size: z.number().int().min(0).optional(),
  sort: z.array(sortClause).optional(),
  track_total_hits: z.union([z.boolean(), z.number().int()]).optional(),
  _source: z.union([z.boolean(), z.array(z.string())]).optional(),
  aggs: z.record(z.string(), z.strictObject({ terms: z.strictObject({ field: z.string(), size: z.number().int().min(1).optional() }) })).optional(),
  search_after: z.array(z.union([z.string(), z.number()])).optional(),
});
export type SearchBody = z.infer<typeof searchBody>;

export const countBody = z.strictObject({ query: query.optional() });
