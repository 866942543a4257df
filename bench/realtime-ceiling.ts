/**
 * The realtime benchmark's honest ceiling (issue 14), run by bench/realtime.bench.ts in processes of
 * their own: `--ceiling-http`, a bare Fastify process (the POST that writes the note's rows and
 * NOTIFYs in one statement, and the GETs the agent app would make), and `--ceiling-ws`, a bare `ws`
 * server that LISTENs and broadcasts (two of them, as Rapport runs two instances). Nothing of Rapport
 * is imported, so their RSS is that of the bare libraries.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { WebSocketServer } from 'ws';

const CHANNEL = 'bench_ceiling_events';

/** One statement: the message, its event, the conversation's revision; NOTIFY (at commit) Rapport's payload. */
const CEILING_POST = `
with c as (update bench_ceiling.conversations set revision = revision + 1, last_activity_at = now() where id = $1 returning id),
m as (insert into bench_ceiling.messages (conversation_id, type, author_type, author_id, author_name, body_text, created_at)
      select c.id, 'note', 'token', $3, 'bench', $4, now() from c returning id, conversation_id),
e as (insert into bench_ceiling.events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at)
      select $2, m.conversation_id, 'message.created', 'token', $3, jsonb_build_object('messageId', m.id, 'messageType', 'note'), now() from m
      returning id, workspace_id, conversation_id, type)
select m.id, pg_notify('${CHANNEL}', json_build_object('id', e.id, 'workspaceId', e.workspace_id, 'conversationId', e.conversation_id, 'type', e.type)::text)
from m, e`;

const viewSql = `view || jsonb_build_object('revision', revision, 'lastActivityAt', to_char(last_activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

/** Child: the ceiling's HTTP process (the POST, and the GETs the app would make). */
async function ceilingHttpMain(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL!, max: 30, application_name: 'bench-ceiling-http' });
  const ws = process.env.BENCH_WORKSPACE_ID!;
  const actor = process.env.BENCH_ACTOR_ID!;
  const app = Fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: { type: string; body: string } }>('/conversations/:id/messages', async (request, reply) => {
    const { rows } = await pool.query({ name: 'post', text: CEILING_POST, values: [request.params.id, ws, actor, request.body.body] });
    if (!rows[0]) return reply.code(404).send({});
    return reply.code(201).send({ id: rows[0].id });
  });
  app.get<{ Params: { id: string } }>('/conversations/:id/messages', async (request) => {
    const { rows } = await pool.query({
      name: 'thread',
      text: `select id, conversation_id as "conversationId", type, json_build_object('type', author_type, 'id', author_id, 'name', author_name) as author,
               body_text as body, body_html as html, metadata, created_at as "createdAt"
             from bench_ceiling.messages where conversation_id = $1 order by created_at desc, id desc limit 51`,
      values: [request.params.id],
    });
    return { items: rows.slice(0, 50), nextCursor: rows.length > 50 ? rows[49].id : null };
  });
  app.get<{ Params: { id: string } }>('/conversations/:id', async (request, reply) => {
    const { rows } = await pool.query({ name: 'detail', text: `select ${viewSql} as v from bench_ceiling.conversations where id = $1`, values: [request.params.id] });
    return rows[0] ? rows[0].v : reply.code(404).send({});
  });
  app.get('/conversations', async () => {
    const { rows } = await pool.query({ name: 'list', text: `select ${viewSql} as v from bench_ceiling.conversations order by last_activity_at desc, id desc limit 51` });
    return { items: rows.slice(0, 50).map((r) => r.v), nextCursor: null };
  });
  app.get('/conversations/counts', async () => {
    const { rows } = await pool.query({ name: 'counts', text: `select view->>'status' as status, count(*)::int as n from bench_ceiling.conversations group by 1` });
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.on('message', async (m: { type: string }) => {
    if (m.type !== 'stop') return;
    await app.close();
    await pool.end();
    process.exit(0);
  });
  process.send!({ type: 'ready', url, pid: process.pid });
}

/** Child: one of the ceiling's two `ws` processes: LISTEN, read the batch's events and conversations, broadcast. */
async function ceilingWsMain(): Promise<void> {
  const db = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL!, application_name: 'bench-ceiling-ws' });
  await db.connect();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  let ids: string[] = [];
  let scheduled = false;
  let flushing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const batch = ids;
    ids = [];
    const events = await db.query({
      name: 'events',
      text: `select id::text, type, conversation_id, actor_type, actor_id, data, created_at from bench_ceiling.events where id = any($1::bigint[]) order by id`,
      values: [batch],
    });
    const convIds = [...new Set(events.rows.map((e) => e.conversation_id))];
    const convs = await db.query({ name: 'convs', text: `select id, ${viewSql} as v from bench_ceiling.conversations where id = any($1::uuid[])`, values: [convIds] });
    const byId = new Map(convs.rows.map((r) => [r.id as string, r.v]));
    for (const e of events.rows) {
      const frame = Buffer.from(
        JSON.stringify({
          type: 'event',
          event: { id: e.id, type: e.type, conversationId: e.conversation_id, actor: { type: e.actor_type, id: e.actor_id }, data: e.data, createdAt: e.created_at.toISOString() },
          conversation: byId.get(e.conversation_id),
        }),
      );
      for (const client of wss.clients) client.send(frame, { binary: false });
    }
  };
  db.on('notification', (n) => {
    ids.push(String(JSON.parse(n.payload!).id));
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushing = flushing.then(flush, flush);
    });
  });
  await db.query(`listen ${CHANNEL}`);
  process.on('message', async (m: { type: string }) => {
    if (m.type !== 'stop') return;
    for (const c of wss.clients) c.terminate();
    wss.close();
    await db.end();
    process.exit(0);
  });
  process.send!({ type: 'ready', url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, pid: process.pid });
}

const mode = process.argv[2];
if (mode === '--ceiling-http') void ceilingHttpMain();
else if (mode === '--ceiling-ws') void ceilingWsMain();
