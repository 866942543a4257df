import { Type } from 'typebox';
import { Strict, Uuid, errorResponses } from '../../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../../http/types.js';
import { getAttachment, getRawSource, replyByEmail } from './email.service.js';

const tags = ['email'];
const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the bytes, as a download' });

/**
 * RFC 6266 Content-Disposition: always "attachment", an ASCII fallback name with anything odd
 * replaced, and the real name percent-encoded in filename* (SECURITY F2: the stored name is only
 * metadata, never a path).
 */
export function contentDisposition(name: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim() || 'attachment';
  const fallback = cleaned.replace(/[^\x20-\x7e]|["\\%/;<>]/g, '_').slice(0, 150);
  const encoded = encodeURIComponent(cleaned.slice(0, 255)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** Headers for every downloaded byte: never rendered, never sniffed, never scripted (F1). */
const downloadHeaders = {
  'content-type': 'application/octet-stream',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
  'cache-control': 'private, no-store',
  'cross-origin-resource-policy': 'same-origin',
};

export function emailRoutes(app: App, server: ServerDeps): void {
  app.get('/email/attachments/:attachmentId', {
    schema: {
      tags, summary: 'Download an email attachment (always as a download)',
      params: Strict({ workspaceId: Uuid, attachmentId: Uuid }),
      response: { 200: Binary, ...errorResponses(401, 404) },
    },
  }, async (request, reply) => {
    const a = await getAttachment(workspaceDeps(server, request), request.params.attachmentId);
    return reply.headers({ ...downloadHeaders, 'content-disposition': contentDisposition(a.filename) }).send(a.content);
  });

  app.get('/email/messages/:messageId/raw', {
    schema: {
      tags, summary: 'Download the original RFC 822 source of an email message',
      params: Strict({ workspaceId: Uuid, messageId: Uuid }),
      response: { 200: Binary, ...errorResponses(401, 404) },
    },
  }, async (request, reply) => {
    const raw = await getRawSource(workspaceDeps(server, request), request.params.messageId);
    return reply.headers({ ...downloadHeaders, 'content-disposition': contentDisposition(`message-${request.params.messageId}.eml`) }).send(raw.content);
  });

  app.post('/conversations/:id/email-replies', {
    schema: {
      tags, summary: 'Reply by email, with optional Cc',
      params: Strict({ workspaceId: Uuid, id: Uuid }),
      body: Strict({
        body: Type.String({ minLength: 1, maxLength: 65536 }),
        html: Type.Optional(Type.String({ minLength: 1, maxLength: 262144 })),
        cc: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 20 })),
      }),
      response: { 201: Type.Object({ messageId: Uuid }), ...errorResponses(401, 403, 404, 422) },
    },
  }, async (request, reply) => reply.code(201).send(await replyByEmail(workspaceDeps(server, request), request.params.id, request.body)));
}
