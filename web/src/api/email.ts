import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client.js';
import { keys } from './keys.js';
import type { EmailUpload } from './types.js';

const w = (ws: string) => `/workspaces/${ws}`;

/**
 * POST /email/uploads?name=: stages one file for an email reply (raw bytes, the file's own
 * Content-Type); the reply then names it in attachmentIds.
 */
export function useUploadEmailAttachment(ws: string) {
  return useMutation({
    mutationFn: (file: File) => api<EmailUpload>(`${w(ws)}/email/uploads`, { method: 'POST', raw: file, query: { name: file.name } }),
  });
}

export interface EmailReplyInput {
  body: string;
  cc?: string[];
  attachmentIds?: string[];
  /** The macro the text came from: the server applies its actions after sending. */
  macroId?: string;
  lastSeenMessageId?: string;
  sendAnyway?: boolean;
}

/** POST /conversations/:id/email-replies: a reply sent as email, with Cc and attachments. */
export function useSendEmailReply(ws: string, conversationId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: EmailReplyInput) =>
      api<{ messageId: string }>(`${w(ws)}/conversations/${conversationId}/email-replies`, {
        method: 'POST',
        body: {
          body: input.body,
          ...(input.cc?.length ? { cc: input.cc } : {}),
          ...(input.attachmentIds?.length ? { attachmentIds: input.attachmentIds } : {}),
          ...(input.macroId ? { macroId: input.macroId } : {}),
          ...(input.lastSeenMessageId ? { lastSeenMessageId: input.lastSeenMessageId } : {}),
          ...(input.sendAnyway ? { sendAnyway: true } : {}),
        },
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.conversations.messages(ws, conversationId) });
      void qc.invalidateQueries({ queryKey: keys.conversations.detail(ws, conversationId), exact: true });
      void qc.invalidateQueries({ queryKey: keys.conversations.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.counts(ws) });
    },
  });
}

/** Splits the Cc field ("a@x.test, b@y.test; c@z.test") into addresses; the server checks each. */
export function parseCc(value: string): string[] {
  return [
    ...new Set(
      value
        .split(/[,;\n]/)
        .map((a) => a.trim())
        .filter(Boolean),
    ),
  ];
}

/** An inbox address or catch-all domain, and whether mail to it is routed yet (SECURITY H2). */
export interface EmailClaim {
  kind: 'address' | 'domain';
  value: string;
  domain: string;
  status: 'pending' | 'verified';
  verifiedAt: string | null;
  verifiedBy: 'existing' | 'link' | 'dns' | 'operator' | null;
  confirmationSentAt: string | null;
  confirmationExpiresAt: string | null;
}

export interface EmailOwnership {
  confirmationEmail: boolean;
  items: EmailClaim[];
  dnsRecords: { domain: string; name: string; value: string; pending: boolean }[];
}

/** GET /inboxes/:id/email/ownership (admin) */
export function useEmailOwnership(ws: string, inboxId: string) {
  return useQuery({
    queryKey: keys.emailOwnership(ws, inboxId),
    queryFn: ({ signal }) => api<EmailOwnership>(`${w(ws)}/inboxes/${inboxId}/email/ownership`, { signal }),
  });
}

/** POST /inboxes/:id/email/confirmations: mails (again) the confirmation link to a pending address. */
export function useSendEmailConfirmation(ws: string, inboxId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (address: string) => api<{ address: string; sentAt: string; expiresAt: string }>(`${w(ws)}/inboxes/${inboxId}/email/confirmations`, { method: 'POST', body: { address } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.emailOwnership(ws, inboxId) }),
  });
}

/** POST /inboxes/:id/email/domain-verifications: checks the domain's TXT record now. */
export function useVerifyEmailDomain(ws: string, inboxId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (domain: string) => api<EmailOwnership>(`${w(ws)}/inboxes/${inboxId}/email/domain-verifications`, { method: 'POST', body: { domain } }),
    onSuccess: (data) => qc.setQueryData(keys.emailOwnership(ws, inboxId), data),
  });
}

