import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { setUnauthorizedHandler } from './api/client.js';
import { keys } from './api/keys.js';
import { useLogout, useSession } from './api/session.js';
import type { Session } from './api/types.js';
import { ConnectionBanner } from './components/ConnectionBanner.js';
import { ErrorState, Loading } from './components/States.js';
import { ShortcutsOverlay } from './components/ShortcutsOverlay.js';
import { SecurityAlerts } from './components/SecurityAlerts.js';
import { Avatar } from './components/Avatar.js';
import { setNotice } from './lib/notice.js';
import { customersPath, inboxPath, navigate, parseRoute, searchPath, useLocation } from './lib/router.js';
import { useShortcuts } from './lib/shortcuts.js';
import { roleInfo, WorkspaceContext } from './lib/workspace.js';
import { RealtimeProvider, useConnectionState } from './realtime/RealtimeProvider.js';
import type { ConnectionState } from './realtime/socket.js';

const CONNECTION_LABELS: Record<ConnectionState, string> = { live: 'Live', connecting: 'Connecting', offline: 'Offline', limited: 'Paused' };
const CONNECTION_TITLES: Record<ConnectionState, string> = {
  live: 'Live updates on',
  connecting: 'Connecting…',
  offline: 'Live updates off: reconnecting',
  limited: 'Live updates paused: you have too many Rapport tabs or connections open. Close some tabs; this one retries by itself.',
};
import { InboxScreen } from './screens/inbox/InboxScreen.js';
import { LoginScreen } from './screens/login/LoginScreen.js';
import { NotificationsBell } from './screens/notifications/NotificationsBell.js';

// Admin screens are rarely opened: their code loads on first visit, not with the inbox.
const AdminScreen = lazy(() => import('./screens/admin/AdminScreen.js'));
const SearchScreen = lazy(() => import('./screens/search/SearchScreen.js'));
const CustomersScreen = lazy(() => import('./screens/customers/CustomersScreen.js'));
const CustomerProfileScreen = lazy(() => import('./screens/customers/CustomerProfileScreen.js'));
const AcceptInvitationScreen = lazy(() => import('./screens/login/AcceptInvitationScreen.js'));
const ConfirmEmailScreen = lazy(() => import('./screens/login/ConfirmEmailScreen.js'));
const ForgotPasswordScreen = lazy(() => import('./screens/login/ForgotPasswordScreen.js'));
const ResetPasswordScreen = lazy(() => import('./screens/login/ResetPasswordScreen.js'));
const ProfileScreen = lazy(() => import('./screens/profile/ProfileScreen.js'));

