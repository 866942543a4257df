import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useSendMessage } from '../../api/conversations.js';
import { parseCc, useSendEmailReply, useUploadEmailAttachment } from '../../api/email.js';
import { useApplyMacro, useMacros } from '../../api/macros.js';
import type { Conversation, Macro } from '../../api/types.js';
import { InlineError } from '../../components/States.js';
import { bytes } from '../../lib/format.js';
import { useWorkspace } from '../../lib/workspace.js';
import { useTypingReporter } from '../../realtime/RealtimeProvider.js';

export interface ComposerHandle {
  focus(mode: 'reply' | 'note'): void;
}

const draftKey = (id: string, mode: string) => `rapport.draft.${id}.${mode}`;

/**
 * Reply to the customer or write an internal note; macros fill the text. Ctrl/⌘+Enter sends.
 * A reply whose text came from a macro is sent through the macro (apply with send), so the macro's
 * status, priority and tag actions happen with it. On an email conversation the reply can carry Cc
 * and attachments: those go through the email channel's own reply endpoint.
 */
export const Composer = forwardRef<ComposerHandle, { conversation: Conversation }>(function Composer({ conversation }, ref) {
  const { ws } = useWorkspace();
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState(() => sessionStorage.getItem(draftKey(conversation.id, 'reply')) ?? '');
  const [macro, setMacro] = useState<Macro | null>(null);
  const [cc, setCc] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const send = useSendMessage(ws, conversation.id);
  const applyMacro = useApplyMacro(ws, conversation.id);
  const upload = useUploadEmailAttachment(ws);
  const emailReply = useSendEmailReply(ws, conversation.id);
  const typing = useTypingReporter(conversation.id);
  const isEmail = conversation.channel === 'email';

  useImperativeHandle(ref, () => ({
    focus(next) {
      setMode(next);
      // Synchronously: an agent who presses r and types at once must not lose the first letters.
      textarea.current?.focus();
    },
  }));

  useEffect(() => {
    if (text) sessionStorage.setItem(draftKey(conversation.id, mode), text);
    else sessionStorage.removeItem(draftKey(conversation.id, mode));
  }, [text, mode, conversation.id]);
  useEffect(() => () => typing.stop(), [typing]);

  const sendOnce = async (body: string) => {
    const viaEmail = isEmail && mode === 'reply' && (parseCc(cc).length > 0 || files.length > 0);
    if (!viaEmail) {
      if (macro) await applyMacro.mutateAsync({ macroId: macro.id, send: true, type: mode, body });
      else await send.mutateAsync({ type: mode, body });
      return;
    }
    // Upload first: a file the server refuses (too large, wrong type) stops the reply before it is sent.
    const attachmentIds: string[] = [];
    for (const file of files) attachmentIds.push((await upload.mutateAsync(file)).id);
    // The server applies the macro's actions after the email reply, as it does for apply-and-send.
    await emailReply.mutateAsync({ body, cc: parseCc(cc), attachmentIds, macroId: macro?.id });
  };

  const submit = () => {
    const body = text.trim();
    if (!body || sending) return;
    typing.stop();
    setSending(true);
    setError(null);
    sendOnce(body)
      .then(() => {
        setText('');
        setMacro(null);
        setCc('');
        setFiles([]);
        if (fileInput.current) fileInput.current.value = '';
        sessionStorage.removeItem(draftKey(conversation.id, mode));
      })
      .catch((e: unknown) => setError(e))
      .finally(() => setSending(false));
  };

  return (
    <form
      className={`composer composer-${mode}`}
      aria-label="Composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="composer-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'reply'} className={mode === 'reply' ? 'active' : ''} onClick={() => setMode('reply')} title="r">
          Reply
        </button>
        <button type="button" role="tab" aria-selected={mode === 'note'} className={mode === 'note' ? 'active' : ''} onClick={() => setMode('note')} title="n">
          Note
        </button>
        <span className="spacer" />
        <MacroPicker
          conversationId={conversation.id}
          onApplied={(m, body) => {
            setMacro(m);
            setText((t) => (t.trim() ? `${t.trimEnd()}\n\n${body}` : body));
          }}
        />
      </div>
      {isEmail && mode === 'reply' ? (
        <div className="composer-email">
          <label>
            Cc
            <input type="text" aria-label="Cc" placeholder="a@example.com, b@example.com" value={cc} onChange={(e) => setCc(e.target.value)} maxLength={4000} />
          </label>
          <label>
            Attach files
            <input ref={fileInput} type="file" multiple aria-label="Attach files" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
          </label>
          {files.length ? (
            <ul className="composer-files" aria-label="Files to attach">
              {files.map((f, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the list is a snapshot of the file input, replaced whole and never reordered; two picked files may share name, size and date
                <li key={`${f.name}-${i}`} className="badge">
                  {f.name} ({bytes(f.size)})
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {macro ? (
        <div className="muted small composer-macro">
          From macro “{macro.name}”: its actions apply when you send.{' '}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setMacro(null)}>
            Don’t apply
          </button>
        </div>
      ) : null}
      <textarea
        ref={textarea}
        aria-label={mode === 'reply' ? 'Reply to the customer' : 'Internal note'}
        placeholder={mode === 'reply' ? `Reply to ${conversation.customer.name ?? 'the customer'}…` : 'Internal note: only agents see this…'}
        value={text}
        rows={3}
        maxLength={65536}
        onChange={(e) => {
          setText(e.target.value);
          typing.onInput();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            submit();
          }
          if (e.key === 'Escape') textarea.current?.blur();
        }}
      />
      <div className="composer-actions">
        <InlineError error={error} />
        <span className="muted small hide-narrow">Ctrl+Enter to send</span>
        <button type="submit" className="btn btn-primary" disabled={!text.trim() || sending}>
          {sending ? 'Sending…' : mode === 'reply' ? 'Send reply' : 'Add note'}
        </button>
      </div>
    </form>
  );
});

/** Renders the chosen macro for this conversation (a preview: nothing is applied until the reply is sent). */
function MacroPicker({ conversationId, onApplied }: { conversationId: string; onApplied: (macro: Macro, body: string) => void }) {
  const { ws } = useWorkspace();
  const macros = useMacros(ws);
  const apply = useApplyMacro(ws, conversationId);
  if (!macros.data || macros.data.length === 0) return null;
  return (
    <>
      <select
        aria-label="Apply a macro"
        className="macro-picker"
        value=""
        disabled={apply.isPending}
        onChange={(e) => {
          const chosen = macros.data?.find((m) => m.id === e.target.value);
          if (chosen) apply.mutate({ macroId: chosen.id }, { onSuccess: (result) => onApplied(chosen, result.body) });
        }}
      >
        <option value="">Macros…</option>
        {macros.data.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
      <InlineError error={apply.error} />
    </>
  );
}
