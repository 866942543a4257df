import { useMutation, useQueryClient } from '@tanstack/react-query';
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
}

/** POST /conversations/:id/email-replies: a reply sent as email, with Cc and attachments. */
export function useSendEmailReply(ws: string, conversationId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: EmailReplyInput) =>
      api<{ messageId: string }>(`${w(ws)}/conversations/${conversationId}/email-replies`, {
        method: 'POST',
        body: { body: input.body, ...(input.cc?.length ? { cc: input.cc } : {}), ...(input.attachmentIds?.length ? { attachmentIds: input.attachmentIds } : {}), ...(input.macroId ? { macroId: input.macroId } : {}) },
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
  return [...new Set(value.split(/[,;\n]/).map((a) => a.trim()).filter(Boolean))];
}
