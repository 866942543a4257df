import { useEffect, useRef, useState } from 'react';
import { useConversation, useUpdateConversation } from '../../api/conversations.js';
import { useUsers } from '../../api/workspace.js';
import { ErrorState, fieldError, InlineError, Loading } from '../../components/States.js';
import { useShortcuts } from '../../lib/shortcuts.js';
import { useWorkspace } from '../../lib/workspace.js';
import { usePresence } from '../../realtime/RealtimeProvider.js';
import { useReadNotificationsOnOpen } from '../notifications/useReadOnOpen.js';
import { Composer, type ComposerHandle } from './Composer.js';
import { Controls } from './Controls.js';
import { CustomerSidebar } from './CustomerSidebar.js';
import { Presence } from './Presence.js';
import { Thread, wakeTime } from './Thread.js';

export function ConversationScreen({ conversationId, onBack, onNext }: { conversationId: string; onBack: () => void; onNext: () => void }) {
  const { ws, user, canWrite, role } = useWorkspace();
  const conversation = useConversation(ws, conversationId);
  const update = useUpdateConversation(ws, conversationId);
  const users = useUsers(ws);
  const viewers = usePresence(conversationId);
  useReadNotificationsOnOpen(ws, conversationId, role !== 'client_viewer');
  const composer = useRef<ComposerHandle>(null);
  const [showCustomer, setShowCustomer] = useState(false);

  useShortcuts({
    r: canWrite && (() => composer.current?.focus('reply')),
    n: canWrite && (() => composer.current?.focus('note')),
    e: canWrite && (() => update.mutate({ status: 'resolved' }, { onSuccess: onNext })),
    a: canWrite && (() => update.mutate({ assigneeId: user.id })),
    Escape: onBack,
  });

  const c = conversation.data;
  const title = c ? `#${c.number} ${c.subject ?? ''} · Rapport` : null;
  useEffect(() => {
    if (title) document.title = title;
  }, [title]);

  if (conversation.isPending) return <Loading label="Opening the conversation…" />;
  if (conversation.isError) return <ErrorState error={conversation.error} retry={() => conversation.refetch()} />;
  const assigneeName = c!.assigneeId ? users.data?.find((u) => u.id === c!.assigneeId)?.name : null;
  const customerName = c!.customer.name ?? c!.customer.email ?? 'Unknown customer';
  return (
    <div className="conversation" data-testid="conversation">
      <header className="conversation-header">
        <button type="button" className="btn btn-ghost back show-narrow" onClick={onBack} aria-label="Back to the list">
          ←
        </button>
        <div className="conversation-title">
          <h1>
            <span className="muted">#{c!.number}</span> {c!.subject ?? '(no subject)'}
          </h1>
          <div className="muted small">
            {customerName} · {c!.channel} · <span className={`status-pill status-${c!.status}`}>{c!.status}</span>
            {c!.status === 'snoozed' && c!.snoozedUntil ? ` until ${wakeTime(c!.snoozedUntil)}` : ''} ·{' '}
            <span className="conversation-assignee">{c!.assigneeId ? (c!.assigneeId === user.id ? 'Assigned to you' : `Assigned to ${assigneeName ?? 'an agent'}`) : 'Unassigned'}</span>
          </div>
        </div>
        <Presence viewers={viewers} />
        <button type="button" className="btn btn-ghost customer-toggle" onClick={() => setShowCustomer((s) => !s)} aria-expanded={showCustomer}>
          Customer
        </button>
      </header>
      <Controls conversation={c!} update={update} />
      {/* A refused tag is said under the tag box (Controls); anything else here. */}
      {fieldError(update.error, 'tags') ? null : <InlineError error={update.error} />}
      <div className={`conversation-body ${showCustomer ? 'show-customer' : ''}`}>
        <div className="thread-column">
          <Thread conversationId={conversationId} />
          {canWrite ? <Composer ref={composer} conversation={c!} /> : <div className="read-only-note">You have read-only access to this workspace.</div>}
        </div>
        <CustomerSidebar customerId={c!.customer.id} currentConversationId={conversationId} />
      </div>
    </div>
  );
}
