import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export async function signToken(
  options: {
    roles?: string[];
    secret?: string;
    /** Seconds since the epoch or a jose time span; null signs a token without `exp`. */
    expiresIn?: string | number | null;
    subject?: string;
    audience?: string;
    issuer?: string;
  } = {},
): Promise<string> {
  const jwt = new SignJWT({ roles: options.roles ?? ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject ?? 'test-admin')
    .setIssuedAt();
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '1h');
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}
