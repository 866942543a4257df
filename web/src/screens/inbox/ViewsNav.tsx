import { useMemo } from 'react';
import { useTags } from '../../api/conversations.js';
import type { Counts, Team } from '../../api/types.js';
import { inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { formatCount, PRIORITY_VIEWS, STATUS_VIEWS, viewCount, viewTitle } from './views.js';

interface Props {
  view: string;
  counts: Counts | null | undefined;
  teams: Team[] | undefined;
  search: URLSearchParams;
}

/** The views, by section. Tags come from the server (GET /tags): every agent sees the same list. */
function useSections(teams: Team[] | undefined, view: string) {
  const { ws, canWrite } = useWorkspace();
  const tagList = useTags(ws);
  return useMemo(() => {
    const tags = (tagList.data ?? []).map((t) => t.tag);
    if (view.startsWith('tag:') && !tags.includes(view.slice(4))) tags.push(view.slice(4));
    return [
      { title: 'Inbox', views: canWrite ? ['mine', 'unassigned', 'open'] : ['open'] },
      { title: 'Teams', views: (teams ?? []).map((t) => `team:${t.id}`) },
      { title: 'Status', views: STATUS_VIEWS.filter((s) => s !== 'open') as string[] },
      { title: 'Priority', views: PRIORITY_VIEWS.map((p) => `priority:${p}`) },
      { title: 'Tags', views: tags.map((t) => `tag:${t}`) },
    ].filter((s) => s.views.length > 0);
  }, [teams, view, canWrite, tagList.data]);
}

export function ViewsNav({ view, counts, teams, search }: Props) {
  const { ws } = useWorkspace();
  const sections = useSections(teams, view);
  const keep = new URLSearchParams(search);
  return (
    <nav className="views-nav" aria-label="Views">
      {sections.map((section) => (
        <div key={section.title} className="views-section">
          <h2>{section.title}</h2>
          <ul>
            {section.views.map((v) => {
              const n = viewCount(v, counts);
              const href = inboxPath(ws, v, null, keep);
              return (
                <li key={v}>
                  <a
                    href={href}
                    className={v === view ? 'active' : ''}
                    aria-current={v === view ? 'page' : undefined}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(href);
                    }}
                  >
                    <span className="view-name">{section.title === 'Priority' ? v.slice(9) : section.title === 'Tags' ? `#${v.slice(4)}` : viewTitle(v, teams)}</span>
                    {n !== undefined ? (
                      <span className="count" data-testid={`count-${v}`}>
                        {formatCount(n, counts)}
                      </span>
                    ) : null}
                  </a>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}

/** The same views as one select, for narrow screens. */
export function ViewSelect({ view, counts, teams, search }: Props) {
  const { ws } = useWorkspace();
  const sections = useSections(teams, view);
  return (
    <select className="view-select show-narrow" aria-label="View" value={view} onChange={(e) => navigate(inboxPath(ws, e.target.value, null, search))}>
      {sections.map((s) => (
        <optgroup key={s.title} label={s.title}>
          {s.views.map((v) => {
            const n = viewCount(v, counts);
            return (
              <option key={v} value={v}>
                {viewTitle(v, teams)}
                {n !== undefined ? ` (${formatCount(n, counts)})` : ''}
              </option>
            );
          })}
        </optgroup>
      ))}
    </select>
  );
}
