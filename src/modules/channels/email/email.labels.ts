/**
 * The email channel's labels (display names, attachment names) follow the one rule of
 * src/lib/labels.ts, shared with the core attachments module's uploads and downloads.
 */
export { plainLabel } from '../../../lib/labels.js';
