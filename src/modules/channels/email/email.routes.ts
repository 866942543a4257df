import { createHash, type Hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { digestWhileStreaming } from '../../../http/body-digest.js';
import { Strict, Uuid, errorResponses } from '../../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../../http/types.js';
import { emailErrors } from './email.errors.js';
import { plainLabel } from './email.labels.js';
import { getAttachment, getRawSource, replyByEmail, uploadAttachment, uploadContentType } from './email.service.js';

const tags = ['email'];
const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the bytes, as a download' });

/**
 * RFC 6266 Content-Disposition: always "attachment", an ASCII fallback name with anything odd
 * replaced, and the real name percent-encoded in filename* (SECURITY F2: the stored name is only
 * metadata, never a path).
 */
export function contentDisposition(name: string): string {
  const cleaned = plainLabel(name, 500) || 'attachment';
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

const Upload = Type.Object({ id: Uuid, name: Type.String(), size: Type.Integer(), contentType: Type.String() });

export interface EmailRouteOptions {
  /** Largest upload (EMAIL_MAX_UPLOAD_BYTES). */
  maxUploadBytes: number;
}

export function emailRoutes(app: App, server: ServerDeps, opts: EmailRouteOptions): void {
  // The stored checksum of an upload, hashed as its bytes arrive (SECURITY M2: no O(size) step on the
  // event loop once the file is whole).
  const checksums = new WeakMap<FastifyRequest, Hash>();
  // The upload route reads the raw bytes of any content type, so it sits in a context of its own:
  // the other routes keep refusing what is not JSON.
  app.register(async (scope) => {
    const uploads = scope as unknown as App;
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    uploads.post('/email/uploads', {
      config: { minRole: 'agent' },
      // Fastify refuses a Content-Length over the limit before reading a byte, and stops reading a
      // body that turns out longer (SECURITY F4: 413 early, never buffered whole).
      bodyLimit: opts.maxUploadBytes,
      // The file's own type is only metadata: a Content-Type Fastify cannot read (it would answer
      // 415) is taken as application/octet-stream instead.
      onRequest: async (request) => {
        const type = request.headers['content-type'];
        if (type !== undefined && uploadContentType(type) === 'application/octet-stream') request.headers['content-type'] = 'application/octet-stream';
      },
      preParsing: async (request, _reply, payload) => {
        const hash = createHash('sha256');
        checksums.set(request, hash);
        return digestWhileStreaming(payload, hash);
      },
      errorHandler: (error) => {
        throw (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? emailErrors.uploadTooLarge(`Uploads are limited to ${opts.maxUploadBytes} bytes.`)
          : error;
      },
      schema: {
        tags,
        summary: 'Upload a file to attach to an email reply: the body is the file, its name in ?name=, its type in Content-Type',
        params: Strict({ workspaceId: Uuid }),
        querystring: Strict({ name: Type.String({ minLength: 1, maxLength: 255 }) }),
        response: { 201: Upload, ...errorResponses(401, 403, 404, 413, 422) },
      },
    }, async (request, reply) => {
      const content = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const sha256 = Buffer.isBuffer(request.body) ? checksums.get(request)?.digest() : undefined;
      const upload = await uploadAttachment(workspaceDeps(server, request), { name: request.query.name, contentType: request.headers['content-type'], content, sha256 });
      return reply.code(201).send(upload);
    });
  });

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
      tags, summary: 'Reply by email, with optional Cc, attachments and macro actions',
      params: Strict({ workspaceId: Uuid, id: Uuid }),
      body: Strict({
        body: Type.String({ minLength: 1, maxLength: 65536 }),
        html: Type.Optional(Type.String({ minLength: 1, maxLength: 262144 })),
        cc: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 20 })),
        attachmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 10, description: 'ids from POST /email/uploads, by the same caller' })),
        macroId: Type.Optional(Type.String({ format: 'uuid', description: 'the macro the text came from: its status, priority and tag actions are applied after sending' })),
      }),
      response: { 201: Type.Object({ messageId: Uuid }), ...errorResponses(401, 403, 404, 422) },
    },
  }, async (request, reply) => reply.code(201).send(await replyByEmail(workspaceDeps(server, request), request.params.id, request.body)));
}
