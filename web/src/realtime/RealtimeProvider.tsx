import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from 'react';
import { api } from '../api/client.js';
import { keys } from '../api/keys.js';
import type { Conversation } from '../api/types.js';
import { EventApplier } from './apply.js';
import { TypingThrottle } from './typing.js';
import { RealtimeClient, type ConnectionState, type RealtimeEvent, type Viewer } from './socket.js';

/** Presence and connection state, kept outside React so only the components that read them render. */
class RealtimeStore {
  state: ConnectionState = 'connecting';
  presence = new Map<string, Viewer[]>();
  private listeners = new Set<() => void>();
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  emit() {
    for (const l of this.listeners) l();
  }
}

interface RealtimeContextValue {
  client: RealtimeClient | null;
  store: RealtimeStore;
}

const RealtimeContext = createContext<RealtimeContextValue | null>(null);

export function RealtimeProvider({ ws, currentUserId, children }: { ws: string; currentUserId: string; children: ReactNode }) {
  const qc = useQueryClient();
  // biome-ignore lint/correctness/useExhaustiveDependencies: ws is the store's identity: another workspace starts from an empty presence map and state, never the previous one's
  const store = useMemo(() => new RealtimeStore(), [ws]);
  const clientRef = useRef<RealtimeClient | null>(null);
  const applierRef = useRef<EventApplier | null>(null);

  const client = useMemo(() => {
    // Events arrive in bursts (a macro changes status, tags and adds a message; 20 messages a second
    // in a busy workspace): they are applied a batch at a time (apply.ts), so a burst costs one patch
    // of the caches and at most one refetch per affected query.
    const applier = new EventApplier(qc, ws, currentUserId);
    applierRef.current = applier;
    const pending: Array<{ event: RealtimeEvent; conversation?: Conversation }> = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      applier.apply(pending.splice(0));
    };
    return new RealtimeClient(ws, {
      onEvent: (event, conversation) => {
        pending.push({ event, conversation });
        if (!timer) timer = setTimeout(flush, 100);
      },
      onReset: () => void qc.invalidateQueries({ queryKey: keys.workspace(ws) }),
      onPresence: (conversationId, viewers) => {
        store.presence.set(
          conversationId,
          viewers.filter((v) => v.userId !== currentUserId),
        );
        store.emit();
      },
      onState: (state) => {
        const wasOffline = store.state === 'offline' || store.state === 'limited';
        store.state = state;
        store.emit();
        // Back from offline without a resumable history: refetch what is on screen.
        if (state === 'live' && wasOffline) void qc.invalidateQueries({ queryKey: keys.conversations.all(ws) });
      },
      // The socket learns first when a session ends: ask the API, whose 401 leads back to sign-in.
      onFatal: () => void api('/auth/session').catch(() => undefined),
    });
  }, [ws, qc, store, currentUserId]);

  useEffect(() => {
    clientRef.current = client;
    client.start();
    return () => {
      client.stop();
      applierRef.current?.stop();
    };
  }, [client]);

  const value = useMemo(() => ({ client, store }), [client, store]);
  return <RealtimeContext.Provider value={value}>{children}</RealtimeContext.Provider>;
}

function useRealtimeContext(): RealtimeContextValue {
  const value = useContext(RealtimeContext);
  if (!value) throw new Error('useRealtime outside RealtimeProvider');
  return value;
}

export function useConnectionState(): ConnectionState {
  const { store } = useRealtimeContext();
  return useSyncExternalStore(store.subscribe, () => store.state);
}

const NOBODY: Viewer[] = [];

/** Others viewing (or typing in) a conversation; announces that this tab views it. */
export function usePresence(conversationId: string | null): Viewer[] {
  const { client, store } = useRealtimeContext();
  useEffect(() => {
    client?.view(conversationId);
    return () => client?.view(null);
  }, [client, conversationId]);
  return useSyncExternalStore(store.subscribe, () => (conversationId ? (store.presence.get(conversationId) ?? NOBODY) : NOBODY));
}

/**
 * Reports typing: true on input and again every 3 s while the agent keeps typing (the server forgets
 * it after 6 s), false after 4 s idle, on send, or when the composer goes away.
 */
export function useTypingReporter(conversationId: string): { onInput(): void; stop(): void } {
  const { client } = useRealtimeContext();
  return useMemo(() => {
    const throttle = new TypingThrottle((typing) => client?.typing(conversationId, typing));
    return { onInput: () => throttle.input(), stop: () => throttle.stop() };
  }, [client, conversationId]);
}
