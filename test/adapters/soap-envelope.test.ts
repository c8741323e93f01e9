// The SOAP envelope check before node-soap: one strict saxes pass gives well-formedness (with the place it fails)
// and the outline (SOAP 1.1 Envelope, one Body, one known operation in the send namespace), each with its reason.
import assert from 'node:assert/strict';
import { checkEnvelope } from '../../src/adapters/soap/envelope.js';
import { fixture } from '../helpers/gateway.js';

const E = (inner: string, attrs = '') => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"${attrs ? ` ${attrs}` : ''}>${inner}</s:Envelope>`;
const NS = 'xmlns:x="http://send.api.hammy.dbx.hu/"';
const reason = (xml: string) => {
  const c = checkEnvelope(xml);
  return c.ok ? `ok ${c.operation}` : c.reason;
};

describe('SOAP envelope check', () => {
  it('accepts the samples and finds their operation, wherever its namespace is declared', () => {
    assert.equal(reason(fixture('soap', 'sample1.xml')), 'ok sendMail');
    assert.equal(reason(`<?xml version="1.0" encoding="utf-8"?>${E(`<s:Header/><s:Body><x:resendMail ${NS}/></s:Body>`)}`), 'ok resendMail');
    assert.equal(reason(E(`<s:Body ${NS}><x:sendMail/></s:Body>`)), 'ok sendMail');
    assert.equal(reason(E('<s:Body><x:sendMail/></s:Body>', NS)), 'ok sendMail');
    assert.equal(reason(E('<s:Body><sendMail xmlns="http://send.api.hammy.dbx.hu/"/></s:Body>')), 'ok sendMail');
    assert.equal(reason(E(`<s:Body><!-- a comment --><x:sendMail ${NS}><a>&amp;</a></x:sendMail></s:Body>`)), 'ok sendMail');
    assert.equal(reason(`\uFEFF<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${fixture('soap', 'sample1.xml')}<!-- trailing comment -->\n`), 'ok sendMail');
  });

  it('names the line and column where the XML stops being well-formed', () => {
    // The place is where the parser stopped: just after the unclosed end, just after the mismatched </b>.
    assert.equal(reason('<soapenv:Envelope><oops'), 'the request is not well-formed XML (line 1, column 24)');
    const mismatched = E(`<s:Body><x:sendMail ${NS}><a></b></x:sendMail></s:Body>`);
    assert.equal(reason(mismatched), `the request is not well-formed XML (line 1, column ${mismatched.indexOf('</b>') + 5})`);
    assert.equal(reason(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">\n<s:Body>\n<a>\n</s:Body>`), 'the request is not well-formed XML (line 4, column 10)');
    assert.match(reason(E(`<s:Body><x:sendMail ${NS}><a>&bogus;</a></x:sendMail></s:Body>`)), /^the request is not well-formed XML \(line 1, column \d+\)$/);
    // What sax let through and node-soap then read its own way: a repeated attribute (told at the end of its tag), a
    // control character.
    const twice = E(`<s:Body><x:sendMail ${NS} a="1" a="2"/></s:Body>`);
    assert.equal(reason(twice), `the request is not well-formed XML (line 1, column ${twice.indexOf('/></s:Body>') + 3})`);
    assert.match(reason(E(`<s:Body><x:sendMail ${NS}><a>\u0001</a></x:sendMail></s:Body>`)), /^the request is not well-formed XML \(line 1, column \d+\)$/);
    assert.equal(reason('not xml'), 'the request is not well-formed XML (line 1, column 8)');
  });

  it('refuses DOCTYPE and entity declarations before parsing', () => {
    assert.equal(reason(`<!DOCTYPE x [<!ENTITY a "b">]>${E('<s:Body/>')}`), 'DOCTYPE and entity declarations are not allowed');
  });

  it('gives the reason for each wrong outline', () => {
    assert.equal(reason(''), 'the request has no single root element');
    assert.equal(reason('  \n '), 'the request has no single root element');
    assert.equal(reason(`${fixture('soap', 'sample1.xml')}<extra/>`), 'the request has no single root element');
    assert.equal(reason(`${fixture('soap', 'sample1.xml')}trailing text`), 'the request has no single root element');
    assert.equal(reason('<request><clientHashKey>x</clientHashKey></request>'), 'the root element is not a SOAP 1.1 Envelope');
    assert.equal(reason('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'), 'the root element is not a SOAP 1.1 Envelope');
    assert.equal(reason(E('<s:Header/>')), 'the Envelope has no (single) Body');
    assert.equal(reason(E('<s:Body/>')), 'the Envelope has no (single) Body');
    assert.equal(reason(E('<s:Body>text only</s:Body>')), 'the Envelope has no (single) Body');
    assert.equal(reason(E(`<s:Body><x:sendMail ${NS}/></s:Body><s:Body><x:sendMail ${NS}/></s:Body>`)), 'the Envelope has no (single) Body');
    assert.equal(reason(E(`<t:Body xmlns:t="http://schemas.xmlsoap.org/soap/envelope/"><x:sendMail ${NS}/></t:Body>`)), 'the Envelope has no (single) Body');
    assert.equal(reason(E(`<s:Body><x:sendMail ${NS}/><x:resendMail ${NS}/></s:Body>`)), 'the Body must hold exactly one operation element');
    assert.equal(reason(E('<s:Body><x:sendMail xmlns:x="http://other.example/"/></s:Body>')), 'unknown operation {http://other.example/}sendMail');
    assert.equal(reason(fixture('soap', 'sample1.xml').replaceAll('send:sendMail', 'send:deleteEverything')), 'unknown operation {http://send.api.hammy.dbx.hu/}deleteEverything');
  });
});
