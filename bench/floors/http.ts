// F_http: a bare koa handler that reads the body and answers a constant.
import Koa from 'koa';
import getRawBody from 'raw-body';

const app = new Koa();
app.use(async (ctx) => {
  await getRawBody(ctx.req, { limit: '20mb' });
  ctx.body = { meta: { responseStatus: { code: 0, messages: [] }, params: [] }, messageId: 1 };
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`ready ${(server.address() as any).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
