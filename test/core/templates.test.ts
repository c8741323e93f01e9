// Template versions (core/templates.ts): a new version's checks and compile, and a preview rendered as a send would.
import assert from 'node:assert/strict';
import { SendError, UnknownTemplate, ValidationError, type Issue } from '../../src/core/errors.js';
import type { ClientRecord, SendStore } from '../../src/core/ports.js';
import type { TemplateVersion } from '../../src/core/render.js';
import { checkTemplateVersion, previewTemplate, TEMPLATE_MAX_BYTES, TEMPLATE_MAX_EXPRESSIONS } from '../../src/core/templates.js';

const valid = { messageType: 'invoice', subject: 'Invoice {{DATA.number}}', textBody: 'Dear {{recipientName}}' };

function issuesOf(input: Record<string, unknown>): { status: number; issues: Issue[] } {
  try {
    checkTemplateVersion(input);
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
    return { status: e.status, issues: e.issues };
  }
  assert.fail('expected a refusal');
}
const fields = (input: Record<string, unknown>) => issuesOf(input).issues.map((i) => i.field);

describe('templates: checkTemplateVersion', () => {
  it('a valid version: active by default, no channel, a missing body is null', () => {
    assert.deepEqual(checkTemplateVersion(valid), {
      messageType: 'invoice',
      subject: valid.subject,
      textBody: valid.textBody,
      htmlBody: null,
      defaultChannel: null,
      active: true,
    });
    const html = checkTemplateVersion({ messageType: 'x', subject: 's', htmlBody: '<p>{{a}}</p>', textBody: '', defaultChannel: 'POST', active: false });
    assert.deepEqual([html.textBody, html.htmlBody, html.defaultChannel, html.active], [null, '<p>{{a}}</p>', 'POST', false]);
  });

  it('messageType: required, at most 100 characters, no spaces or path characters', () => {
    assert.deepEqual(fields({ ...valid, messageType: undefined }), ['messageType']);
    assert.deepEqual(fields({ ...valid, messageType: '   ' }), ['messageType']);
    assert.deepEqual(fields({ ...valid, messageType: 42 }), ['messageType']);
    assert.deepEqual(fields({ ...valid, messageType: 'a'.repeat(101) }), ['messageType']);
    for (const bad of ['two words', ' invoice', 'invoice\t', 'a/b', 'a\\b', 'a?b', 'a#b', 'a%b']) assert.deepEqual(fields({ ...valid, messageType: bad }), ['messageType'], bad);
    assert.equal(checkTemplateVersion({ ...valid, messageType: 'a'.repeat(100) }).messageType.length, 100);
  });

  it('subject and a body are required', () => {
    assert.deepEqual(issuesOf({ messageType: 'x', textBody: 't' }).issues, [{ code: 1, field: 'subject', text: 'subject is required' }]);
    assert.deepEqual(issuesOf({ messageType: 'x', subject: 's', textBody: '', htmlBody: null }).issues, [
      { code: 1, field: 'textBody', text: 'textBody or htmlBody is required' },
    ]);
  });

  it('a part over the byte or expression bound, with a NUL, or not a string is refused naming it', () => {
    assert.match(issuesOf({ ...valid, textBody: 'é'.repeat(TEMPLATE_MAX_BYTES / 2 + 1) }).issues[0]!.text, /textBody must be at most 262144 bytes/);
    assert.equal(checkTemplateVersion({ ...valid, textBody: 'a'.repeat(TEMPLATE_MAX_BYTES) }).textBody!.length, TEMPLATE_MAX_BYTES);
    assert.match(issuesOf({ ...valid, htmlBody: '{{a}}'.repeat(TEMPLATE_MAX_EXPRESSIONS + 1) }).issues[0]!.text, /htmlBody must have at most 1000 expressions/);
    assert.doesNotThrow(() => checkTemplateVersion({ ...valid, htmlBody: '{{a}}'.repeat(TEMPLATE_MAX_EXPRESSIONS) }));
    assert.deepEqual(issuesOf({ ...valid, subject: 'a\u0000b' }).issues, [{ code: 1, field: 'subject', text: 'subject must not contain a NUL character' }]);
    assert.deepEqual(issuesOf({ ...valid, textBody: 5 }).issues, [{ code: 1, field: 'textBody', text: 'textBody must be a string' }]);
  });

  it('defaultChannel must be a channel, active a boolean; every issue is listed at once', () => {
    const { status, issues } = issuesOf({ messageType: 'a b', subject: 's', textBody: 't', defaultChannel: 'FAX', active: 'yes' });
    assert.equal(status, 1);
    assert.deepEqual(issues.map((i) => i.field), ['messageType', 'defaultChannel', 'active']);
    assert.match(issues[1]!.text, /EMAIL, POST, PORTAL, ARCHIVE/);
  });

  it('a part that does not compile is code 3 with the engine\'s message, every broken part at once', () => {
    const { status, issues } = issuesOf({ messageType: 'x', subject: '{{#if a}}', textBody: 'fine {{a}}', htmlBody: '<p>{{/each}}</p>' });
    assert.equal(status, 3);
    assert.deepEqual(issues.map((i) => [i.code, i.field]), [[3, 'subject'], [3, 'htmlBody']]);
    assert.match(issues[0]!.text, /template subject does not compile/);
    assert.match(issues[1]!.text, /template html does not compile/);
  });
});

