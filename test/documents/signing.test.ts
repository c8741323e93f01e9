// PAdES signatures checked by poppler's pdfsig: valid when intact, broken when tampered; the demo certificate's life.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { makeLetterPdf } from '../../src/documents/letter.js';
import { loadOrCreateCertificate, signPdf, SigningError, type SigningCertificate } from '../../src/documents/signing.js';

const run = promisify(execFile);
const FILES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/files');
const INFO = { reason: 'Hitelesített dokumentum (teszt)', name: 'Hammy Gateway', location: 'Győr', contactInfo: 'info@hammy.example' };
// DER of the OIDs: id-aa-signingCertificateV2 must be signed in, signing-time must not (PAdES baseline).
const SIGNING_CERTIFICATE_V2 = Buffer.from('060b2a864886f70d010910022f', 'hex');
const SIGNING_TIME = Buffer.from('06092a864886f70d010905', 'hex');

describe('PAdES signing (SPEC §4 step 5)', () => {
  let dir: string;
  let cert: SigningCertificate;
  let letter: Buffer;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hammy-signing-'));
    cert = await loadOrCreateCertificate({ dataDir: dir });
    letter = (
      await makeLetterPdf({
        messageId: 42,
        sender: { name: 'Hammy Biztosító Zrt.' },
        recipientName: 'Kovács Őszike',
        recipientPostalAddress: 'Fő utca 12.;1011 Budapest',
        letterType: 'OFFICIAL',
        date: new Date('2026-11-26T10:00:00Z'),
        subject: 'Hitelesített levél',
        body: 'Tisztelt Kovács Őszike!\n\nDíjértesítő – árvíztűrő tükörfúrógép',
        attachments: [{ fileName: 'minta.pdf', content: fs.readFileSync(path.join(FILES, 'minta.pdf')) }],
      })
    ).pdf;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** pdfsig exits non-zero for a broken signature; its report is what we read either way. */
  async function pdfsig(pdf: Buffer): Promise<string> {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(f, pdf);
    try {
      return (await run('pdfsig', [f])).stdout;
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
  }

  function byteRange(pdf: Buffer): number[] {
    const m = /\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/.exec(pdf.toString('latin1'));
    assert.ok(m, 'a /ByteRange');
    return m.slice(1).map(Number);
  }

  it('signs a letter so that pdfsig finds the signature valid, as ETSI.CAdES.detached', async () => {
    const signed = await signPdf(letter, cert, INFO);
    const report = await pdfsig(signed);
    assert.match(report, /Signature Validation: Signature is Valid\./, report);
    assert.match(report, /Signature Type: ETSI\.CAdES\.detached/, report);
    assert.match(report, /Signer Certificate Common Name: Hammy Gateway Demo Signing/, report);
    assert.match(report, /Total document signed/, report);
    assert.ok(signed.includes('/SubFilter /ETSI.CAdES.detached'), 'the signature dictionary names the PAdES SubFilter');
  });

  it('carries signing-certificate-v2 and no signing-time among the signed attributes (PAdES-B-B)', async () => {
    const signed = await signPdf(letter, cert, INFO);
    const [, from, to] = byteRange(signed);
    const cms = Buffer.from(signed.subarray(from! + 1, to! - 1).toString('latin1'), 'hex');
    assert.ok(cms.includes(SIGNING_CERTIFICATE_V2), 'signing-certificate-v2 present');
    assert.ok(!cms.includes(SIGNING_TIME), 'no signing-time attribute');
  });

  it('a byte changed inside the signed range breaks the signature', async () => {
    const signed = Buffer.from(await signPdf(letter, cert, INFO));
    // A byte of the binary comment under the header (%PDF-1.x, then % and high bytes): the file stays well-formed.
    const at = signed.indexOf('\n%') + 2;
    const [, from] = byteRange(signed);
    assert.ok(at > 8 && at < from! && signed[at]! >= 0x80, 'the changed byte lies in the first signed range, in the comment');
    signed[at] = signed[at] === 0x80 ? 0x81 : 0x80;
    const report = await pdfsig(signed);
    assert.doesNotMatch(report, /Signature is Valid/, report);
    assert.match(report, /Signature Validation: (Digest Mismatch|Signature is Invalid)/, report);
  });

  it('creates the demo certificate once and reuses it', async () => {
    const again = await loadOrCreateCertificate({ dataDir: dir });
    assert.ok(again.p12.equals(cert.p12), 'same bytes on the second call');
    assert.match(cert.subject, /CN=Hammy Gateway Demo Signing/);
    assert.match(cert.subject, /O=Hammy Demo/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'certs')), ['demo-signing.p12']);
  });

  it('two loads racing on a fresh data dir end with one whole certificate both use', async () => {
    const fresh = fs.mkdtempSync(path.join(dir, 'race-'));
    const [a, b] = await Promise.all([loadOrCreateCertificate({ dataDir: fresh }), loadOrCreateCertificate({ dataDir: fresh })]);
    assert.ok(a.p12.equals(b.p12));
    assert.deepEqual(fs.readdirSync(path.join(fresh, 'certs')), ['demo-signing.p12']);
  });

  it('a given p12 with a wrong passphrase, or a missing one, throws SigningError naming the path for the log only', async () => {
    const p12Path = path.join(dir, 'certs', 'demo-signing.p12');
    const err = await loadOrCreateCertificate({ p12Path, passphrase: 'not-the-secret-42', dataDir: dir }).catch((e: unknown) => e);
    assert.ok(err instanceof SigningError);
    assert.equal(err.file, p12Path);
    assert.ok(!err.message.includes(p12Path), 'the message, which a client may see, holds no path');
    assert.ok(!err.message.includes('not-the-secret-42'), 'the passphrase is not in the message');
    const ok = await loadOrCreateCertificate({ p12Path, passphrase: 'demo', dataDir: dir });
    assert.ok(ok.p12.equals(cert.p12));
    const missing = path.join(dir, 'nope.p12');
    await assert.rejects(loadOrCreateCertificate({ p12Path: missing, passphrase: 'x', dataDir: dir }), (e: unknown) => e instanceof SigningError && e.file === missing && !e.message.includes(missing));
  });

  it('a configured p12 holding a CA chain signs validly and the CMS carries the whole chain', async () => {
    const p12Path = path.join(dir, 'configured.p12');
    fs.writeFileSync(p12Path, p12WithChain('s3cret'));
    const configured = await loadOrCreateCertificate({ p12Path, passphrase: 's3cret', dataDir: dir });
    assert.match(configured.subject, /CN=Hammy Test Signer/);
    const signed = await signPdf(letter, configured, INFO);
    const report = await pdfsig(signed);
    assert.match(report, /Signature Validation: Signature is Valid\./, report);
    assert.match(report, /Signer Certificate Common Name: Hammy Test Signer/, report);
    const [, from, to] = byteRange(signed);
    const cms = signed.subarray(from! + 1, to! - 1).toString('latin1');
    assert.ok(cms.includes(Buffer.from('Hammy Test CA').toString('hex')), 'the CA certificate travels along');
  });

  it('a non-PDF or broken input throws SigningError', async () => {
    for (const input of [fs.readFileSync(path.join(FILES, 'image.png')), Buffer.alloc(0), Buffer.from('%PDF-1.7\nnot really a pdf\n')]) {
      await assert.rejects(signPdf(input, cert, INFO), (e: unknown) => e instanceof SigningError && !e.message.includes(dir));
    }
  });
});

