import { Type } from 'typebox';
import { Strict, Uuid } from '../../http/schemas.js';

/** The schemas of the attachments routes: they validate, type the handlers and document the API. */
export const AttachmentSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ description: 'the file name, only as a label (never a path)' }),
    size: Type.Integer({ description: 'bytes' }),
    contentType: Type.String({ description: 'the media type the uploader or sender declared; downloads never trust it' }),
  },
  { examples: [{ id: '0b6f5a1e-52c4-4b7e-9d51-3f1f0c2a9e10', name: 'Quote 2026.pdf', size: 40000, contentType: 'application/pdf' }] },
);

export const AttachmentList = Type.Object(
  { items: Type.Array(AttachmentSchema) },
  { examples: [{ items: [{ id: '0b6f5a1e-52c4-4b7e-9d51-3f1f0c2a9e10', name: 'Quote 2026.pdf', size: 40000, contentType: 'application/pdf' }] }] },
);

export const UploadQuery = Strict({ name: Type.String({ minLength: 1, maxLength: 255, description: 'the file name, kept only as a label' }) }, { examples: [{ name: 'Quote 2026.pdf' }] });

export const AttachmentParams = Strict({ workspaceId: Uuid, attachmentId: Uuid });
export const MessageAttachmentsParams = Strict({ workspaceId: Uuid, messageId: Uuid });

export const DownloadQuery = Strict(
  { inline: Type.Optional(Type.Boolean({ description: 'show in the browser instead of downloading: granted only for PNG, JPEG, GIF and WebP images whose bytes are one' })) },
  { examples: [{ inline: true }] },
);

export const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the bytes' });
