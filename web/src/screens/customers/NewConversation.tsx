import { useState } from 'react';
import { useStartOutboundConversation } from '../../api/customers.js';
import { useInboxes } from '../../api/workspace.js';
import { inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { customerErrorMessage } from './messages.js';

/** Write to a customer first: pick an email inbox and one of their addresses; the message is sent like any reply. */
export function NewConversation({ customerId, emails, onDone }: { customerId: string; emails: string[]; onDone: () => void }) {
  const { ws } = useWorkspace();
  const inboxes = useInboxes(ws);
  const start = useStartOutboundConversation(ws);
  // Starting by email is what this form does: the inboxes whose channel is email.
  const emailInboxes = (inboxes.data ?? []).filter((i) => i.channel === 'email');
  const [inboxId, setInboxId] = useState('');
  const [to, setTo] = useState(emails[0] ?? '');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const chosenInbox = inboxId || emailInboxes[0]?.id || '';
  return (
    <form
      className="stack-form new-conversation"
      aria-label="New conversation"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const wrong = !chosenInbox ? 'Choose an email inbox to send from.' : !subject.trim() ? 'Write a subject.' : !body.trim() ? 'Write a message.' : null;
        setProblem(wrong);
        if (wrong) return;
        start.mutate(
          { customerId, inboxId: chosenInbox, to, subject: subject.trim(), body },
          {
            onSuccess: (conversation) => {
              onDone();
              navigate(inboxPath(ws, 'all', conversation.id));
            },
          },
        );
      }}
    >
      <h2>New conversation</h2>
      {inboxes.isSuccess && emailInboxes.length === 0 ? <p className="muted">There is no email inbox to send from yet: an admin adds one in Settings → Inboxes.</p> : null}
      <label>
        From inbox{' '}
        <select aria-label="From inbox" value={chosenInbox} onChange={(e) => setInboxId(e.target.value)}>
          {emailInboxes.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        To{' '}
        <select aria-label="To" value={to} onChange={(e) => setTo(e.target.value)}>
          {emails.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <input aria-label="Subject" placeholder="Subject" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={500} />
      <textarea aria-label="Message" placeholder="Write your message" rows={6} value={body} onChange={(e) => setBody(e.target.value)} />
      {problem || start.error ? (
        <div className="inline-error" role="alert">
          {problem ?? customerErrorMessage(start.error)}
        </div>
      ) : null}
      <div>
        <button type="submit" className="btn btn-primary" disabled={start.isPending}>
          {start.isPending ? 'Sending…' : 'Send'}
        </button>{' '}
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
