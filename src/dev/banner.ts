/** The friendly "how to poke at it" text `npm run dev` prints once the service is up. */

export interface BannerInfo {
  readonly httpUrl: string;
  /** host:port of the gRPC server (plaintext in dev). */
  readonly grpcAddress: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Admin bearer token, or a sentence saying why there is none. */
  readonly token: { readonly value: string; readonly file: string } | { readonly note: string };
  readonly now?: Date;
}

function sampleEvent(now: Date): string {
  const start = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000 + 7 * 86_400_000);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  return JSON.stringify({
    title: 'Dev Launch Party',
    category: 'concerts',
    start_date: start.toISOString(),
    end_date: end.toISOString(),
    description: 'Created from the npm run dev banner',
    featured: false,
  });
}

export function formatBanner(info: BannerInfo): string {
  const url = info.httpUrl;
  const auth = 'value' in info.token ? `-H "Authorization: Bearer ${info.token.value}" ` : '';
  const lines = [
    '',
    '──────────────────────────── Ticket Service (dev) ────────────────────────────',
    `  REST      ${url}`,
    `  gRPC      ${info.grpcAddress} (plaintext; try: grpcurl -plaintext ${info.grpcAddress} list)`,
    `  health    ${url}/health    ready ${url}/ready    metrics ${url}/metrics`,
    `  postgres  ${info.databaseUrl}`,
    `  redis     ${info.redisUrl}`,
    '',
    '  Try:',
    `    curl '${url}/events?limit=3'`,
    `    curl -X POST ${auth}-H 'content-type: application/json' \\`,
    `      -d '${sampleEvent(info.now ?? new Date())}' \\`,
    `      ${url}/events`,
    '',
    'value' in info.token
      ? `  Admin token (12h, also in ${info.token.file}):\n    ${info.token.value}`
      : `  ${info.token.note}`,
    '',
    '  Ctrl-C stops the service, Redis and Postgres (data stays in .data/).',
    '──────────────────────────────────────────────────────────────────────────────',
    '',
  ];
  return lines.join('\n');
}
