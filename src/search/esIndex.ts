/**
 * The Elasticsearch side of search: the client (credentials, TLS for https URLs) and the
 * index design. Readers and the indexer only ever name the alias (ELASTICSEARCH_INDEX);
 * behind it is one versioned index `<alias>-v<timestamp>`, which `ticketctl search
 * reindex` replaces by building a new one and swapping the alias in one atomic request.
 */
import type * as Elasticsearch from '@elastic/elasticsearch';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Config } from '../config.js';

export type EsConfig = NonNullable<Config['search']['elasticsearch']>;

/** How long a search may take before the answer comes from Postgres instead. */
export const SEARCH_TIMEOUT_MS = 3000;
/** How long a bulk write or an index operation may take. */
export const WRITE_TIMEOUT_MS = 30_000;

/**
 * The client library is loaded here, on first use: a pod searching with Postgres alone never
 * loads it (a few hundred modules, undici's HTTP client among them).
 */
function library(): Promise<typeof Elasticsearch> {
  return import('@elastic/elasticsearch');
}

export async function createEsClient(es: EsConfig, options: { requestTimeoutMs?: number } = {}): Promise<Client> {
  const { Client } = await library();
  return new Client({
    node: es.url,
    auth: es.username !== undefined ? { username: es.username, password: es.password ?? '' } : undefined,
    // https: the platform's CA store verifies the server (NODE_EXTRA_CA_CERTS adds a private CA).
    tls: es.url.startsWith('https:') ? { rejectUnauthorized: true } : undefined,
    requestTimeout: options.requestTimeoutMs ?? WRITE_TIMEOUT_MS,
    // Callers decide about retries (search falls back to Postgres, the indexer backs off).
    maxRetries: 0,
    compression: false,
  });
}

/** Stemming analysis for text, a lower-case normalizer for case-insensitive keyword filters. */
export const INDEX_SETTINGS: estypes.IndicesIndexSettings = {
  number_of_shards: 1,
  analysis: {
    analyzer: {
      event_text: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding', 'porter_stem'] },
    },
    normalizer: {
      lowercase: { type: 'custom', filter: ['lowercase'] },
    },
  },
};

/** A keyword (facets), its lower-cased form (case-insensitive filters) and analysed text (matching). */
const keywordWithLowercase: estypes.MappingProperty = {
  type: 'keyword',
  fields: { norm: { type: 'keyword', normalizer: 'lowercase' }, text: { type: 'text', analyzer: 'event_text' } },
};

export const INDEX_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    title: { type: 'text', analyzer: 'event_text', fields: { suggest: { type: 'search_as_you_type' } } },
    description: { type: 'text', analyzer: 'event_text' },
    category: keywordWithLowercase,
    city: keywordWithLowercase,
    status: { type: 'keyword' },
    featured: { type: 'boolean' },
    venue_id: { type: 'keyword' },
    venue_name: { type: 'text', analyzer: 'event_text' },
    location: { type: 'geo_point' },
    start_date: { type: 'date' },
    end_date: { type: 'date' },
    image_url: { type: 'keyword', index: false },
    max_capacity: { type: 'integer' },
    price_from_minor: { type: 'long' },
    currency: { type: 'keyword' },
    cancelled_at: { type: 'date' },
    created_at: { type: 'date' },
    updated_at: { type: 'date' },
  },
};

/** A new versioned index name behind `alias` (sortable by creation). */
export function versionedIndexName(alias: string, now = new Date()): string {
  return `${alias}-v${now.toISOString().replace(/[-:.TZ]/g, '').toLowerCase()}`;
}

export async function createVersionedIndex(client: Client, name: string): Promise<void> {
  await client.indices.create({ index: name, settings: INDEX_SETTINGS, mappings: INDEX_MAPPINGS });
}

/** The indices the alias points at now (none when it does not exist). */
export async function aliasTargets(client: Client, alias: string): Promise<string[]> {
  try {
    return Object.keys(await client.indices.getAlias({ name: alias }));
  } catch (err) {
    if (err instanceof (await library()).errors.ResponseError && err.statusCode === 404) return [];
    throw err;
  }
}

/** Point `alias` at `index` only, in one atomic request (readers never see it point at nothing). */
export async function swapAlias(client: Client, alias: string, index: string, previous: readonly string[]): Promise<void> {
  await client.indices.updateAliases({
    actions: [
      ...previous.filter((p) => p !== index).map((p) => ({ remove: { index: p, alias } })),
      { add: { index, alias, is_write_index: true } },
    ],
  });
}
