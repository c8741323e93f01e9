// F_soap: a node-soap server on our WSDL answering a constant sendMailResponse.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as soap from 'soap';

const wsdl = fs.readFileSync(path.join(process.env.PROJECT_ROOT!, 'wsdl', 'send-v2.wsdl'), 'utf8');
const server = http.createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
const services = { SendServiceV2: { SendPortV2: { sendMail: () => ({ response: { messageId: 1, status: { code: 0, messages: {} } } }), resendMail: () => ({}) } } };
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  soap.listen(server, '/hammy/soap/send/v2', services, wsdl, () => console.log(`ready ${(server.address() as any).port}`));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
