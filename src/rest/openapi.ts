/** OpenAPI 3.1 document derived from the same RouteSpecs the router serves. */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { errorBodySchema } from './errors.js';
import type { RouteSpec } from './route.js';

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete json.$schema;
  return json;
}

/** `/events/:id` → `/events/{id}` */
export function toOpenApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function parameters(spec: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, Json>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, prop] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: prop });
    }
  }
  return out;
}

export function buildOpenApi(routes: readonly RouteSpec[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of routes) {
    if (spec.internal) continue;
    const responses: Record<string, Json> = {};
    for (const [status, doc] of Object.entries(spec.responses)) {
      responses[status] = doc.schema
        ? { description: doc.description, content: { 'application/json': { schema: schemaOf(doc.schema, 'output') } } }
        : { description: doc.description };
    }
    responses.default = {
      description: 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    const op: Json = {
      operationId: `${spec.method}${toOpenApiPath(spec.path).replace(/[{}]/g, '').replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      summary: spec.summary,
      tags: [spec.tag],
      parameters: parameters(spec),
      responses,
      ...(spec.auth !== 'public' ? { security: [{ bearerAuth: [] }] } : {}),
    };
    if (spec.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(spec.body, 'input') } } };
    }
    (paths[toOpenApiPath(spec.path)] ??= {})[spec.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ticket Service',
      version,
      description: `Events, venues, ticket types, prices and live inventory. Error codes: ${Object.keys(ERROR_CODES).join(', ')}.`,
    },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: schemaOf(errorBodySchema, 'output') },
    },
  };
}
