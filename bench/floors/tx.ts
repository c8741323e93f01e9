// F_tx: koa + pg, three inserts (message, event, job) in one transaction per request.
import Koa from 'koa';
import pg from 'pg';
import getRawBody from 'raw-body';

const schema = process.env.FLOOR_SCHEMA!;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query(`create schema if not exists ${schema};
  create table if not exists ${schema}.messages (id bigserial primary key, body jsonb not null, created_at timestamptz default now());
  create table if not exists ${schema}.events (id bigserial primary key, message_id bigint not null, status text not null, created_at timestamptz default now());
  create table if not exists ${schema}.jobs (id bigserial primary key, message_id bigint not null, run_at timestamptz default now());`);

export async function threeInserts(body: string): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const { rows } = await c.query(`insert into ${schema}.messages (body) values ($1) returning id`, [body]);
    await c.query(`insert into ${schema}.events (message_id, status) values ($1, 'RECEIVED')`, [rows[0].id]);
    await c.query(`insert into ${schema}.jobs (message_id) values ($1)`, [rows[0].id]);
    await c.query('commit');
    return Number(rows[0].id);
  } catch (e) {
    await c.query('rollback');
    throw e;
  } finally {
    c.release();
  }
}

if (process.env.FLOOR_HTTP !== 'off') {
  const app = new Koa();
  app.use(async (ctx) => {
    const body = (await getRawBody(ctx.req, { limit: '20mb' })).toString('utf8');
    const id = await threeInserts(JSON.stringify(JSON.parse(body)));
    ctx.body = { meta: { responseStatus: { code: 0, messages: [] }, params: [] }, messageId: id };
  });
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`ready ${(server.address() as any).port}`));
  process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
