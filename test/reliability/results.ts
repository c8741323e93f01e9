// Each scenario's figures, written to test/reliability/RESULTS.md as the battery goes.
import fs from 'node:fs';
import path from 'node:path';

const scenarios = new Map<string, Record<string, unknown>>();
const FILE = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'RESULTS.md');

export function recordScenario(name: string, figures: Record<string, unknown>) {
  scenarios.set(name, figures);
  // Only `npm run test:reliability` records figures; `npm test` (and CI) leaves the tracked file alone.
  if (process.env.RELIABILITY_RESULTS !== 'write') return;
  const prev = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
  // Rows of scenarios not run this time are kept, so a partial run never erases the record.
  const kept = new Map<string, string>();
  for (const line of prev.split('\n')) {
    const m = /^\| ([^|]+) \| (.*) \|$/.exec(line);
    if (m && m[1] !== 'scenario' && !m[1]!.startsWith('---')) kept.set(m[1]!.trim(), m[2]!);
  }
  for (const [n, f] of scenarios) kept.set(n, Object.entries(f).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', '));
  const notes = prev.includes('## Notes') ? prev.slice(prev.indexOf('## Notes')) : '## Notes\n';
  const lines = [
    '# Reliability battery',
    '',
    `Last run ${new Date().toISOString()} (\`npm run test:reliability\`, the battery also runs in \`npm test\`, without recording), Node ${process.version}. "lost" counts accepted messages that never reached a final state (SENT, ARCHIVED, or FAILED with a reason); "duplicates" counts extra copies of one message at the SMTP server.`,
    '',
    '| scenario | figures |',
    '| --- | --- |',
    ...[...kept].map(([n, f]) => `| ${n} | ${f} |`),
    '',
  ];
  fs.writeFileSync(FILE, `${lines.join('\n')}\n${notes}`);
}
