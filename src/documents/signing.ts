// PAdES signing of PDFs (SPEC §4 step 5) with the configured PKCS#12 certificate or a generated demo one.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { Signer, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import forge from 'node-forge';
import { PDFDocument } from 'pdf-lib';

export type SigningCertificate = { p12: Buffer; passphrase: string; subject: string };
/** Its message may be shown to a client (the message's timeline); the certificate's path is only for the log. */
export class SigningError extends Error {
  override name = 'SigningError';
  constructor(
    message: string,
    options?: ErrorOptions,
    readonly file?: string,
  ) {
    super(message, options);
  }
}

/** What a signature needs, parsed once per certificate: PKCS#12 decryption is the slow part. */
type KeyMaterial = { key: crypto.KeyObject; signer: forge.asn1.Asn1; chain: forge.asn1.Asn1[]; subject: string };

const DEMO_SUBJECT = [
  { name: 'commonName', value: 'Hammy Gateway Demo Signing' },
  { name: 'organizationName', value: 'Hammy Demo' },
];

export async function loadOrCreateCertificate(o: { p12Path?: string; passphrase?: string; dataDir: string }): Promise<SigningCertificate> {
  if (o.p12Path) return readCertificate(o.p12Path, o.passphrase ?? '');
  const file = path.join(o.dataDir, 'certs', 'demo-signing.p12');
  const passphrase = o.passphrase ?? 'demo';
  await ensureDemoCertificate(file, passphrase);
  return readCertificate(file, passphrase);
}

export async function signPdf(pdf: Buffer, cert: SigningCertificate, info: { reason: string; name: string; location: string; contactInfo: string }): Promise<Buffer> {
  const material = keyMaterial(cert);
  try {
    return await new SignPdf().sign(await withPlaceholder(pdf, info, material), new CadesSigner(material));
  } catch (e) {
    if (e instanceof SigningError) throw e;
    // The library's own words stay in the log (cause): the message is shown to the client in the message's timeline.
    throw new SigningError('signing failed', { cause: e });
  }
}

async function readCertificate(file: string, passphrase: string): Promise<SigningCertificate> {
  let p12: Buffer;
  try {
    p12 = await fs.readFile(file);
  } catch (e) {
    throw new SigningError('the signing certificate (CERT_P12_PATH) cannot be read', { cause: e }, file);
  }
  const cert = { p12, passphrase, subject: '' };
  try {
    cert.subject = keyMaterial(cert).subject;
  } catch (e) {
    throw new SigningError('the signing certificate (CERT_P12_PATH) is not a PKCS#12 file with an RSA key, or the passphrase is wrong', { cause: e }, file);
  }
  return cert;
}

/** Write-then-link: of two processes starting at once, one file wins whole and both use it. */
async function ensureDemoCertificate(file: string, passphrase: string): Promise<void> {
  if (await fs.access(file).then(() => true, () => false)) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, createDemoP12(passphrase), { mode: 0o600 });
  try {
    await fs.link(tmp, file);
  } catch (e) {
    // EEXIST: another process won. Other codes: a file system without hard links, where rename is still atomic.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function createDemoP12(passphrase: string): Buffer {
  // Node generates the key natively in milliseconds; forge builds the certificate and the PKCS#12 around it.
  const pem = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' });
  const key = forge.pki.privateKeyFromPem(pem.toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = `01${crypto.randomBytes(15).toString('hex')}`; // leading 01: positive and of full length
  cert.validity.notBefore = new Date(Date.now() - 3600_000); // tolerate a little clock skew between hosts
  cert.validity.notAfter = new Date(cert.validity.notBefore);
  cert.validity.notAfter.setFullYear(cert.validity.notAfter.getFullYear() + 10);
  cert.setSubject(DEMO_SUBJECT);
  cert.setIssuer(DEMO_SUBJECT);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, nonRepudiation: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(key, [cert], passphrase, { algorithm: 'aes256', friendlyName: 'Hammy Gateway Demo Signing' });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

const parsed = new WeakMap<Buffer, { passphrase: string; material: KeyMaterial }>();
function keyMaterial(cert: SigningCertificate): KeyMaterial {
  const hit = parsed.get(cert.p12);
  if (hit?.passphrase === cert.passphrase) return hit.material;
  const material = parseP12(cert.p12, cert.passphrase);
  parsed.set(cert.p12, { passphrase: cert.passphrase, material });
  return material;
}

function parseP12(p12: Buffer, passphrase: string): KeyMaterial {
  let store: forge.pkcs12.Pkcs12Pfx;
  try {
    store = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), false, passphrase);
  } catch {
    throw new SigningError('the signing certificate cannot be opened (not PKCS#12, or wrong passphrase)');
  }
  const bags = (type: string) => store.getBags({ bagType: type })[type] ?? [];
  const key = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag!), ...bags(forge.pki.oids.keyBag!)][0]?.key as forge.pki.rsa.PrivateKey | undefined;
  const certBags = bags(forge.pki.oids.certBag!);
  const own = certBags.find((b) => key && (b.cert?.publicKey as forge.pki.rsa.PublicKey | undefined)?.n?.equals(key.n))?.cert;
  if (!key || !own) throw new SigningError('the signing certificate holds no RSA key with its certificate');
  const subject = own.subject.attributes.map((a) => `${a.shortName ?? a.name}=${a.value}`).join(', ');
  // forge cannot read a non-RSA CA certificate but keeps its ASN.1: it still travels in the chain.
  const others = certBags.filter((b) => b.cert !== own).map((b) => (b.cert ? forge.pki.certificateToAsn1(b.cert) : b.asn1));
  const signer = forge.pki.certificateToAsn1(own);
  return { key: crypto.createPrivateKey(forge.pki.privateKeyToPem(key)), signer, chain: [signer, ...others.filter(Boolean)], subject };
}

