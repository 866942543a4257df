import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../../../test/helpers.js';
import { withSystem } from '../../db/tenancy.js';
import { seedDemo } from './demo.seed.js';

let rapport: TestServer;
beforeAll(async () => {
  rapport = await startTestServer({ config: { adminEmail: 'first@demo.test' } });
});
afterAll(async () => rapport?.stop());

const counts = () =>
  withSystem(
    rapport.pool,
    async (tx) =>
      (
        await tx.query<{ users: number; workspaces: number; conversations: number }>(
          `select (select count(*)::int from users) as users, (select count(*)::int from workspaces) as workspaces,
          (select count(*)::int from conversations) as conversations`,
        )
      ).rows[0],
  );

describe('the demo seed on a first start', () => {
  it('is all or nothing: a seed stopped half-way leaves nothing, and the next start seeds and prints a password that works', async () => {
    // The seed fails when it reaches its teams, after the owner and the workspace exist.
    await rapport.pool.query(`create function demo_seed_fails() returns trigger language plpgsql as $$ begin raise exception 'stopped half-way'; end $$`);
    await rapport.pool.query('create trigger demo_seed_fails before insert on teams for each row execute function demo_seed_fails()');
    await expect(seedDemo(rapport.server)).rejects.toThrow(/stopped half-way/);
    expect(await counts()).toEqual({ users: 0, workspaces: 0, conversations: 0 });

    await rapport.pool.query('drop trigger demo_seed_fails on teams');
    const seeded = await seedDemo(rapport.server);
    expect(seeded).toMatchObject({ email: 'first@demo.test', generated: true });
    const after = await counts();
    expect(after.workspaces).toBe(1);
    expect(after.conversations).toBe(8);
    const login = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: seeded!.email, password: seeded!.password } });
    expect(login.statusCode).toBe(200);
    expect(login.json().workspaces).toEqual([expect.objectContaining({ slug: 'demo', role: 'owner' })]);

    // The demo's other people sign in with the same password, each with their role (printed at start, in the README).
    expect(seeded!.members.map((m) => m.role)).toEqual(['agent', 'supervisor', 'client_viewer']);
    for (const m of seeded!.members) {
      const res = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: m.email, password: seeded!.password } });
      expect(res.statusCode, m.email).toBe(200);
      expect(res.json().workspaces).toEqual([expect.objectContaining({ slug: 'demo', role: m.role })]);
    }

    // It shows the newer features too: views (one shared, one private), a customer's notes, and a
    // mention waiting in the owner's bell.
    const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const ws = login.json().workspaces[0].id;
    const get = (url: string) => rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws}${url}`, headers: { cookie } });
    expect((await get('/saved-views')).json().items.map((v: { name: string; shared: boolean }) => [v.name, v.shared])).toEqual([['Billing, waiting longest', true]]);
    const customers = (await get('/customers?limit=50')).json().items as { id: string }[];
    const notes = await Promise.all(customers.map(async (c) => (await get(`/customers/${c.id}`)).json().notes));
    expect(notes.filter(Boolean)).toHaveLength(1);
    const bell = await eventually(async () => {
      const items = (await get('/notifications')).json().items as { kind: string }[];
      return items.length > 0 && items;
    });
    expect(bell.map((n) => n.kind)).toEqual(['mentioned']);

    // Only on an empty database.
    expect(await seedDemo(rapport.server)).toBeNull();
    expect(await counts()).toEqual(after);
  });
});
