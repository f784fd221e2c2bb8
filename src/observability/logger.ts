import { pino, type Logger } from 'pino';

/** Paths whose values never reach a log line (tokens, passwords, signing keys). */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'jwtSecret',
  '*.jwtSecret',
  'ticketSigningKeyPem',
  'config.database.url',
];

/** The service's logger: JSON lines to stdout, or to `destination` (benchmarks measure logging without printing it). */
export function createLogger(level: string, name = 'ticket-service', destination?: pino.DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Strip the password from a connection URL before logging or printing it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export type { Logger };