export function App() {
  const qc = useQueryClient();
  const session = useSession();
  const { path, search } = useLocation();
  const route = parseRoute(path, search);

  useEffect(() => {
    // Any 401 after sign-in means the session ended (expired, signed out elsewhere, revoked).
    setUnauthorizedHandler(() => {
      if (!qc.getQueryData(keys.session)) return;
      setNotice('Your session has expired. Please sign in again.');
      qc.clear();
      qc.setQueryData(keys.session, null);
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [qc]);

  if (session.isPending) return <Loading label="Starting Rapport…" />;
  if (session.isError) return <ErrorState error={session.error} retry={() => session.refetch()} />;

  // Public: whoever reads the mailbox opens the link, signed in or not.
  if (route.name === 'confirm-email') {
    return (
      <Suspense fallback={<Loading />}>
        <ConfirmEmailScreen token={route.token} />
      </Suspense>
    );
  }
  // Public too: a person who forgot their password is not signed in; a signed-in one may still reset.
  if (route.name === 'forgot-password') {
    return (
      <Suspense fallback={<Loading />}>
        <ForgotPasswordScreen />
      </Suspense>
    );
  }
  if (route.name === 'reset-password') {
    return (
      <Suspense fallback={<Loading />}>
        <ResetPasswordScreen token={route.token} />
      </Suspense>
    );
  }
  if (route.name === 'accept-invitation') {
    return (
      <Suspense fallback={<Loading />}>
        <AcceptInvitationScreen token={route.token} />
      </Suspense>
    );
  }
  const current = session.data;
  if (!current) return <LoginScreen />;
  if (route.name === 'login' || route.name === 'home') return <Redirect session={current} next={route.name === 'login' ? search.get('next') : null} />;

  const membership = current.workspaces.find((w) => w.id === route.ws);
  if (!membership) {
    return (
      <div className="center-page">
        <ErrorState error={new Error('not a member')} />
        <p>This workspace does not exist or you are not a member of it.</p>
        <Redirect session={current} next={null} />
      </div>
    );
  }
  return (
    <WorkspaceShell session={current} ws={route.ws}>
      {route.name === 'admin' ? (
        <Suspense fallback={<Loading />}>
          <AdminScreen section={route.section} item={route.item} />
        </Suspense>
      ) : route.name === 'search' ? (
        <Suspense fallback={<Loading />}>
          <SearchScreen />
        </Suspense>
      ) : route.name === 'customers' ? (
        <Suspense fallback={<Loading />}>
          <CustomersScreen />
        </Suspense>
      ) : route.name === 'profile' ? (
        <Suspense fallback={<Loading />}>
          <ProfileScreen session={current} ws={route.ws} canManageTokens={membership.role === 'owner' || membership.role === 'admin'} />
        </Suspense>
      ) : route.name === 'customer' ? (
        <Suspense fallback={<Loading />}>
          <CustomerProfileScreen customerId={route.customerId} />
        </Suspense>
      ) : (
        <InboxScreen view={route.view} conversationId={route.conversationId} />
      )}
    </WorkspaceShell>
  );
}

function Redirect({ session, next }: { session: Session; next: string | null }) {
  useEffect(() => {
    if (next?.startsWith('/w/')) return navigate(next, { replace: true });
    const first = session.workspaces[0];
    if (first) navigate(inboxPath(first.id, first.role === 'client_viewer' ? 'open' : 'mine'), { replace: true });
  }, [session, next]);
  if (session.workspaces.length === 0) return <div className="center-page">You do not belong to any workspace yet. Ask an admin to invite you.</div>;
  return <Loading />;
}

function WorkspaceShell({ session, ws, children }: { session: Session; ws: string; children: React.ReactNode }) {
  const membership = session.workspaces.find((w) => w.id === ws)!;
  const info = useMemo(() => ({ ws, role: membership.role, user: session.user, ...roleInfo(membership.role) }), [ws, membership.role, session.user]);
  const [help, setHelp] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  useShortcuts({ '?': () => setHelp((h) => !h), '/': () => searchRef.current?.focus() });
  return (
    <WorkspaceContext.Provider value={info}>
      <RealtimeProvider ws={ws} currentUserId={session.user.id}>
        <div className="app">
          <TopBar session={session} ws={ws} onHelp={() => setHelp(true)} searchRef={searchRef} />
          <SecurityAlerts session={session} />
          <ConnectionBanner />
          <main className="app-main">{children}</main>
        </div>
        {help ? <ShortcutsOverlay onClose={() => setHelp(false)} /> : null}
      </RealtimeProvider>
    </WorkspaceContext.Provider>
  );
}

function TopBar({ session, ws, onHelp, searchRef }: { session: Session; ws: string; onHelp: () => void; searchRef: React.RefObject<HTMLInputElement | null> }) {
  const logout = useLogout();
  const state = useConnectionState();
  const role = session.workspaces.find((w) => w.id === ws)?.role;
  const admin = role === 'owner' || role === 'admin';
  return (
    <header className="topbar">
      <a
        className="brand"
        href={inboxPath(ws, 'mine')}
        onClick={(e) => {
          e.preventDefault();
          navigate(inboxPath(ws, role === 'client_viewer' ? 'open' : 'mine'));
        }}
      >
        Rapport
      </a>
      {session.workspaces.length > 1 ? (
        <label className="ws-switcher">
          <span className="sr-only">Workspace</span>
          <select
            aria-label="Workspace"
            value={ws}
            onChange={(e) => {
              const next = session.workspaces.find((w) => w.id === e.target.value)!;
              navigate(inboxPath(next.id, next.role === 'client_viewer' ? 'open' : 'mine'));
            }}
          >
            {session.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <span className="ws-name">{session.workspaces.find((w) => w.id === ws)?.name}</span>
      )}
      <GlobalSearch ws={ws} inputRef={searchRef} />
      <a
        className="btn btn-ghost"
        href={customersPath(ws)}
        onClick={(e) => {
          e.preventDefault();
          navigate(customersPath(ws));
        }}
      >
        Customers
      </a>
      <span className="spacer" />
      <span className={`conn conn-${state}`} title={CONNECTION_TITLES[state]}>
        <span className="dot" aria-hidden="true" />
        <span className="conn-label">{CONNECTION_LABELS[state]}</span>
      </span>
      {role && role !== 'client_viewer' ? <NotificationsBell ws={ws} /> : null}
      {admin ? (
        <a
          className="btn btn-ghost"
          href={`/w/${ws}/admin/users`}
          onClick={(e) => {
            e.preventDefault();
            navigate(`/w/${ws}/admin/users`);
          }}
        >
          Settings
        </a>
      ) : null}
      <button type="button" className="btn btn-ghost hide-narrow" onClick={onHelp} aria-label="Keyboard shortcuts">
        ?
      </button>
      <MeMenu session={session} ws={ws} role={role} />
      {/* On a phone the top bar has no room for it: the name/avatar menu holds Sign out there. */}
      <button
        type="button"
        className="btn btn-ghost hide-narrow"
        onClick={() =>
          logout.mutate(undefined, {
            onSettled: () => navigate('/login', { replace: true }),
          })
        }
      >
        Sign out
      </button>
    </header>
  );
}

/** The person's name and avatar: a menu leading to their profile (name, password), and Sign out. */
function MeMenu({ session, ws, role }: { session: Session; ws: string; role: string | undefined }) {
  const logout = useLogout();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="me-menu" ref={ref}>
      <button
        type="button"
        className="btn btn-ghost me"
        title={`${session.user.email} (${role})`}
        aria-label={`${session.user.name}: your account`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <Avatar name={session.user.name} size={24} />
        <span className="hide-narrow">
          {session.user.name} <small className="role">{role?.replace('_', ' ')}</small>
        </span>
      </button>
      {open ? (
        <div className="me-menu-items" role="menu">
          <a
            role="menuitem"
            href={`/w/${ws}/profile`}
            onClick={(e) => {
              e.preventDefault();
              setOpen(false);
              navigate(`/w/${ws}/profile`);
            }}
          >
            Profile
          </a>
          <button type="button" role="menuitem" onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/login', { replace: true }) })}>
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * The one search box (issue #10): conversations in every status and customers, whatever view is open.
 * Enter opens the results screen; there it keeps the words and filters of the URL.
 */
function GlobalSearch({ ws, inputRef }: { ws: string; inputRef: React.RefObject<HTMLInputElement | null> }) {
  const { path, search } = useLocation();
  const onSearch = parseRoute(path, search).name === 'search';
  const current = onSearch ? (search.get('q') ?? '') : '';
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);
  return (
    <search className="global-search">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const q = text.trim();
          if (!q) return;
          const next = onSearch ? new URLSearchParams(search) : new URLSearchParams();
          next.set('q', q);
          navigate(searchPath(ws, next));
        }}
      >
        <input
          ref={inputRef}
          type="search"
          aria-label="Search everything"
          placeholder="Search everything  /"
          value={text}
          maxLength={200}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
          }}
        />
      </form>
    </search>
  );
}
