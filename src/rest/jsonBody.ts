/**
 * A response body serialized once and sent as is: cached read models keep one of these
 * per version, so a request pays neither JSON.stringify nor UTF-8 encoding.
 */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export class JsonBody {
  private constructor(readonly bytes: Buffer) {}

  static of(value: unknown): JsonBody {
    return new JsonBody(Buffer.from(JSON.stringify(value)));
  }

  static fromBytes(bytes: Buffer): JsonBody {
    return new JsonBody(bytes);
  }
}
