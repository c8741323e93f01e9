<?php
// A WSDL-driven PHP client of the SOAP intake (SPEC §2), built with ext-soap's SoapClient from the served WSDL.
//
// Usage: php test/clients/php_client.php BASE_URL [REQUEST_JSON]
//
// Calls sendMail, then resendMail of that message to a corrected address, then sendMail once more
// without one required field (a business error), then getMessageStatus of the first message until it is
// final (as an integrator polls) and of an unknown message, and prints one JSON line with what came back:
//   {"client": "php", "endpoint": .., "send": {..}, "resend": {..}, "invalid": {..}, "status": {..}, "statusUnknown": {..}}
// each send answer as {"messageId", "code", "messages": [{"code", "field", "text"}], "params": [{"key", "value"}]},
// each status answer as {"messageId", "code", "messages", "messageStatus", "final", "channel",
// "events": [{"status", "reason", "createdAt"}]};
// "endpoint" is the address the client posted to, taken from the served WSDL's soap:address.
// Everything is read through the objects SoapClient built from the WSDL.
// REQUEST_JSON has the same shape as for zeep_client.py (see there); absent keys take the defaults below.
// On a SOAP Fault it prints {"client": "php", "error": {..}} and exits with 2.

const JSON_FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES;

/** SoapClient that remembers where it posted: the address it took from the WSDL's soap:address. */
class RecordingSoapClient extends SoapClient
{
    public array $locations = [];

    public function __doRequest($request, $location, $action, $version, $oneWay = false): ?string
    {
        $this->locations[] = $location;
        return parent::__doRequest($request, $location, $action, $version, $oneWay);
    }
}

function defaults(): array
{
    return [
        'send' => [
            'clientHashKey' => 'aa87cd4bcd3445bbc4',
            'requestId' => 'php-1',
            'messageType' => 'TEST.MAIL',
            'messageTypeVersion' => 1,
            'recipientEmailAddress' => 'wrong-address@example.com',
            'recipientName' => 'Árvíztűrő Tükörfúrógép',
            'recipientEmailAddressCC' => 'cc@example.com',
            'recipientNameCC' => 'CC NAME',
            'xmlData' => '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>',
            'attachments' => [[
                'fileName' => 'minta.pdf',
                'path' => __DIR__ . '/../../fixtures/files/minta.pdf',
                'properties' => [['key' => 'SZERZODO_NEVE', 'value' => 'Béla', 'isMetaData' => true]],
            ]],
            'properties' => [['key' => 'AKARMI_PROPERTY', 'value' => 'egy valami', 'isMetaData' => false]],
        ],
        'resendTo' => 'corrected-address@example.com',
        'invalid' => ['without' => 'recipientName', 'requestId' => 'php-invalid'],
    ];
}

/** The JSON request spec -> the argument structure SoapClient maps onto the WSDL's sendRequest type. */
function sendRequest(array $spec): array
{
    $req = array_diff_key($spec, array_flip(['xmlData', 'attachments', 'properties', 'params']));
    if (isset($spec['xmlData'])) {
        // xs:any content: SoapClient writes the string as raw XML.
        $req['xmlData'] = ['any' => $spec['xmlData']];
    }
    if (isset($spec['attachments'])) {
        $atts = [];
        foreach ($spec['attachments'] as $a) {
            $att = array_diff_key($a, array_flip(['path', 'properties']));
            if (isset($a['path'])) {
                $bytes = file_get_contents($a['path']);
                if ($bytes === false) throw new RuntimeException("cannot read {$a['path']}");
                $att['content'] = $bytes; // xs:base64Binary: SoapClient encodes the bytes
            }
            if (isset($a['properties'])) $att['properties'] = ['property' => $a['properties']];
            $atts[] = $att;
        }
        $req['attachments'] = ['attachment' => $atts];
    }
    if (isset($spec['properties'])) $req['properties'] = ['property' => $spec['properties']];
    if (isset($spec['params'])) $req['params'] = ['param' => $spec['params']];
    return $req;
}

