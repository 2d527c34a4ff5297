#!/usr/bin/env python3
"""A webhook consumer for tests: verifies each delivery's Standard Webhooks signature with the reference library
(PyPI `standardwebhooks`), appends what it received to a JSON-lines file, and answers as told. Loopback only.

    scripts/webhook-consumer.py --secret whsec_… --out received.jsonl [--port 0] [--fail-first N]

It prints its port on the first line of standard output, then serves until killed.

Paths: /hook answers 204 once the signature is verified (401 when it is not); the first --fail-first requests to it
are answered 503. /gone answers 410 Gone. /bad answers 400. Each line written: {"path", "status", "verified",
"webhook_id", "id" (the CloudEvent's), "type", "error"}.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    verifier = Webhook(args.secret)
    lock = threading.Lock()
    state = {"failures": args.fail_first}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            record = {"path": self.path, "webhook_id": self.headers.get("webhook-id"), "verified": False}
            try:
                event = verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                record["verified"] = True
                record["id"] = event.get("id")
                record["type"] = event.get("type")
            except Exception as error:  # the reference check said no
                record["error"] = str(error)
            status = 204 if record["verified"] else 401
            with lock:
                if self.path == "/gone":
                    status = 410
                elif self.path == "/bad":
                    status = 400
                elif state["failures"] > 0:
                    state["failures"] -= 1
                    status = 503
                record["status"] = status
                with open(args.out, "a") as out:
                    out.write(json.dumps(record) + "\n")
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
