// F_smtp: raw pooled nodemailer into the sink, sending the mail the gateway sends (FLOOR_MAIL: nodemailer's
// message options, as the gateway's EMAIL channel builds them for a TEST.MAIL message) for FLOOR_SECONDS,
// FLOOR_INFLIGHT at a time over FLOOR_POOL connections, after FLOOR_WARMUP_SECONDS unmeasured. Prints `ready`, starts on
// SIGUSR2, prints `warm` when the measured period starts and `done <mails> <seconds>` when it ends, exits on SIGTERM.
import nodemailer from 'nodemailer';

const mail = JSON.parse(process.env.FLOOR_MAIL!);
const seconds = Number(process.env.FLOOR_SECONDS ?? 8);
const warmup = Number(process.env.FLOOR_WARMUP_SECONDS ?? 0);
const inflightMax = Number(process.env.FLOOR_INFLIGHT ?? 50);
const t = nodemailer.createTransport({ url: process.env.SMTP_URL!, pool: true, maxConnections: Number(process.env.FLOOR_POOL ?? 5) } as any);

async function run(seconds: number) {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let sent = 0;
  let inflight = 0;
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      while (inflight < inflightMax && performance.now() < end) {
        inflight++;
        const i = sent++;
        t.sendMail({ ...mail, messageId: `<floor.${i}@bench>` }).then(() => {
          inflight--;
          if (inflight === 0 && performance.now() >= end) resolve();
          else next();
        }, reject);
      }
    };
    next();
  });
  return { sent, seconds: (performance.now() - t0) / 1000 };
}

// Stays until SIGTERM after the run, so the bench can read its CPU time and peak RSS.
setInterval(() => undefined, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
process.once('SIGUSR2', () => {
  (async () => {
    if (warmup > 0) await run(warmup);
    console.log('warm');
    const r = await run(seconds);
    console.log(`done ${r.sent} ${r.seconds.toFixed(3)}`);
  })().then(
    () => t.close(),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
// Only now: a SIGUSR2 that came before its handler would end the process.
console.log('ready');