/** messageId and the responseStatus block (code, messages) every response carries -> plain JSON. */
function outcome($resp): array
{
    $status = $resp->status ?? null;
    return [
        'messageId' => $resp->messageId ?? null,
        'code' => $status->code ?? null,
        'messages' => array_map(fn($m) => ['code' => $m->code ?? null, 'field' => $m->field ?? null, 'text' => $m->text ?? null], $status->messages->message ?? []),
    ];
}

/** A sendMailResponse / resendMailResponse object -> plain JSON. */
function answer($r): array
{
    $resp = $r->response ?? null;
    $params = $resp->params->param ?? [];
    return outcome($resp) + ['params' => array_map(fn($p) => ['key' => $p->key ?? null, 'value' => $p->value ?? null], $params)];
}

/** A getMessageStatusResponse object -> plain JSON. */
function statusAnswer($r): array
{
    $resp = $r->response ?? null;
    return outcome($resp) + [
        'messageStatus' => $resp->messageStatus ?? null,
        'final' => $resp->final ?? null,
        'channel' => $resp->channel ?? null,
        'events' => array_map(fn($e) => ['status' => $e->status ?? null, 'reason' => $e->reason ?? null, 'createdAt' => $e->createdAt ?? null], $resp->events->event ?? []),
    ];
}

/** getMessageStatus until the message is final (or the time is up): the last answer. */
function finalStatus(SoapClient $c, $key, $messageId, int $seconds = 30): array
{
    $until = microtime(true) + $seconds;
    while (true) {
        $a = statusAnswer($c->getMessageStatus(['request' => ['clientHashKey' => $key, 'messageId' => $messageId]]));
        if ($a['final'] === true || $a['code'] !== 0 || microtime(true) > $until) return $a;
        usleep(200000);
    }
}

function main(array $argv): int
{
    if (count($argv) < 2) {
        fwrite(STDERR, "usage: php php_client.php BASE_URL [REQUEST_JSON]\n");
        return 64;
    }
    $base = rtrim($argv[1], '/');
    $spec = defaults();
    if (count($argv) > 2) {
        $given = json_decode(file_get_contents($argv[2]), true, 512, JSON_THROW_ON_ERROR);
        $spec = array_merge($spec, $given);
    }
    $out = ['client' => 'php', 'phpVersion' => PHP_VERSION];
    try {
        $wsdl = "$base/hammy/soap/send/v2?wsdl";
        // No 'location' option: the client posts to the WSDL's soap:address, as a generated client does.
        $c = new RecordingSoapClient($wsdl, [
            'trace' => 1,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
            'exceptions' => true,
        ]);
        $send = $spec['send'];
        $r = $c->sendMail(['request' => sendRequest($send)]);
        $out['endpoint'] = $c->locations[0] ?? null;
        $out['send'] = answer($r);

        $resend = [
            'clientHashKey' => $send['clientHashKey'] ?? null,
            'messageId' => $r->response->messageId ?? null,
            'recipientEmailAddress' => $spec['resendTo'],
        ];
        if (!empty($spec['resendRequestId'])) $resend['requestId'] = $spec['resendRequestId'];
        $out['resend'] = answer($c->resendMail(['request' => $resend]));

        $inv = $spec['invalid'] ?? [];
        $bad = $send;
        unset($bad[$inv['without'] ?? 'recipientName']);
        if (!empty($inv['requestId'])) $bad['requestId'] = $inv['requestId'];
        $out['invalid'] = answer($c->sendMail(['request' => sendRequest($bad)]));

        $out['status'] = finalStatus($c, $send['clientHashKey'] ?? null, $r->response->messageId ?? null);
        $unknown = $c->getMessageStatus(['request' => ['clientHashKey' => $send['clientHashKey'] ?? null, 'messageId' => 999999999]]);
        $out['statusUnknown'] = statusAnswer($unknown);
    } catch (SoapFault $f) {
        $out['error'] = ['fault' => $f->faultcode, 'message' => $f->getMessage()];
        echo json_encode($out, JSON_FLAGS), "\n";
        return 2;
    } catch (Throwable $e) {
        $out['error'] = ['type' => get_class($e), 'message' => $e->getMessage()];
        echo json_encode($out, JSON_FLAGS), "\n";
        return 2;
    }
    echo json_encode($out, JSON_FLAGS), "\n";
    return 0;
}

exit(main($argv));
