import { parse, readSetting } from '../../lib/settings.js';

/** The attachments module's own settings (STYLE habit 6): limits and how long an unused upload lives. */
export const attachmentSettings = {
  maxFileBytes: { env: 'ATTACHMENTS_MAX_FILE_BYTES', description: 'largest file one upload may carry (413 before the body is buffered)', default: 10 * 1024 * 1024, parse: parse.positiveInt },
  maxPerMessage: { env: 'ATTACHMENTS_MAX_PER_MESSAGE', description: 'most files attached to one message', default: 10, parse: parse.positiveInt },
  maxMessageBytes: {
    env: 'ATTACHMENTS_MAX_MESSAGE_BYTES',
    description: 'largest total size of the files attached to one message (mail servers commonly refuse past 25 MB)',
    default: 25 * 1024 * 1024,
    parse: parse.positiveInt,
  },
  maxPendingUploads: {
    env: 'ATTACHMENTS_MAX_PENDING_UPLOADS',
    description: 'uploads one user or API token may hold unsent at a time (SECURITY F4: a quota, not a disk filler)',
    default: 100,
    parse: parse.positiveInt,
  },
  uploadTtlHours: { env: 'ATTACHMENTS_UPLOAD_TTL_HOURS', description: 'how long an upload never attached to anything is kept before the collector removes it', default: 24, parse: parse.positiveInt },
};

export type AttachmentOptions = { [K in keyof typeof attachmentSettings]: ReturnType<(typeof attachmentSettings)[K]['parse']> };

export function loadAttachmentOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AttachmentOptions> = {}): AttachmentOptions {
  const out = {} as AttachmentOptions;
  for (const [key, spec] of Object.entries(attachmentSettings)) (out as Record<string, unknown>)[key] = readSetting<unknown>(spec, env);
  return { ...out, ...overrides };
}

/** The limits a use case checks when files are attached to a message. */
export type AttachmentLimits = Pick<AttachmentOptions, 'maxPerMessage' | 'maxMessageBytes' | 'maxPendingUploads'>;
