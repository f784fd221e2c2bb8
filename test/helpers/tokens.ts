import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export async function signToken(
  options: { roles?: string[]; secret?: string; expiresIn?: string | number; subject?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({ roles: options.roles ?? ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject ?? 'test-admin')
    .setIssuedAt();
  jwt.setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}
