import type { RapportModule } from '../module.js';
import { attachmentRoutes } from './attachments.routes.js';
import { collectUnused } from './attachments.service.js';
import { loadAttachmentOptions, type AttachmentOptions } from './attachments.settings.js';

/** graphile-worker's crontab admits no dots in task names. */
export const COLLECT_TASK = 'attachments_collect';

export function createAttachmentsModule(overrides: Partial<AttachmentOptions> = {}): RapportModule {
  const opts = () => loadAttachmentOptions(process.env, overrides);
  return {
    name: 'attachments',
    workspaceRoutes: (app, server) => {
      const o = opts();
      attachmentRoutes(app, server, { maxFileBytes: o.maxFileBytes, limits: o });
    },
    tasks: (server) => {
      const o = opts();
      return {
        [COLLECT_TASK]: async () => {
          const removed = await collectUnused({ pool: server.pool, clock: server.clock, uploadTtlMs: o.uploadTtlHours * 3_600_000 });
          if (removed.uploads || removed.blobs) server.log.info(removed, 'attachments: removed unused uploads and blobs');
        },
      };
    },
    // Every hour, at minute 17 (away from the idempotency purge at minute 0).
    crontab: [`17 * * * * ${COLLECT_TASK}`],
  };
}

export const attachmentsModule = createAttachmentsModule();
