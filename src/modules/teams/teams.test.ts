import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, tokenFor, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api: admin } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('editing a team', () => {
  it('renames a team and adds and removes members, only members of the workspace', async () => {
    const ann = await addTestMember(rapport, ws, 'agent', 'Ann');
    const bob = await addTestMember(rapport, ws, 'agent', 'Bob');
    const team = (await admin.post('/teams', { name: 'Billing', memberIds: [ann.id] })).json();
    const renamed = await admin.patch(`/teams/${team.id}`, { name: 'Billing & refunds', addMemberIds: [bob.id, ann.id], removeMemberIds: [ann.id] });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id: team.id, name: 'Billing & refunds', memberIds: [bob.id] });
    expect((await admin.get('/teams')).json().items.find((t: { id: string }) => t.id === team.id)).toMatchObject({ name: 'Billing & refunds', memberIds: [bob.id] });

    const stranger = await createTestWorkspace(rapport);
    const bad = await admin.patch(`/teams/${team.id}`, { addMemberIds: [stranger.owner.id] });
    expect([bad.statusCode, bad.json().code]).toEqual([422, 'teams.member_not_found']);
    await admin.post('/teams', { name: 'Sales' });
    const taken = await admin.patch(`/teams/${team.id}`, { name: 'sales' });
    expect([taken.statusCode, taken.json().code]).toEqual([409, 'teams.name_taken']);
    expect((await admin.patch(`/teams/${team.id}`, {})).statusCode).toBe(422);
  });

  it('two renames to the same name at once: one wins, the other is a 409, never a 500', async () => {
    for (let round = 0; round < 5; round++) {
      const [x, y] = [(await admin.post('/teams', { name: `Race x${round}` })).json(), (await admin.post('/teams', { name: `Race y${round}` })).json()];
      const answers = await Promise.all([x, y].map((t) => admin.patch(`/teams/${t.id}`, { name: `Race winner ${round}` })));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.statusCode === 409)!.json().code).toBe('teams.name_taken');
    }
  });

  it('is for admins only, and another workspace’s team answers 404', async () => {
    const team = (await admin.post('/teams', { name: 'Support' })).json();
    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    expect((await agent.patch(`/teams/${team.id}`, { name: 'Mine now' })).statusCode).toBe(403);
    const other = await createTestWorkspace(rapport);
    const theirs = client(rapport, other.token, other.workspaceId);
    const res = await theirs.patch(`/teams/${team.id}`, { name: 'Hijacked' });
    expect([res.statusCode, res.json().code]).toEqual([404, 'teams.not_found']);
    expect((await admin.get('/teams')).json().items.find((t: { id: string }) => t.id === team.id).name).toBe('Support');
  });
});
