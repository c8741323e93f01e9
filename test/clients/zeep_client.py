#!/usr/bin/python3
"""A WSDL-driven Python client of the SOAP intake (SPEC §2), built with zeep from the served WSDL.

Usage: /usr/bin/python3 test/clients/zeep_client.py BASE_URL [REQUEST_JSON]

Calls sendMail, then resendMail of that message to a corrected address, then sendMail once more
without one required field (a business error), then getMessageStatus of the first message until it is
final (as an integrator polls) and of an unknown message, and prints one JSON line with what came back:
  {"client": "zeep", "endpoint": ..., "send": {...}, "resend": {...}, "invalid": {...}, "status": {...}, "statusUnknown": {...}}
each send answer as {"messageId", "code", "messages": [{"code", "field", "text"}], "params": [{"key", "value"}]},
each status answer as {"messageId", "code", "messages", "messageStatus", "final", "channel",
"events": [{"status", "reason", "createdAt"}]};
"endpoint" is the address the client posts to, taken from the served WSDL's soap:address.
Everything is read through the objects zeep generated from the WSDL.

REQUEST_JSON (all optional; defaults below):
  {"send": {<sendRequest fields>, "xmlData": "<DATA>..</DATA>",
            "attachments": [{"fileName": .., "path": <file to send>, <attachment fields>, "properties": [..]}],
            "properties": [{"key", "value", "isMetaData"}]},
   "resendTo": "<corrected address>", "resendRequestId": "..",
   "invalid": {"without": "<field to leave out>", "requestId": ".."}}
On a SOAP Fault or transport error it prints {"client": "zeep", "error": {...}} and exits with 2.
"""
import json
import os
import sys
import time

from lxml import etree
import zeep
import zeep.exceptions

NS = 'http://send.api.hammy.dbx.hu/'
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, '..', '..', 'fixtures'))

DEFAULT = {
    'send': {
        'clientHashKey': 'aa87cd4bcd3445bbc4',
        'requestId': 'zeep-1',
        'messageType': 'TEST.MAIL',
        'messageTypeVersion': 1,
        'recipientEmailAddress': 'wrong-address@example.com',
        'recipientName': 'Árvíztűrő Tükörfúrógép',
        'recipientEmailAddressCC': 'cc@example.com',
        'recipientNameCC': 'CC NAME',
        'xmlData': '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>',
        'attachments': [{
            'fileName': 'minta.pdf',
            'path': os.path.join(FIXTURES, 'files', 'minta.pdf'),
            'properties': [{'key': 'SZERZODO_NEVE', 'value': 'Béla', 'isMetaData': True}],
        }],
        'properties': [{'key': 'AKARMI_PROPERTY', 'value': 'egy valami', 'isMetaData': False}],
    },
    'resendTo': 'corrected-address@example.com',
    'invalid': {'without': 'recipientName', 'requestId': 'zeep-invalid'},
}


def send_request(spec):
    """The JSON request spec -> the argument structure of zeep's generated sendRequest type."""
    req = {k: v for k, v in spec.items() if k not in ('xmlData', 'attachments', 'properties', 'params')}
    if spec.get('xmlData') is not None:
        # xs:any content: zeep takes the elements themselves.
        req['xmlData'] = {'_value_1': [etree.fromstring(spec['xmlData'].encode('utf-8'))]}
    if spec.get('attachments') is not None:
        atts = []
        for a in spec['attachments']:
            att = {k: v for k, v in a.items() if k not in ('path', 'properties')}
            if 'path' in a:
                with open(a['path'], 'rb') as f:
                    att['content'] = f.read()  # xs:base64Binary: zeep encodes the bytes
            if a.get('properties') is not None:
                att['properties'] = {'property': a['properties']}
            atts.append(att)
        req['attachments'] = {'attachment': atts}
    if spec.get('properties') is not None:
        req['properties'] = {'property': spec['properties']}
    if spec.get('params') is not None:
        req['params'] = {'param': spec['params']}
    return req


def outcome(r):
    """messageId and the responseStatus block (code, messages) every response carries -> plain JSON."""
    status = r.status
    messages = status.messages.message if status is not None and status.messages is not None else []
    return {
        'messageId': r.messageId,
        'code': status.code if status is not None else None,
        'messages': [{'code': m.code, 'field': m.field, 'text': m.text} for m in messages],
    }


def answer(r):
    """A generated sendResponse object -> plain JSON."""
    params = r.params.param if r.params is not None else []
    return {**outcome(r), 'params': [{'key': p.key, 'value': p.value} for p in params]}


def status_answer(r):
    """A generated messageStatusResponse object -> plain JSON (createdAt is the datetime zeep parsed)."""
    events = r.events.event if r.events is not None else []
    return {
        **outcome(r),
        'messageStatus': r.messageStatus,
        'final': r.final,
        'channel': r.channel,
        'events': [{'status': e.status, 'reason': e.reason, 'createdAt': e.createdAt.isoformat() if e.createdAt else None} for e in events],
    }


def final_status(svc, key, message_id, seconds=30):
    """getMessageStatus until the message is final (or the time is up): the last answer."""
    until = time.monotonic() + seconds
    while True:
        r = svc.getMessageStatus(request={'clientHashKey': key, 'messageId': message_id})
        if r.final or r.status.code != 0 or time.monotonic() > until:
            return status_answer(r)
        time.sleep(0.2)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 64
    base = sys.argv[1].rstrip('/')
    spec = DEFAULT
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding='utf-8') as f:
            spec = {**DEFAULT, **json.load(f)}
    out = {'client': 'zeep', 'zeepVersion': zeep.__version__}
    try:
        client = zeep.Client(base + '/hammy/soap/send/v2?wsdl')
        # The default service: its address is the WSDL's soap:address, as any generated client uses it.
        svc = client.service
        out['endpoint'] = svc._binding_options['address']

        send = spec['send']
        r = svc.sendMail(request=send_request(send))
        out['send'] = answer(r)

        resend = {'clientHashKey': send.get('clientHashKey'), 'messageId': r.messageId,
                  'recipientEmailAddress': spec['resendTo']}
        if spec.get('resendRequestId'):
            resend['requestId'] = spec['resendRequestId']
        out['resend'] = answer(svc.resendMail(request=resend))

        inv = spec.get('invalid') or {}
        bad = {k: v for k, v in send.items() if k != inv.get('without', 'recipientName')}
        if inv.get('requestId'):
            bad['requestId'] = inv['requestId']
        out['invalid'] = answer(svc.sendMail(request=send_request(bad)))

        out['status'] = final_status(svc, send.get('clientHashKey'), r.messageId)
        unknown = svc.getMessageStatus(request={'clientHashKey': send.get('clientHashKey'), 'messageId': 999999999})
        out['statusUnknown'] = status_answer(unknown)
    except zeep.exceptions.Fault as e:
        out['error'] = {'fault': e.code, 'message': e.message}
        print(json.dumps(out, ensure_ascii=False))
        return 2
    except Exception as e:  # transport, WSDL or type errors: report them as JSON too
        out['error'] = {'type': type(e).__name__, 'message': str(e)}
        print(json.dumps(out, ensure_ascii=False))
        return 2
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())
