import type { RouteOptions } from 'fastify';

/**
 * The OpenAPI document as a guide (issue #10): every operation has an id, a description, named
 * response schemas (in `components.schemas`, so a client generator gives them names) and an example
 * of each success answer; operations that need no sign-in say so (`security: []`). Routes keep what
 * they declare; this fills only what a route left out, the same way for every route, so a new route
 * is documented without ceremony (test/api-docs.test.ts checks the result).
 */

type Json = Record<string, any>;

const ROLE_WORDS: Record<string, string> = {
  client_viewer: 'any member of the workspace (client viewers included)',
  agent: 'an agent or a higher role',
  supervisor: 'a supervisor, an admin or the owner',
  admin: 'an admin or the owner',
  owner: 'the owner',
};

const pascal = (words: string[]) => words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

/** `GET /api/v1/workspaces/:workspaceId/conversations/:id/messages` → `getConversationsMessages`: the method and the path's words. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '')
    .replace(/^workspaces\/:workspaceId\/?/, '')
    .split('/')
    .filter((p) => p && !p.startsWith(':') && !p.startsWith('{'))
    .flatMap((p) => p.split(/[-_.]/));
  // One item of a collection: `getConversationsById` beside the list's `getConversations`.
  const item = /\/(:|\{)[^/]+\}?$/.test(url) ? 'ById' : '';
  return method.toLowerCase() + pascal(words.length ? words : ['workspace']) + item;
}

/** swagger `transform`: per route, before the document is built. */
export function documentRoute({ schema, url, route }: { schema: Json; url: string; route: RouteOptions }): { schema: Json; url: string } {
  if (!schema || schema.hide) return { schema, url };
  const method = (Array.isArray(route.method) ? route.method[0] : route.method) as string;
  const config = (route.config ?? {}) as { public?: boolean };
  const next: Json = { ...schema };
  next.operationId ??= operationIdOf(method, url);
  if (!next.description) {
    const who = config.public
      ? 'Answers without signing in.'
      : next['x-min-role']
        ? `Needs ${ROLE_WORDS[next['x-min-role']] ?? next['x-min-role']} (a signed-in member, or an API token of that role).`
        : 'Needs a signed-in user (session cookie with X-CSRF-Token on writes) or an API token.';
    const summary = String(next.summary ?? '').trim();
    next.description = `${summary}${summary && !/[.!?]$/.test(summary) ? '.' : ''} ${who} Errors are application/problem+json with a stable \`code\`.`.trim();
  }
  if (config.public) next.security = [];
  return { schema: next, url };
}

/** A plausible value for a schema: its own example first, else one made from its type and format. */
export function sampleOf(schema: Json | undefined, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return sampleOf(branches.find((b: Json) => b.type !== 'null') ?? branches[0], depth + 1);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s: Json) => sampleOf(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type ?? (schema.properties ? 'object' : undefined)) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Json>).map(([k, s]) => [k, sampleOf(s, depth + 1)]));
    case 'array':
      return [sampleOf(schema.items, depth + 1)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      switch (schema.format) {
        case 'uuid':
          return '6f1c2b9e-4a3d-4f8e-9b2a-1c5d7e9f0a12';
        case 'date-time':
          return '2026-12-01T09:30:00.000Z';
        case 'date':
          return '2026-12-01';
        case 'email':
          return 'ana@example.com';
        case 'uri':
        case 'url':
          return 'https://rapport.example.com/';
        default:
          return 'text';
      }
    default:
      return null;
  }
}

const JSON_TYPES = /json/;

/**
 * swagger `transformObject`: response schemas move to `components.schemas` under a name (the
 * schema's `title` or `$id`, "Problem" for the problem details, else the operation's and status's),
 * one entry for identical schemas; a JSON success answer without an example gets one from its schema.
 */
export function documentObject(built: Json): Json {
  // A copy: the route schemas inside are the ones the validators use, and are renamed below.
  const doc: Json = vendorKeywords(structuredClone(built));
  doc.components ??= {};
  doc.components.schemas ??= {};
  const schemas: Json = doc.components.schemas;
  const byShape = new Map<string, string>();
  const nameFor = (schema: Json, fallback: string) => {
    const shape = JSON.stringify(schema);
    const known = byShape.get(shape);
    if (known) return known;
    let name = String(schema.title ?? schema.$id ?? (schema.description === 'RFC 9457 problem details' ? 'Problem' : fallback)).replace(/[^A-Za-z0-9_]/g, '');
    for (let n = 2; schemas[name] && JSON.stringify(schemas[name]) !== shape; n++) name = `${name.replace(/\d+$/, '')}${n}`;
    schemas[name] = schema;
    byShape.set(shape, name);
    return name;
  };
  for (const item of Object.values((doc.paths ?? {}) as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const base = pascal([String(op.operationId ?? method)]);
      for (const [status, response] of Object.entries(op.responses as Json)) {
        for (const [type, media] of Object.entries((response.content ?? {}) as Json)) {
          const schema = media.schema as Json | undefined;
          if (!schema || schema.$ref) continue;
          if (status.startsWith('2') && JSON_TYPES.test(type) && media.example === undefined && media.examples === undefined) media.example = sampleOf(schema);
          media.schema = { $ref: `#/components/schemas/${nameFor(schema, `${base}${status === '200' ? '' : status}Response`)}` };
        }
      }
    }
  }
  return doc;
}

/**
 * `errorMessage` (our sentence for a refused value, src/http/validation.ts) is no JSON Schema keyword:
 * the document carries it as the extension `x-errorMessage`, so standard OpenAPI linters and client
 * generators read the schema as it is.
 */
function vendorKeywords(node: Json): Json {
  if (Array.isArray(node)) return node.map(vendorKeywords);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k === 'errorMessage' ? 'x-errorMessage' : k, vendorKeywords(v)]));
}
