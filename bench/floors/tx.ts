// F_tx: koa + pg, three inserts (message, event, job) in one transaction per request.
import Koa from 'koa';
import pg from 'pg';
import getRawBody from 'raw-body';

const schema = process.env.FLOOR_SCHEMA!;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query(`create schema if not exists ${schema};
  create table if not exists ${schema}.messages (id bigserial primary key, body jsonb, raw bytea, created_at timestamptz default now());
  create table if not exists ${schema}.events (id bigserial primary key, message_id bigint not null, status text not null, created_at timestamptz default now());
  create table if not exists ${schema}.jobs (id bigserial primary key, message_id bigint not null, run_at timestamptz default now());`);

/** `body` is JSON text (stored as jsonb) or, for any other payload such as a multipart upload, its bytes (bytea). */
export async function threeInserts(body: string | Buffer): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const { rows } = await c.query(`insert into ${schema}.messages (body, raw) values ($1, $2) returning id`, typeof body === 'string' ? [body, null] : [null, body]);
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
    const bytes = await getRawBody(ctx.req, { limit: '20mb' });
    const json = /json/.test(ctx.get('content-type'));
    const id = await threeInserts(json ? JSON.stringify(JSON.parse(bytes.toString('utf8'))) : bytes);
    ctx.body = { meta: { responseStatus: { code: 0, messages: [] }, params: [] }, messageId: id };
  });
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`ready ${(server.address() as any).port}`));
  process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
