import { Type } from 'typebox';
import { Strict, Uuid, errorResponses } from '../../../http/schemas.js';
import { contextOf, type App } from '../../../http/types.js';
import type { Deps } from '../../context.js';
import { ReplyCollisionProblem, ReplyGuard } from '../../conversations/conversations.schemas.js';
import { contentDisposition, downloadHeaders, downloadHeadersFor, uploadRoute } from '../../attachments/attachments.routes.js';
import { downloadAttachment } from '../../attachments/attachments.service.js';
import { visibilityOf } from '../../auth/roles.js';
import type { AttachmentLimits } from '../../attachments/attachments.settings.js';
import { emailAttachmentError, getRawSource, replyByEmail } from './email.service.js';

/** Kept for callers of the email channel's older name; the rule lives in the attachments module. */
export { contentDisposition };

const tags = ['email'];
const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the bytes, as a download' });

export interface EmailRouteOptions {
  /** Largest upload through /email/uploads (EMAIL_MAX_UPLOAD_BYTES). */
  maxUploadBytes: number;
  /** Files per reply, their total size, unsent uploads per person (the attachments module's settings). */
  attachmentLimits: AttachmentLimits;
}

export function emailRoutes(app: App, server: Deps, opts: EmailRouteOptions): void {
  // Uploads and downloads are the attachments module's (POST /uploads, GET /attachments/:id); these
  // two paths stay for the clients written against them, with their email.* error codes.
  uploadRoute(app, server, {
    url: '/email/uploads',
    operationId: 'uploadEmailAttachment',
    tags,
    maxFileBytes: opts.maxUploadBytes,
    limits: opts.attachmentLimits,
    mapError: emailAttachmentError,
    summary: 'Upload a file to attach to an email reply: the body is the file, its name in ?name=, its type in Content-Type',
    description: 'The same as POST /uploads, limited by EMAIL_MAX_UPLOAD_BYTES and answering email.* error codes.',
  });

  app.get(
    '/email/attachments/:attachmentId',
    {
      schema: {
        tags,
        operationId: 'downloadEmailAttachment',
        summary: 'Download an email attachment (always as a download)',
        description: 'The same file as GET /attachments/{attachmentId}, always as a download; an unknown id answers email.attachment_not_found.',
        params: Strict({ workspaceId: Uuid, attachmentId: Uuid }),
        response: { 200: Binary, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const file = await downloadAttachment(contextOf(server, request), request.params.attachmentId, visibilityOf(request.workspace.role)).catch((error: unknown) => {
        throw emailAttachmentError(error);
      });
      return reply.headers(downloadHeadersFor(file, false)).send(file.content);
    },
  );

  app.get(
    '/email/messages/:messageId/raw',
    {
      // The raw source carries Received lines, every recipient (Bcc included) and the inbox's
      // addresses: agents' material, not a client viewer's (found in review).
      config: { minRole: 'agent' },
      schema: {
        tags,
        summary: 'Download the original RFC 822 source of an email message',
        params: Strict({ workspaceId: Uuid, messageId: Uuid }),
        response: { 200: Binary, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const raw = await getRawSource(contextOf(server, request), request.params.messageId);
      return reply.headers({ ...downloadHeaders, 'content-disposition': contentDisposition(`message-${request.params.messageId}.eml`) }).send(raw.content);
    },
  );

  app.post(
    '/conversations/:id/email-replies',
    {
      schema: {
        tags,
        summary: 'Reply by email, with optional Cc, attachments and macro actions',
        params: Strict({ workspaceId: Uuid, id: Uuid }),
        body: Strict({
          body: Type.String({ minLength: 1, maxLength: 65536 }),
          html: Type.Optional(Type.String({ minLength: 1, maxLength: 262144 })),
          cc: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 20 })),
          attachmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 10, description: 'ids from POST /email/uploads, by the same caller' })),
          macroId: Type.Optional(Type.String({ format: 'uuid', description: 'the macro the text came from: its status, priority and tag actions are applied after sending' })),
          ...ReplyGuard,
        }),
        response: { 201: Type.Object({ messageId: Uuid }), ...errorResponses(401, 403, 404, 422), 409: ReplyCollisionProblem },
      },
    },
    async (request, reply) => reply.code(201).send(await replyByEmail(contextOf(server, request), request.params.id, request.body, opts.attachmentLimits)),
  );
}
