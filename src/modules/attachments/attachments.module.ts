import type { RapportModule } from '../module.js';
import { attachmentRoutes } from './attachments.routes.js';
import { attachmentOwnersOf } from './attachments.owners.js';
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
    tasks: (server, modules) => {
      const o = opts();
      const owners = attachmentOwnersOf(modules);
      // Logged once per process: a kind with no module (a plug-in removed, a typo) is kept, not collected.
      const reported = new Set<string>();
      return {
        [COLLECT_TASK]: async () => {
          const { unownedKinds, ...removed } = await collectUnused({ pool: server.pool, clock: server.clock, uploadTtlMs: o.uploadTtlHours * 3_600_000, owners });
          if (removed.uploads || removed.orphans || removed.blobs) server.log.info(removed, 'attachments: removed unused uploads, files of deleted owners and blobs');
          for (const kind of unownedKinds.filter((k) => !reported.has(k))) {
            reported.add(kind);
            server.log.warn({ kind }, 'attachments: no module declares this owner kind; its files are kept');
          }
        },
      };
    },
    // Every hour, at minute 17 (away from the idempotency purge at minute 0).
    crontab: [`17 * * * * ${COLLECT_TASK}`],
  };
}

export const attachmentsModule = createAttachmentsModule();