/** POST /email/confirmations/preview (public): who asks to receive an address's mail. */
export function usePreviewEmailConfirmation(token: string) {
  return useQuery({
    queryKey: ['email-confirmation', token],
    queryFn: () => api<{ address: string; workspaceName: string; inboxName: string; expiresAt: string }>('/email/confirmations/preview', { method: 'POST', body: { token }, quiet401: true }),
    enabled: token !== '',
    retry: false,
  });
}

/** POST /email/confirmations/accept (public) */
export function useConfirmEmailAddress() {
  return useMutation({
    mutationFn: (token: string) => api<{ address: string; workspaceName: string; inboxName: string }>('/email/confirmations/accept', { method: 'POST', body: { token }, quiet401: true }),
  });
}

/** Where to point an inbox's mail, with this server's values (GET /inboxes/:id/email/receiving, admin). */
export interface EmailReceiving {
  mx: { host: string; smtpPort: number; records: { domain: string; type: 'MX'; priority: number; value: string }[] };
  forwardTo: string;
  imap: { configured: boolean; pollSeconds: number };
}

/** GET /inboxes/:id/email/receiving (admin) */
export function useEmailReceiving(ws: string, inboxId: string) {
  return useQuery({ queryKey: keys.emailReceiving(ws, inboxId), queryFn: ({ signal }) => api<EmailReceiving>(`${w(ws)}/inboxes/${inboxId}/email/receiving`, { signal }), staleTime: 60_000 });
}

/** POST /inboxes/:id/email/smtp-test: sends a test email through the SMTP settings being edited (a masked password is the stored one). */
export function useSendSmtpTest(ws: string, inboxId: string) {
  return useMutation({
    mutationFn: (input: { to: string; smtp?: Record<string, unknown> }) => api<{ ok: true; sentTo: string }>(`${w(ws)}/inboxes/${inboxId}/email/smtp-test`, { method: 'POST', body: input }),
  });
}

/** POST /inboxes/:id/email/imap-test: connects, signs in and opens the folder of the IMAP settings being edited. */
export function useTestImap(ws: string, inboxId: string) {
  return useMutation({
    mutationFn: (input: { imap?: Record<string, unknown> }) => api<{ ok: true; mailbox: string; messages: number }>(`${w(ws)}/inboxes/${inboxId}/email/imap-test`, { method: 'POST', body: input }),
  });
}

/** An inline image an email's HTML names as `cid:<contentId>`, and the stored file it is. */
export interface InlinePart {
  contentId: string;
  attachmentId: string;
}

/**
 * GET /attachments/:id?inline=true for each inline image of one email message, as data: URLs keyed
 * by lower-case Content-ID. The email's HTML is shown in a sandboxed frame with an opaque origin: its
 * requests would carry no session cookie (SameSite) and its CSP allows no URL of ours, so the app reads
 * the files itself (same origin, connect-src 'self') and hands the frame their bytes. The server
 * answers inline only for PNG, JPEG, GIF and WebP whose bytes match their type; anything else is skipped.
 */
export function useInlineImages(ws: string, messageId: string, parts: InlinePart[]) {
  return useQuery({
    queryKey: keys.inlineImages(ws, messageId),
    enabled: parts.length > 0,
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async ({ signal }) => {
      const out: Record<string, string> = {};
      // Bounded (SECURITY E8): at most 50 images of at most 5 MB each are read for one message.
      for (const part of parts.slice(0, 50)) {
        const response = await fetch(`/api/v1${w(ws)}/attachments/${encodeURIComponent(part.attachmentId)}?inline=true`, { credentials: 'same-origin', signal });
        if (!response.ok) continue;
        if (Number(response.headers.get('content-length') ?? 0) > 5_000_000) {
          await response.body?.cancel();
          continue;
        }
        const blob = await response.blob();
        if (blob.size > 5_000_000 || !/^image\/(png|jpeg|gif|webp)$/i.test(blob.type)) continue;
        out[part.contentId.toLowerCase()] = await dataUrlOf(blob);
      }
      return out;
    },
  });
}

function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
