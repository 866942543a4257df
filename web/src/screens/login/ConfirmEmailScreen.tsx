import { useConfirmEmailAddress, usePreviewEmailConfirmation } from '../../api/email.js';
import { InlineError } from '../../components/States.js';

/**
 * The page an address confirmation email links to. It says who asks to receive the address's mail
 * before anything happens: confirming is a deliberate click, never the mere opening of the link.
 */
export default function ConfirmEmailScreen({ token }: { token: string }) {
  const preview = usePreviewEmailConfirmation(token);
  const confirm = useConfirmEmailAddress();
  return (
    <div className="login-page">
      <main className="login-card" aria-label="Confirm email address">
        <h1>Confirm an email address</h1>
        {!token || preview.isError ? (
          <p role="alert">This link is not valid. It may have expired, been used already, or been replaced by a newer one.</p>
        ) : preview.isPending ? (
          <p className="muted">Checking the link…</p>
        ) : confirm.isSuccess ? (
          <p role="status">
            Confirmed. Email sent to <strong>{confirm.data.address}</strong> now goes to the inbox “{confirm.data.inboxName}” of the workspace “{confirm.data.workspaceName}”.
          </p>
        ) : (
          <>
            <p>
              The help desk workspace <strong>“{preview.data.workspaceName}”</strong> asks to receive all email sent to <strong>{preview.data.address}</strong>, in its inbox “{preview.data.inboxName}
              ”.
            </p>
            <p className="muted">
              Confirm only if you manage this address and want its mail handled there. If you did not expect this, close this page: nothing changes. If another workspace received this address’s mail
              before, it stops receiving it.
            </p>
            <InlineError error={confirm.error} />
            <button type="button" className="btn btn-primary" disabled={confirm.isPending} onClick={() => confirm.mutate(token)}>
              Confirm {preview.data.address}
            </button>
          </>
        )}
      </main>
    </div>
  );
}