/** A leaf certificate issued by its own CA, both in one PKCS#12, as a real signing certificate comes. */
function p12WithChain(passphrase: string): Buffer {
  const keyPair = () => forge.pki.privateKeyFromPem(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const issue = (cn: string, key: forge.pki.rsa.PrivateKey, issuer: { cn: string; key: forge.pki.rsa.PrivateKey }, ca: boolean) => {
    const c = forge.pki.createCertificate();
    c.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    c.serialNumber = `01${crypto.randomBytes(8).toString('hex')}`;
    c.validity.notBefore = new Date(Date.now() - 3600_000);
    c.validity.notAfter = new Date(Date.now() + 86400_000);
    c.setSubject([{ name: 'commonName', value: cn }]);
    c.setIssuer([{ name: 'commonName', value: issuer.cn }]);
    c.setExtensions([{ name: 'basicConstraints', cA: ca }, { name: 'keyUsage', digitalSignature: true, nonRepudiation: !ca, keyCertSign: ca }]);
    c.sign(issuer.key, forge.md.sha256.create());
    return c;
  };
  const caKey = keyPair();
  const leafKey = keyPair();
  const ca = issue('Hammy Test CA', caKey, { cn: 'Hammy Test CA', key: caKey }, true);
  const leaf = issue('Hammy Test Signer', leafKey, { cn: 'Hammy Test CA', key: caKey }, false);
  return Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(leafKey, [leaf, ca], passphrase, { algorithm: '3des' })).getBytes(), 'binary');
}
