import { describe, expect, it } from 'vitest';
import { Presence, type PresenceMessage } from './presence.js';

function setup() {
  let t = 0;
  const published: PresenceMessage[] = [];
  const changes: Array<{ conv: string; viewers: string[] }> = [];
  const p = new Presence({
    instanceId: 'me',
    now: () => t,
    refreshMs: 1000,
    ttlMs: 3000,
    typingMs: 500,
    publish: (m) => published.push(m),
    onChange: (_ws, conv, viewers) => changes.push({ conv, viewers: viewers.map((v) => `${v.name}${v.typing ? '*' : ''}`) }),
  });
  return { p, published, changes, advance: (ms: number) => (t += ms) };
}

describe('presence', () => {
  it("forgets a dead instance's viewers once its last message expires", () => {
    const { p, changes, advance } = setup();
    p.receive({ i: 'other', w: 'w', c: 'c1', v: [{ u: 'u2', n: 'Bob', t: false }], ttl: 3000 });
    expect(p.viewers('w', 'c1').map((v) => v.name)).toEqual(['Bob']);
    advance(2999);
    p.tick();
    expect(p.viewers('w', 'c1')).toHaveLength(1);
    advance(2);
    p.tick();
    expect(p.viewers('w', 'c1')).toEqual([]);
    expect(changes.at(-1)).toEqual({ conv: 'c1', viewers: [] });
  });

  it('keeps a live instance alive by re-publishing, merges tabs of one user, and lets typing lapse', () => {
    const { p, published, changes, advance } = setup();
    p.view('tab1', 'w', 'c1', { userId: 'u1', name: 'Alice' });
    p.view('tab2', 'w', 'c1', { userId: 'u1', name: 'Alice' });
    expect(p.viewers('w', 'c1')).toEqual([{ userId: 'u1', name: 'Alice', typing: false }]);
    p.typing('tab2', true);
    expect(changes.at(-1)).toEqual({ conv: 'c1', viewers: ['Alice*'] });
    advance(501);
    p.tick();
    expect(changes.at(-1)).toEqual({ conv: 'c1', viewers: ['Alice'] });
    const before = published.length;
    advance(1000);
    p.tick();
    expect(published.length).toBeGreaterThan(before);
    expect(published.at(-1)).toMatchObject({ i: 'me', w: 'w', c: 'c1', v: [{ u: 'u1', n: 'Alice', t: false }] });
    p.leave('tab1');
    p.leave('tab2');
    expect(published.at(-1)).toMatchObject({ c: 'c1', v: [] });
    expect(changes.at(-1)).toEqual({ conv: 'c1', viewers: [] });
  });

  it('ignores its own messages coming back from the channel', () => {
    const { p } = setup();
    p.receive({ i: 'me', w: 'w', c: 'c1', v: [{ u: 'ghost', n: 'Ghost', t: false }], ttl: 3000 });
    expect(p.viewers('w', 'c1')).toEqual([]);
  });
});
