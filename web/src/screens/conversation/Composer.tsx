import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useSendMessage } from '../../api/conversations.js';
import { useApplyMacro, useMacros } from '../../api/macros.js';
import type { Conversation } from '../../api/types.js';
import { InlineError } from '../../components/States.js';
import { useWorkspace } from '../../lib/workspace.js';
import { useTypingReporter } from '../../realtime/RealtimeProvider.js';

export interface ComposerHandle {
  focus(mode: 'reply' | 'note'): void;
}

const draftKey = (id: string, mode: string) => `rapport.draft.${id}.${mode}`;

/** Reply to the customer or write an internal note; macros fill the text. Ctrl/⌘+Enter sends. */
export const Composer = forwardRef<ComposerHandle, { conversation: Conversation }>(function Composer({ conversation }, ref) {
  const { ws } = useWorkspace();
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState(() => sessionStorage.getItem(draftKey(conversation.id, 'reply')) ?? '');
  const textarea = useRef<HTMLTextAreaElement>(null);
  const send = useSendMessage(ws, conversation.id);
  const typing = useTypingReporter(conversation.id);

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

  const submit = () => {
    const body = text.trim();
    if (!body || send.isPending) return;
    typing.stop();
    send.mutate(
      { type: mode, body },
      {
        onSuccess: () => {
          setText('');
          sessionStorage.removeItem(draftKey(conversation.id, mode));
        },
      },
    );
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
        <MacroPicker conversationId={conversation.id} onBody={(body) => setText((t) => (t.trim() ? `${t.trimEnd()}\n\n${body}` : body))} />
      </div>
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
        <InlineError error={send.error} />
        <span className="muted small hide-narrow">Ctrl+Enter to send</span>
        <button type="submit" className="btn btn-primary" disabled={!text.trim() || send.isPending}>
          {send.isPending ? 'Sending…' : mode === 'reply' ? 'Send reply' : 'Add note'}
        </button>
      </div>
    </form>
  );
});

function MacroPicker({ conversationId, onBody }: { conversationId: string; onBody: (body: string) => void }) {
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
          const macroId = e.target.value;
          if (macroId) apply.mutate({ macroId }, { onSuccess: (result) => onBody(result.body) });
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
