import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError } from './api/client.js';
import { conversationCountsQuery, conversationsQuery } from './api/conversations.js';
import { sessionQuery } from './api/session.js';
import { teamsQuery, usersQuery } from './api/workspace.js';
import { App } from './App.js';
import { parseRoute } from './lib/router.js';
import { inboxFilters } from './screens/inbox/InboxScreen.js';
import { statusFilterOf } from './screens/inbox/views.js';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: true,
      // Client errors (401, 403, 404, 422) will not fix themselves: show them at once. A 429 (too
      // many requests in progress for this person, a search paced) passes: try again after a pause.
      retry: (count, error) => {
        if (error instanceof ApiError && error.status === 429) return count < 3;
        return !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2;
      },
      retryDelay: (count, error) => (error instanceof ApiError && error.status === 429 ? 1_000 * 2 ** count : Math.min(1_000 * 2 ** count, 30_000)),
    },
  },
});

// Start the first screen's requests together with the session check instead of after it: the
// workspace and view are in the URL. A signed-out visitor's prefetches just fail quietly (401).
void queryClient.prefetchQuery(sessionQuery);
const route = parseRoute(location.pathname, new URLSearchParams(location.search));
if (route.name === 'inbox') {
  // A saved view's filters come from the server: its list starts once they are read.
  if (!route.view.startsWith('saved:')) void queryClient.prefetchInfiniteQuery(conversationsQuery(route.ws, inboxFilters(route.view, new URLSearchParams(location.search))));
  void queryClient.prefetchQuery(conversationCountsQuery(route.ws, statusFilterOf(route.view, new URLSearchParams(location.search))));
  void queryClient.prefetchQuery(usersQuery(route.ws));
  void queryClient.prefetchQuery(teamsQuery(route.ws));
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
