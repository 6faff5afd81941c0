// Builds docs/asyncapi.json (AsyncAPI 3.0): the three sockets, every frame both ways, from src/protocol/messages.ts.
import { schemasOf } from './schemas.js';
import type { Schema } from './schemas.js';

/** The sockets: path, role, and the messages.ts unions of what the client sends and what the server sends. */
export const SOCKETS = [
  { name: 'driver', address: '/v1/driver/ws', clientFrames: 'DriverClientFrame', serverFrames: 'DriverServerFrame' },
  { name: 'rider', address: '/v1/rider/ws', clientFrames: 'RiderClientFrame', serverFrames: 'RiderServerFrame' },
  { name: 'ops', address: '/v1/ops/ws', clientFrames: 'OpsClientFrame', serverFrames: 'OpsServerFrame' },
] as const;

const ref = (kind: string, name: string): Schema => ({ $ref: `#/components/${kind}/${name}` });

/** Members of a union schema (`anyOf` of refs), by name; a single type is a union of one. */
function members(schemas: Record<string, Schema>, union: string): string[] {
  const s = schemas[union];
  if (!s) throw new Error(`messages.ts has no type ${union}`);
  const list = (s.anyOf as Schema[] | undefined) ?? [s];
  return list.map((m) => {
    const r = m.$ref;
    if (typeof r !== 'string') throw new Error(`${union}: every member must be a named interface`);
    return r.slice(r.lastIndexOf('/') + 1);
  });
}

/** The `t` values a frame schema allows (its `t` property's const or enum). */
function typesOf(s: Schema): string[] {
  const t = (s.properties as Record<string, Schema> | undefined)?.t;
  if (!t) throw new Error('a frame type must declare `t`');
  return t.const !== undefined ? [String(t.const)] : (t.enum as string[]);
}

export function buildAsyncApi(root: string, version: string): Schema {
  const schemas = schemasOf(root, 'src/protocol/messages.ts', 'draft-07', SOCKETS.flatMap((s) => [s.clientFrames, s.serverFrames]));
  const messages: Record<string, Schema> = {};
  const channels: Record<string, Schema> = {};
  const operations: Record<string, Schema> = {};
  for (const sock of SOCKETS) {
    const chanMessages: Record<string, Schema> = {};
    const ops = [
      // The document describes the server: it receives what clients send and sends the rest.
      { id: `${sock.name}ClientFrames`, action: 'receive', union: sock.clientFrames, summary: `Frames a ${sock.name} client sends` },
      { id: `${sock.name}ServerFrames`, action: 'send', union: sock.serverFrames, summary: `Frames the server sends to a ${sock.name} client` },
    ];
    for (const op of ops) {
      const names = members(schemas, op.union);
      for (const n of names) {
        messages[n] ??= {
          name: n,
          title: `t: ${typesOf(schemas[n]!).join(' | ')}`,
          summary: String(schemas[n]!.description ?? ''),
          contentType: 'application/msgpack',
          payload: ref('schemas', n),
        };
        chanMessages[n] = ref('messages', n);
      }
      operations[op.id] = {
        action: op.action,
        channel: { $ref: `#/channels/${sock.name}` },
        summary: op.summary,
        messages: names.map((n) => ({ $ref: `#/channels/${sock.name}/messages/${n}` })),
      };
    }
    channels[sock.name] = {
      address: sock.address,
      title: `${sock.name} socket`,
      description: `WebSocket of role \`${sock.name}\`: one binary frame holds one msgpack map whose \`t\` names the message (docs/protocol.md).`,
      messages: chanMessages,
      bindings: { ws: { method: 'GET', query: { type: 'object', properties: { token: { type: 'string', description: 'The JWT, for browsers; an Authorization header wins.' } } }, bindingVersion: '0.1.0' } },
    };
  }
  const sortedMessages: Record<string, Schema> = {};
  for (const n of Object.keys(messages).sort()) sortedMessages[n] = messages[n]!;
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'taxiway WebSocket protocol',
      version,
      description: [
        'The three sockets of taxiway v1 and every frame, both ways. The prose contract, with the rules these',
        'schemas cannot say (ordering, limits, close codes), is docs/protocol.md.',
        'Frames are msgpack maps; the schemas describe them decoded. Every time field is an integer of ms since',
        'the Unix epoch, sent by the server as a msgpack int64 (decode it as a number: it fits in 2^53).',
        'Objects are closed (additionalProperties: false) so the server\'s tests catch an undocumented field;',
        'clients must still ignore fields and message types they do not know, since v1 only grows.',
        'Generated from the frame types of src/protocol/messages.ts by `npm run specs`: do not edit by hand.',
      ].join(' '),
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/msgpack',
    servers: {
      local: { host: 'localhost:8080', protocol: 'ws', description: 'A node; any node of a cluster serves every socket.', security: [ref('securitySchemes', 'bearer'), ref('securitySchemes', 'queryToken')] },
    },
    channels,
    operations,
    components: {
      schemas,
      messages: sortedMessages,
      securitySchemes: {
        bearer: { type: 'httpApiKey', name: 'Authorization', in: 'header', description: '`Bearer <jwt>` on the upgrade request; the token\'s role must match the socket.' },
        queryToken: { type: 'httpApiKey', name: 'token', in: 'query', description: '`?token=<jwt>`, for browsers.' },
      },
    },
  };
}
