import { useMemo } from 'react';
import { useTags } from '../../api/conversations.js';
import type { Counts, SavedView, Team } from '../../api/types.js';
import { inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { formatCount, PRIORITY_VIEWS, STATUS_VIEWS, viewCount, viewTitle } from './views.js';

interface Props {
  view: string;
  counts: Counts | null | undefined;
  teams: Team[] | undefined;
  search: URLSearchParams;
  /** The saved views (mine and shared), listed without counts. */
  saved?: SavedView[];
}

/** The views, by section. Tags come from the server (GET /tags): every agent sees the same list. */
function useSections(teams: Team[] | undefined, view: string, saved: SavedView[] | undefined) {
  const { ws, canWrite } = useWorkspace();
  const tagList = useTags(ws);
  return useMemo(() => {
    const tags = (tagList.data ?? []).map((t) => t.tag);
    if (view.startsWith('tag:') && !tags.includes(view.slice(4))) tags.push(view.slice(4));
    return [
      { title: 'Inbox', views: canWrite ? ['mine', 'unassigned', 'open'] : ['open'] },
      { title: 'Saved views', views: (saved ?? []).map((v) => `saved:${v.id}`) },
      { title: 'Teams', views: (teams ?? []).map((t) => `team:${t.id}`) },
      { title: 'Status', views: STATUS_VIEWS.filter((s) => s !== 'open') as string[] },
      { title: 'Priority', views: PRIORITY_VIEWS.map((p) => `priority:${p}`) },
      { title: 'Tags', views: tags.map((t) => `tag:${t}`) },
    ].filter((s) => s.views.length > 0);
  }, [teams, view, canWrite, tagList.data, saved]);
}

/** A view's name in the nav: a saved view's own name (marked when shared). */
function savedName(v: string, saved: SavedView[] | undefined): string | null {
  if (!v.startsWith('saved:')) return null;
  const found = saved?.find((s) => s.id === v.slice(6));
  return found ? found.name : 'Saved view';
}

export function ViewsNav({ view, counts, teams, search, saved }: Props) {
  const { ws } = useWorkspace();
  const sections = useSections(teams, view, saved);
  const keep = new URLSearchParams(search);
  return (
    <nav className="views-nav" aria-label="Views">
      {sections.map((section) => (
        <div key={section.title} className="views-section">
          <h2>{section.title}</h2>
          <ul>
            {section.views.map((v) => {
              const n = viewCount(v, counts);
              // A saved view carries its own filters: the URL's status filter and search stay behind.
              const href = inboxPath(ws, v, null, v.startsWith('saved:') ? undefined : keep);
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
                    <span className="view-name">
                      {savedName(v, saved) ?? (section.title === 'Priority' ? v.slice(9) : section.title === 'Tags' ? `#${v.slice(4)}` : viewTitle(v, teams))}
                      {saved?.find((s) => `saved:${s.id}` === v)?.shared ? <span className="shared-mark">shared</span> : null}
                    </span>
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
export function ViewSelect({ view, counts, teams, search, saved }: Props) {
  const { ws } = useWorkspace();
  const sections = useSections(teams, view, saved);
  return (
    <select className="view-select show-narrow" aria-label="View" value={view} onChange={(e) => navigate(inboxPath(ws, e.target.value, null, search))}>
      {sections.map((s) => (
        <optgroup key={s.title} label={s.title}>
          {s.views.map((v) => {
            const n = viewCount(v, counts);
            return (
              <option key={v} value={v}>
                {savedName(v, saved) ?? viewTitle(v, teams)}
                {n !== undefined ? ` (${formatCount(n, counts)})` : ''}
              </option>
            );
          })}
        </optgroup>
      ))}
    </select>
  );
}
