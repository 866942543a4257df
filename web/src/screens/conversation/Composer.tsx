import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { replyCollisionOf, useMessages, useSendMessage, type ReplyGuard } from '../../api/conversations.js';
import { parseCc, useSendEmailReply, useUploadEmailAttachment } from '../../api/email.js';
import { useApplyMacro, useMacros } from '../../api/macros.js';
import { useUsers } from '../../api/workspace.js';
import type { Conversation, Macro, Member, Message } from '../../api/types.js';
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
  const [focused, setFocused] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const users = useUsers(ws);
  const mention = mode === 'note' ? mentionAt(text, caret) : null;
  const suggestions = mention && dismissed !== mention.start ? suggest(users.data ?? [], mention.query) : [];
  const fileInput = useRef<HTMLInputElement>(null);
  const send = useSendMessage(ws, conversation.id);
  const applyMacro = useApplyMacro(ws, conversation.id);
  const upload = useUploadEmailAttachment(ws);
  const emailReply = useSendEmailReply(ws, conversation.id);
  const typing = useTypingReporter(conversation.id);
  const isEmail = conversation.channel === 'email';
  // "Traffic cop": the newest message when the agent began this draft. Sending names it, and the server
  // refuses the reply with the messages someone else added after it; the dialog shows them first.
  const thread = useMessages(ws, conversation.id);
  const newest = thread.data?.pages[0]?.items[0]?.id ?? null;
  const [seen, setSeen] = useState<string | null>(null);
  const [collision, setCollision] = useState<Message[] | null>(null);
  useEffect(() => {
    if (text.trim() && !seen && newest) setSeen(newest);
    else if (!text.trim() && seen && !collision) setSeen(null);
  }, [text, seen, newest, collision]);

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

  /** Replaces the `@query` being typed with `@Name ` (the server resolves names against members). */
  const insertMention = (m: Member) => {
    if (!mention) return;
    const next = `${text.slice(0, mention.start)}@${m.name} ${text.slice(caret)}`;
    const at = mention.start + m.name.length + 2;
    setText(next);
    setCaret(at);
    requestAnimationFrame(() => {
      textarea.current?.focus();
      textarea.current?.setSelectionRange(at, at);
    });
  };

  const sendOnce = async (body: string, guard: ReplyGuard) => {
    const viaEmail = isEmail && mode === 'reply' && (parseCc(cc).length > 0 || files.length > 0);
    if (!viaEmail) {
      if (macro) await applyMacro.mutateAsync({ macroId: macro.id, send: true, type: mode, body, ...guard });
      else await send.mutateAsync({ type: mode, body, ...guard });
      return;
    }
    // Upload first: a file the server refuses (too large, wrong type) stops the reply before it is sent.
    const attachmentIds: string[] = [];
    for (const file of files) attachmentIds.push((await upload.mutateAsync(file)).id);
    // The server applies the macro's actions after the email reply, as it does for apply-and-send.
    await emailReply.mutateAsync({ body, cc: parseCc(cc), attachmentIds, macroId: macro?.id, ...guard });
  };

  const submit = (sendAnyway = false) => {
    const body = text.trim();
    if (!body || sending) return;
    typing.stop();
    setSending(true);
    setError(null);
    setCollision(null);
    const guard: ReplyGuard = mode === 'reply' && seen ? { lastSeenMessageId: seen, ...(sendAnyway ? { sendAnyway: true } : {}) } : {};
    sendOnce(body, guard)
      .then(() => {
        setSeen(null);
        setText('');
        setMacro(null);
        setCc('');
        setFiles([]);
        if (fileInput.current) fileInput.current.value = '';
        sessionStorage.removeItem(draftKey(conversation.id, mode));
      })
      .catch((e: unknown) => {
        const newer = replyCollisionOf(e);
        if (newer) {
          setCollision(newer);
          // The thread shows them too (the live update may not have arrived yet).
          void thread.refetch();
        } else setError(e);
      })
      .finally(() => setSending(false));
  };

  /** "Review first": the draft stays; the messages shown count as seen, so the next send goes through unless someone writes again. */
  const reviewFirst = () => {
    const last = collision?.[collision.length - 1];
    if (last) setSeen(last.id);
    setCollision(null);
    requestAnimationFrame(() => textarea.current?.focus());
  };

  const switchTo = (next: 'reply' | 'note') => {
    setMode(next);
    textarea.current?.focus();
  };
  // Compact while nobody writes (one line, no actions), so the thread keeps most of the height; it
  // opens when the agent focuses it (a click, r or n) and stays open while it holds a draft.
  const expanded = focused || Boolean(text.trim()) || sending || Boolean(error) || files.length > 0 || collision !== null || macro !== null;
  return (
    <form
      className={`composer composer-${mode} ${expanded ? 'composer-open' : 'composer-compact'}`}
      aria-label="Composer"
      // Not on a tab or the macro picker: expanding there would move them under the pointer
      // between press and release; a tab opens the box by focusing it once clicked.
      onFocus={(e) => {
        if (!(e.target as Element).closest('.composer-tabs')) setFocused(true);
      }}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="composer-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'reply'} className={mode === 'reply' ? 'active' : ''} onClick={() => switchTo('reply')} title="r">
          Reply
        </button>
        <button type="button" role="tab" aria-selected={mode === 'note'} className={mode === 'note' ? 'active' : ''} onClick={() => switchTo('note')} title="n">
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
      {collision ? <CollisionDialog messages={collision} onSendAnyway={() => submit(true)} onReview={reviewFirst} /> : null}
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
      {suggestions.length ? (
        <ul className="mention-suggestions" aria-label="Mention a teammate">
          {suggestions.map((m, i) => (
            <li key={m.id}>
              <button type="button" className={i === active ? 'active' : ''} aria-current={i === active} onMouseDown={(e) => e.preventDefault()} onClick={() => insertMention(m)}>
                {m.name} <span className="muted small">@{m.email?.split('@')[0]}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <textarea
        ref={textarea}
        aria-label={mode === 'reply' ? 'Reply to the customer' : 'Internal note'}
        placeholder={mode === 'reply' ? `Reply to ${conversation.customer.name ?? 'the customer'}…` : 'Internal note: only agents see this…'}
        value={text}
        rows={expanded ? 4 : 1}
        maxLength={65536}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart);
          setActive(0);
          typing.onInput();
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={(e) => {
          if (suggestions.length) {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length);
              return;
            }
            if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
              e.preventDefault();
              insertMention(suggestions[Math.min(active, suggestions.length - 1)]);
              return;
            }
            if (e.key === 'Escape') {
              e.preventDefault();
              setDismissed(mention?.start ?? null);
              return;
            }
          }
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

/**
 * Someone replied while the agent wrote: nothing was sent. Shows who wrote what (plain text), then
 * "Send anyway" or "Review first" (the draft is kept). Escape reviews.
 */
function CollisionDialog({ messages, onSendAnyway, onReview }: { messages: Message[]; onSendAnyway: () => void; onReview: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const review = useRef(onReview);
  review.current = onReview;
  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        review.current();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
  const customer = messages.some((m) => m.type === 'inbound');
  const agent = messages.some((m) => m.type === 'outbound');
  const who = customer && agent ? 'The customer and another agent' : customer ? 'The customer' : 'Another agent';
  return (
    <div className="overlay">
      <div className="dialog collision-dialog" role="alertdialog" aria-modal="true" aria-labelledby="collision-title" tabIndex={-1} ref={ref}>
        <h2 id="collision-title">{who} replied while you were writing</h2>
        <p className="muted">Your reply was not sent. Read what’s new first:</p>
        <ul className="collision-messages" aria-label="New messages">
          {messages.map((m) => (
            <li key={m.id}>
              <div className="small">
                <strong>{m.author.name ?? (m.type === 'inbound' ? 'Customer' : 'An agent')}</strong> <span className="muted">{new Date(m.createdAt).toLocaleString()}</span>
              </div>
              <div className="message-text">{m.body}</div>
            </li>
          ))}
        </ul>
        <div className="collision-actions">
          <button type="button" className="btn" onClick={onReview}>
            Review first
          </button>
          <button type="button" className="btn btn-primary" onClick={onSendAnyway}>
            Send anyway
          </button>
        </div>
      </div>
    </div>
  );
}

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

/** The `@query` just before the caret in a note, if the agent is typing a mention (the server's rule for where one starts). */
function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(^|[^\p{L}\p{N}._-])@([\p{L}\p{N}._-]*(?: [\p{L}\p{N}._-]*)?)$/u.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2].toLowerCase() };
}

/** Members who may read notes (agent and up) whose name or email starts with what was typed; at most 6. */
function suggest(members: Member[], query: string): Member[] {
  return members
    .filter((m) => m.role !== 'client_viewer')
    .filter(
      (m) =>
        m.name.toLowerCase().startsWith(query) ||
        (m.email ?? '').toLowerCase().startsWith(query) ||
        m.name
          .toLowerCase()
          .split(/\s+/)
          .some((w) => w.startsWith(query)),
    )
    .slice(0, 6);
}