describe('templates: previewTemplate', () => {
  const client = { id: 7 } as ClientRecord;
  const versions: TemplateVersion[] = [
    { id: 9101, messageType: 'invoice', version: 1, subject: 'Invoice {{DATA.number}}', textBody: 'Dear {{recipientName}}, {{amount}}', htmlBody: null, defaultChannel: null },
    { id: 9102, messageType: 'invoice', version: 2, subject: 'V2 {{DATA.number}}', textBody: null, htmlBody: '<p>{{recipientName}}</p>', defaultChannel: 'EMAIL' },
  ];
  const asked: unknown[][] = [];
  const store = {
    findTemplate: async (clientId: number, messageType: string, version?: number) => {
      asked.push([clientId, messageType, version]);
      return clientId === 7 ? versions.find((v) => v.messageType === messageType && (version === undefined ? v.version === 2 : v.version === version)) : undefined;
    },
  } as unknown as SendStore;

  it('renders the named version with xmlData, properties and request fields; nothing else is asked of the store', async () => {
    asked.length = 0;
    const { template, rendered } = await previewTemplate(store, client, 'invoice', 1, {
      recipientName: 'Ann',
      xmlData: '<DATA><number>0042</number></DATA>',
      properties: [{ key: 'amount', value: '12.50' }],
    });
    assert.equal(template.id, 9101);
    assert.deepEqual(rendered, { subject: 'Invoice 0042', text: 'Dear Ann, 12.50', html: null });
    assert.deepEqual(asked, [[7, 'invoice', 1]]);
  });

  it('without a version, the store\'s newest active one; HTML escapes the data', async () => {
    const { template, rendered } = await previewTemplate(store, client, 'invoice', undefined, { recipientName: 'A&B', xmlData: '<DATA><number>1</number></DATA>' });
    assert.equal(template.version, 2);
    assert.deepEqual(rendered, { subject: 'V2 1', text: null, html: '<p>A&amp;B</p>' });
  });

  it('an unknown type or version is UnknownTemplate naming it', async () => {
    await assert.rejects(previewTemplate(store, client, 'invoice', 5, {}), (e: unknown) => e instanceof UnknownTemplate && e.issues[0]!.text === 'unknown messageType invoice version 5');
    await assert.rejects(previewTemplate(store, client, 'letter', undefined, {}), (e: unknown) => e instanceof UnknownTemplate && e.issues[0]!.text === 'unknown messageType letter');
  });

  it('bad request fields and bad xmlData are code 1 issues naming each field', async () => {
    const err = await previewTemplate(store, client, 'invoice', 1, { recipientEmailAddress: 'not-an-address', xmlData: '<DATA><a></DATA>' }).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ValidationError);
    assert.equal(err.status, 1);
    assert.deepEqual(err.issues.map((i) => i.field), ['recipientEmailAddress', 'xmlData']);
  });

  it('data a strict template lacks is a template error (code 3), not an internal one', async () => {
    const err = await previewTemplate(store, client, 'invoice', 1, { recipientName: 'Ann' }).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SendError);
    assert.equal(err.status, 3);
  });
});