async function withPlaceholder(pdf: Buffer, info: Parameters<typeof signPdf>[2], material: KeyMaterial): Promise<Buffer> {
  let doc: PDFDocument;
  try {
    // pdf-lib loads leniently: a broken page tree only shows when the pages are read
    doc = await PDFDocument.load(pdf);
    if (doc.getPageCount() === 0) throw new Error('no pages');
  } catch {
    throw new SigningError('the document is not a readable PDF (damaged, encrypted or without pages)');
  }
  const certBytes = material.chain.reduce((n, c) => n + forge.asn1.toDer(c).length(), 0);
  const text = { reason: pdfText(info.reason), name: pdfText(info.name), location: pdfText(info.location), contactInfo: pdfText(info.contactInfo) };
  // signatureLength counts hex digits (two per CMS byte, so even): the certificates carried plus signer info and attributes.
  pdflibAddPlaceholder({ pdfDoc: doc, ...text, subFilter: SUBFILTER_ETSI_CADES_DETACHED, signatureLength: 2 * (certBytes + 2048) });
  const bytes = await doc.save({ useObjectStreams: false });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The placeholder writes these strings byte by byte, unescaped: "Győr" would lose its ő and a lone ")" would
 * break the dictionary. Non-ASCII goes as UTF-16BE with a BOM, as PDF text strings allow.
 */
function pdfText(s: string): string {
  const raw = /^[\x20-\x7e]*$/.test(s) ? s : `\xfe\xff${Buffer.from(s, 'utf16le').swap16().toString('latin1')}`;
  return raw.replace(/[()\\\r]/g, (c) => (c === '\r' ? '\\r' : `\\${c}`));
}

const { asn1 } = forge;
const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
};
const seq = (...v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
const set = (...v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, v);
const oid = (o: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const octets = (b: Buffer) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, b.toString('binary'));
const int = (n: number) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(n));
const tagged = (tag: number, ...v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, v);
const der = (a: forge.asn1.Asn1) => Buffer.from(asn1.toDer(a).getBytes(), 'binary');
const attribute = (type: string, value: forge.asn1.Asn1) => seq(oid(type), set(value));

/**
 * CAdES-B-B for PAdES baseline: signing-certificate-v2 binds the certificate, and no signing-time attribute
 * (PAdES takes the time from the signature dictionary's /M). P12Signer adds signing-time and lacks the binding.
 */
class CadesSigner extends Signer {
  constructor(private readonly m: KeyMaterial) {
    super();
  }

  override async sign(content: Buffer): Promise<Buffer> {
    const tbs = this.m.signer.value[0] as forge.asn1.Asn1;
    const fields = tbs.value as forge.asn1.Asn1[];
    const at = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // skip the [0] version
    const [serial, issuer] = [fields[at]!, fields[at + 2]!];
    const essCertId = seq(octets(sha256(der(this.m.signer))), seq(seq(tagged(4, issuer)), serial)); // hash algorithm: the sha256 default
    // DER orders SET OF by encoding; verifiers hash the attributes as sent.
    const attrs = [
      attribute(OID.contentType, oid(OID.data)),
      attribute(OID.messageDigest, octets(sha256(content))),
      attribute(OID.signingCertificateV2, seq(seq(essCertId))),
    ].sort((a, b) => Buffer.compare(der(a), der(b)));
    const signature = crypto.sign('sha256', der(set(...attrs)), this.m.key);
    const signerInfo = seq(int(1), seq(issuer, serial), seq(oid(OID.sha256)), tagged(0, ...attrs), seq(oid(OID.sha256WithRSA), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')), octets(signature));
    const signedData = seq(int(1), set(seq(oid(OID.sha256))), seq(oid(OID.data)), tagged(0, ...this.m.chain), set(signerInfo));
    return der(seq(oid(OID.signedData), tagged(0, signedData)));
  }
}

function sha256(b: Buffer): Buffer {
  return crypto.createHash('sha256').update(b).digest();
}
