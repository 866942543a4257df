import { navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { InboxesScreen } from './inboxes/InboxesScreen.js';
import { InboxSettingsScreen } from './inboxes/InboxSettingsScreen.js';
import { MacrosScreen } from './macros/MacrosScreen.js';
import { TeamsScreen } from './teams/TeamsScreen.js';
import { TokensScreen } from './tokens/TokensScreen.js';
import { UsersScreen } from './users/UsersScreen.js';

const SECTIONS = [
  ['users', 'Users & invitations'],
  ['teams', 'Teams'],
  ['inboxes', 'Inboxes'],
  ['macros', 'Macros'],
  ['tokens', 'API tokens'],
] as const;

/** Workspace settings (owners and admins; the server checks the role on every call too). */
export default function AdminScreen({ section, item = null }: { section: string; item?: string | null }) {
  const { ws, isAdmin } = useWorkspace();
  if (!isAdmin) return <div className="state state-error">Only admins can change workspace settings.</div>;
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label="Settings">
        <a
          href={`/w/${ws}/v/mine`}
          onClick={(e) => {
            e.preventDefault();
            navigate(`/w/${ws}/v/mine`);
          }}
        >
          ← Inbox
        </a>
        {SECTIONS.map(([id, label]) => (
          <a
            key={id}
            href={`/w/${ws}/admin/${id}`}
            className={section === id ? 'active' : ''}
            aria-current={section === id ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/w/${ws}/admin/${id}`);
            }}
          >
            {label}
          </a>
        ))}
      </nav>
      <section className="admin-content">
        {section === 'teams' ? (
          <TeamsScreen />
        ) : section === 'inboxes' ? (
          item ? (
            <InboxSettingsScreen key={item} inboxId={item} />
          ) : (
            <InboxesScreen />
          )
        ) : section === 'macros' ? (
          <MacrosScreen />
        ) : section === 'tokens' ? (
          <TokensScreen />
        ) : (
          <UsersScreen />
        )}
      </section>
    </div>
  );
}
