/**
 * The internal door's side of the fuzzer: Forward calls with a pod credential (and now and
 * then a forged or missing one), the caller's token of any kind, and a command of every
 * type the one command schema defines (enumerated from that schema, so a new command is
 * fuzzed without touching the suite) with plausible or hostile fields, or no command at
 * all (not JSON, the wrong shape). A call whose caller token can write always carries a
 * poison the schema must refuse, so nothing may be written.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { inventoryCommandSchema } from '../../../actors/inventory/commandSchema.js';
import type { GrpcCall } from './grpc.js';
import { hostileId, hostileJson, notJsonBody, poisoned } from './hostile.js';
import { objectOf, type JsonSchema } from './schemaValues.js';
import type { Credential } from './world.js';

export interface CommandKind {
  readonly type: string;
  readonly schema: JsonSchema;
}

/** Every command type of the schema, with its JSON schema. */
export function commandKinds(): CommandKind[] {
  const json = z.toJSONSchema(inventoryCommandSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const variants = (json.oneOf ?? json.anyOf ?? []) as JsonSchema[];
  return variants.map((schema) => ({ type: String(schema.properties?.type?.const), schema }));
}

export interface PodCredential {
  readonly name: string;
  readonly token: string | undefined;
  readonly valid: boolean;
}

type Poison = 'event' | 'unknown-field' | 'not-json' | 'not-object' | 'type' | 'text-field';

/** Properties whose schema takes a string (ids, text), which a poisoned string must fail. */
function stringProps(schema: JsonSchema): string[] {
  const isString = (s: JsonSchema): boolean => s.type === 'string' || ((s.anyOf ?? []) as JsonSchema[]).some(isString);
  return Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)
    .filter(([name, prop]) => name !== 'type' && isString(prop))
    .map(([name]) => name);
}

export function forwardCall(kind: CommandKind, ids: readonly string[], credentials: readonly Credential[], pods: readonly PodCredential[]): fc.Arbitrary<GrpcCall & { pod: PodCredential }> {
  const texts = stringProps(kind.schema);
  const poisons: Poison[] = ['event', 'unknown-field', 'not-json', 'not-object', 'type', ...(texts.length > 0 ? (['text-field'] as const) : [])];
  return fc.record({ credential: fc.constantFrom(...credentials), pod: fc.constantFrom(...pods) }).chain(({ credential, pod }) => {
    const mustPoison = credential.grpc === 'write' && pod.valid;
    const poison: fc.Arbitrary<Poison | undefined> = mustPoison ? fc.constantFrom(...poisons) : fc.option(fc.constantFrom(...poisons), { freq: 3, nil: undefined });
    return fc
      .record({
        poison,
        eventId: hostileId(ids),
        badEventId: poisoned({ maxLength: 10_000 }),
        command: objectOf(kind.schema, ids, 1),
        notJson: notJsonBody(),
        wrongShape: fc.oneof(fc.constantFrom('null', '42', '[]', '"GetLevels"', '[{"type":"GetLevels"}]'), hostileJson(ids).map((v) => JSON.stringify(v) ?? 'null')),
        unknownKey: fc.tuple(fc.constantFrom('extra', 'admin', 'event_id', 'eventId', 'Type', '__proto__'), hostileJson(ids)),
        badType: fc.oneof(fc.constantFrom(kind.type.toLowerCase(), kind.type.toUpperCase(), `${kind.type} `, `${kind.type}\u0000`), hostileJson(ids)),
        textField: fc.tuple(fc.constantFrom(...(texts.length > 0 ? texts : ['type'])), poisoned({ maxLength: 100_000 })),
      })
      .map((g) => {
        const command: Record<string, unknown> = { ...g.command, type: kind.type };
        let json: string | undefined;
        if (g.poison === 'unknown-field') command[g.unknownKey[0]] = g.unknownKey[1];
        if (g.poison === 'type') command.type = g.badType;
        if (g.poison === 'text-field') command[g.textField[0]] = g.textField[1];
        if (g.poison === 'not-json') json = g.notJson;
        if (g.poison === 'not-object') json = g.wrongShape;
        // `__proto__` as a key must reach the door as JSON text, not as an object's prototype.
        if (g.poison === 'unknown-field' && g.unknownKey[0] === '__proto__') json = JSON.stringify(command).replace(/^\{/, `{"__proto__":${JSON.stringify(g.unknownKey[1]) ?? 'null'},`);
        return {
          request: { event_id: g.poison === 'event' ? g.badEventId : g.eventId, command_json: json ?? JSON.stringify(command) },
          credential,
          pod,
          poisoned: g.poison !== undefined,
        };
      });
  });
}
