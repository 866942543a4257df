import { createHash, type Hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { digestWhileStreaming } from '../../http/body-digest.js';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import type { Deps } from '../context.js';
import { visibilityOf } from '../auth/roles.js';
import { plainLabel } from '../../lib/labels.js';
import { attachmentErrors } from './attachments.errors.js';
import { AttachmentList, AttachmentParams, AttachmentSchema, Binary, DownloadQuery, MessageAttachmentsParams, UploadQuery } from './attachments.schemas.js';
import { downloadAttachment, listMessageAttachments, mediaTypeOf, uploadFile } from './attachments.service.js';
import type { AttachmentLimits } from './attachments.settings.js';

const tags = ['attachments'];

/**
 * RFC 6266 Content-Disposition: an ASCII fallback name with anything odd replaced, and the real
 * name percent-encoded in filename* (RFC 8187). SECURITY F2: the stored name is only metadata,
 * never a path, and cannot break out of the header.
 */
export function contentDisposition(name: string, disposition: 'attachment' | 'inline' = 'attachment'): string {
  const cleaned = plainLabel(name, 500) || 'attachment';
  const fallback = cleaned.replace(/[^\x20-\x7e]|["\\%/;<>]/g, '_').slice(0, 150);
  const encoded = encodeURIComponent(cleaned.slice(0, 255)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Headers for every downloaded byte (SECURITY F1): never sniffed, never scripted (a sandboxing CSP
 * with nothing allowed: an HTML or SVG file opened anyway runs no script and loads nothing), never
 * cached by a shared cache, never embedded by another site.
 */
export const downloadHeaders = {
  'content-type': 'application/octet-stream',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
  'cache-control': 'private, no-store',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The only files ever shown inline: raster images, each recognised by its own signature rather than
 * by the declared type, so an SVG, an HTML page or a script declared "image/png" stays a download.
 */
const INLINE_IMAGES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** The headers of one download: inline only when asked for and the bytes are an allowed raster image. */
export function downloadHeadersFor(file: { name: string; contentType: string; content: Buffer }, wantInline: boolean): Record<string, string> {
  const check = INLINE_IMAGES[file.contentType];
  if (wantInline && check?.(file.content)) {
    return { ...downloadHeaders, 'content-type': file.contentType, 'content-disposition': contentDisposition(file.name, 'inline') };
  }
  return { ...downloadHeaders, 'content-disposition': contentDisposition(file.name) };
}

export interface UploadRouteOptions {
  url: string;
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  maxFileBytes: number;
  limits: AttachmentLimits;
  /** Lets an older route keep its own error codes (the email channel's /email/uploads). */
  mapError?: (error: unknown) => unknown;
}

/**
 * An upload route: the body is the file (any content type), its name in ?name=. It sits in a
 * context of its own so the other routes keep refusing what is not JSON.
 */
export function uploadRoute(app: App, server: Deps, opts: UploadRouteOptions): void {
  const mapError = opts.mapError ?? ((e: unknown) => e);
  // The stored checksum, hashed as the bytes arrive (SECURITY M2: no O(size) step on the event loop
  // once the file is whole).
  const checksums = new WeakMap<FastifyRequest, Hash>();
  app.register(async (scope) => {
    const uploads = scope as unknown as App;
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    uploads.post(
      opts.url,
      {
        config: { minRole: 'agent' },
        // Fastify refuses a Content-Length over the limit before reading a byte, and stops reading a
        // body that turns out longer (SECURITY F4: 413 early, never buffered whole).
        bodyLimit: opts.maxFileBytes,
        // The file's own type is only metadata: a Content-Type Fastify cannot read (it would answer
        // 415) is taken as application/octet-stream instead.
        onRequest: async (request) => {
          const type = request.headers['content-type'];
          if (type !== undefined && mediaTypeOf(type) === 'application/octet-stream') request.headers['content-type'] = 'application/octet-stream';
        },
        preParsing: async (request, _reply, payload) => {
          const hash = createHash('sha256');
          checksums.set(request, hash);
          return digestWhileStreaming(payload, hash);
        },
        errorHandler: (error) => {
          throw (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? mapError(attachmentErrors.fileTooLarge(`Uploads are limited to ${opts.maxFileBytes} bytes.`)) : error;
        },
        schema: {
          tags: opts.tags,
          operationId: opts.operationId,
          summary: opts.summary,
          description: opts.description,
          params: WorkspaceParams,
          querystring: UploadQuery,
          response: { 201: AttachmentSchema, ...errorResponses(401, 403, 404, 413, 422, 429) },
        },
      },
      async (request, reply) => {
        const content = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const sha256 = Buffer.isBuffer(request.body) ? checksums.get(request)?.digest() : undefined;
        try {
          const upload = await uploadFile(contextOf(server, request), { name: request.query.name, contentType: request.headers['content-type'], content, sha256 }, opts.limits);
          return reply.code(201).send(upload);
        } catch (error) {
          throw mapError(error);
        }
      },
    );
  });
}

export interface AttachmentRouteOptions {
  maxFileBytes: number;
  limits: AttachmentLimits;
}

/** Uploads, a message's files, and the one download route every channel's files go through. */
export function attachmentRoutes(app: App, server: Deps, opts: AttachmentRouteOptions): void {
  uploadRoute(app, server, {
    url: '/uploads',
    operationId: 'uploadFile',
    tags,
    maxFileBytes: opts.maxFileBytes,
    limits: opts.limits,
    summary: 'Upload a file to send later: the body is the file, its name in ?name=, its type in Content-Type',
    description:
      'The file is kept for you alone until a message you send names its id (email replies: attachmentIds); ' +
      `unsent uploads are removed after ATTACHMENTS_UPLOAD_TTL_HOURS. A body over ${opts.maxFileBytes} bytes is refused with 413 before it is read.`,
  });

  app.get(
    '/messages/:messageId/attachments',
    {
      schema: {
        tags,
        operationId: 'listMessageAttachments',
        summary: 'The files of a conversation message, in order',
        description: "Inbound files (an email's attachments) and the uploads an agent sent with it. Download each with GET /attachments/{attachmentId}.",
        params: MessageAttachmentsParams,
        response: { 200: AttachmentList, ...errorResponses(401, 404) },
      },
    },
    async (request) => listMessageAttachments(contextOf(server, request), request.params.messageId, visibilityOf(request.workspace.role)),
  );

  app.get(
    '/attachments/:attachmentId',
    {
      schema: {
        tags,
        operationId: 'downloadAttachment',
        summary: 'Download a file (as a download, or inline for a raster image)',
        description:
          'Always Content-Disposition: attachment with an RFC 6266 file name, nosniff and a sandboxing CSP; ' +
          '?inline=true shows PNG, JPEG, GIF and WebP images whose bytes match their type, nothing else. ' +
          "Another workspace's file, and another person's unsent upload, answer 404 like a missing one.",
        params: AttachmentParams,
        querystring: DownloadQuery,
        response: { 200: Binary, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const file = await downloadAttachment(contextOf(server, request), request.params.attachmentId, visibilityOf(request.workspace.role));
      return reply.headers(downloadHeadersFor(file, request.query.inline === true)).send(file.content);
    },
  );
}
