"""A producer of another ecosystem (python3-pika): publishes one request and prints the answer as JSON."""
import json
import sys
import uuid

import pika

url, queue, body_file, content_type = sys.argv[1:5]
params = pika.URLParameters(url)
conn = pika.BlockingConnection(params)
ch = conn.channel()
reply = ch.queue_declare(queue="", exclusive=True).method.queue
corr = str(uuid.uuid4())
with open(body_file, "rb") as f:
    body = f.read()
ch.basic_publish(
    exchange="",
    routing_key=queue,
    body=body,
    properties=pika.BasicProperties(
        content_type=content_type,
        content_encoding="UTF-8",
        correlation_id=corr,
        message_id=str(uuid.uuid4()),
        reply_to=reply,
        delivery_mode=2,
        headers={"X-Client-Hash-Key": "aa87cd4bcd3445bbc4", "X-Method-Name": "Send_V2_Send"},
    ),
)
answer = None
for method, props, payload in ch.consume(reply, auto_ack=True, inactivity_timeout=20):
    if method is None:
        break
    if props.correlation_id == corr:
        answer = {"contentType": props.content_type, "correlationId": props.correlation_id, "body": payload.decode("utf-8")}
        break
conn.close()
print(json.dumps(answer))
sys.exit(0 if answer else 2)
