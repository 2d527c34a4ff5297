#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for tests: forwards to an AWS emulator (moto_server) and answers a share of
requests with faults instead. Loopback only: it listens on 127.0.0.1 and refuses an upstream that is not.

    scripts/fault-proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--seed 1]
        [--faults 500=0.05,503=0.05,throttle=0.05,reset=0.05,reset-after=0.05,stall=0.02,truncate=0.05]
        [--stall-seconds 3] [--expired-iterator 0.2] [--trim-once] [--key-errors 0.1]

It prints its port on the first line of standard output, then serves until killed.

Faults (each a share of the requests, drawn independently per request):
  500          HTTP 500 InternalError
  503          HTTP 503 SlowDown (S3) / ServiceUnavailable (JSON services)
  throttle     HTTP 400 Throttling (S3 XML) / ThrottlingException (JSON services)
  reset        connection reset before the request reaches the upstream
  reset-after  the request reaches the upstream (a PUT is applied), then the connection is reset
  stall        no answer for --stall-seconds, then the connection is closed
  truncate     the upstream's answer with its Content-Length but only half its body, then the connection closed (FIN)
               (a request whose answer has no body gets reset-after instead)
DynamoDB Streams only: --expired-iterator answers that share of GetRecords with ExpiredIteratorException;
--trim-once answers the first GetShardIterator AFTER_SEQUENCE_NUMBER with TrimmedDataAccessException.
S3 DeleteObjects only: --key-errors fails that share of the keys of each DeleteObjects call that is forwarded: those
keys are taken out of the request (so they stay in the bucket; Content-MD5 is computed again) and answered as
per-key <Error> elements (InternalError, SlowDown or AccessDenied) in the 200 response, as S3 does.

Control, on the proxy's own port (never forwarded):
  GET  /__fault/stats           JSON: requests, faults by kind, requests by "METHOD /path", and by invocation
                                (amz-sdk-invocation-id: one id per API call, the same on each retry) its attempts
                                (distinct amz-sdk-request attempt numbers) and requests on the wire
  POST /__fault/down?seconds=N  refuse connections (listener closed, open connections dropped) for N seconds
  POST /__fault/config          JSON body {"faults": {...}, "stall_seconds": s, "expired_iterator": p, "expire_next": n,
                                "trim_once": true, "key_errors": p}: change the faults (expire_next: the next n GetRecords expire)
"""
import argparse
import asyncio
import base64
import hashlib
import json
import random
import socket
import struct
import sys
import time
import re
import urllib.parse

S3_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "throttle": (400, "Throttling", "Rate exceeded."),
}
JSON_ERRORS = {
    "500": (500, "InternalServerError", "Internal server error"),
    "503": (503, "ServiceUnavailable", "Service unavailable"),
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
}


class Stats:
    def __init__(self):
        self.requests = 0
        self.faults = {}
        self.by_request = {}
        self.by_invocation = {}
        self.down_refused_since = None

    def count(self, method, path, headers):
        self.requests += 1
        key = f"{method} {path}"
        self.by_request[key] = self.by_request.get(key, 0) + 1
        invocation = headers.get("amz-sdk-invocation-id")
        if invocation:
            # "attempts": the retry policy's attempts (distinct attempt numbers); "requests": what reached the wire,
            # more when the HTTP stack itself resends an attempt on a reused connection that died.
            entry = self.by_invocation.setdefault(invocation, {"request": key, "attempts": 0, "requests": 0, "max": 0, "seen": []})
            entry["requests"] += 1
            for part in headers.get("amz-sdk-request", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "max" and value.isdigit():
                    entry["max"] = int(value)
                if name == "attempt" and value.isdigit() and int(value) not in entry["seen"]:
                    entry["seen"].append(int(value))
            entry["attempts"] = len(entry["seen"])

    def fault(self, kind):
        self.faults[kind] = self.faults.get(kind, 0) + 1

    def json(self):
        return {"requests": self.requests, "faults": self.faults, "by_request": self.by_request,
                "by_invocation": self.by_invocation}


class Proxy:
    def __init__(self, upstream, faults, seed, stall_seconds, expired_iterator, trim_once, key_errors=0.0):
        self.key_errors = key_errors
        self.upstream = upstream
        self.faults = faults
        self.random = random.Random(seed)
        self.stall_seconds = stall_seconds
        self.expired_iterator = expired_iterator
        self.trim_once = trim_once
        self.expire_next = 0
        self.stats = Stats()
        self.server = None
        self.port = 0
        self.writers = set()

    # -- serving --------------------------------------------------------------------------------------------------

    async def listen(self, port):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self, seconds):
        self.server.close()
        for writer in list(self.writers):
            reset(writer)
        await asyncio.sleep(seconds)
        while True:
            try:
                await self.listen(self.port)
                return
            except OSError:
                await asyncio.sleep(0.1)

    async def serve(self, reader, writer):
        self.writers.add(writer)
        try:
            while True:
                request = await read_request(reader, writer)
                if request is None:
                    return
                if not await self.handle(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.writers.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def handle(self, request, writer):
        """Answers one request; False when the connection is to be dropped."""
        method, target, headers, body = request
        path = urllib.parse.urlsplit(target).path
        if path.startswith("/__fault/"):
            await self.control(method, target, body, writer)
            return True
        self.stats.count(method, path, headers)
        amz_target = headers.get("x-amz-target", "")
        json_service = bool(amz_target)
        if amz_target.endswith(".GetRecords") and (self.expire_next > 0 or self.random.random() < self.expired_iterator):
            self.expire_next = max(0, self.expire_next - 1)
            self.stats.fault("expired-iterator")
            await answer(writer, *json_error(400, "ExpiredIteratorException", "Iterator expired"))
            return True
        if amz_target.endswith(".GetShardIterator") and self.trim_once and b"AFTER_SEQUENCE_NUMBER" in body:
            self.trim_once = False
            self.stats.fault("trimmed")
            await answer(writer, *json_error(400, "TrimmedDataAccessException", "the requested records are beyond the trim horizon"))
            return True
        kind = self.pick()
        if kind in ("500", "503", "throttle"):
            self.stats.fault(kind)
            status, code, message = (JSON_ERRORS if json_service else S3_ERRORS)[kind]
            await answer(writer, *(json_error(status, code, message) if json_service else xml_error(status, code, message)))
            return True
        if kind == "reset":
            self.stats.fault(kind)
            reset(writer)
            return False
        if kind == "stall":
            self.stats.fault(kind)
            await asyncio.sleep(self.stall_seconds)
            reset(writer)
            return False
        failed_keys = []
        if self.key_errors > 0 and method == "POST" and "delete" in urllib.parse.parse_qs(urllib.parse.urlsplit(target).query, keep_blank_values=True):
            body, failed_keys = self.take_out_keys(body)
            headers = dict(headers)
            headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
            if not re.search(rb"<Object>", body):
                await answer(writer, 200, {"content-type": "application/xml"}, delete_result(b"", failed_keys))
                return True
        status, reason, response_headers, response_body = await self.forward(method, target, headers, body)
        if failed_keys and status == 200:
            response_body = re.sub(rb"<DeleteResult([^>]*)/>", rb"<DeleteResult\1></DeleteResult>", response_body)
            head, _, tail = response_body.rpartition(b"</DeleteResult>")
            response_body = delete_result(head, failed_keys, tail) if _ else response_body
        if kind == "truncate" and len(response_body) >= 2 and method != "HEAD":
            self.stats.fault(kind)
            head = response_head(status, reason, response_headers, len(response_body))
            writer.write(head + response_body[: len(response_body) // 2])
            await writer.drain()
            writer.close()  # a clean close (FIN) part-way through the body
            return False
        if kind in ("reset-after", "truncate"):
            self.stats.fault("reset-after")
            reset(writer)
            return False
        writer.write(response_head(status, reason, response_headers, len(response_body)) + response_body)
        await writer.drain()
        return True

    def take_out_keys(self, body):
        """Removes a share of the <Object> elements of a DeleteObjects body; returns the new body and the removed keys."""
        failed = []

        def choose(match):
            if self.random.random() < self.key_errors:
                key = re.search(rb"<Key>(.*?)</Key>", match.group(0), re.S)
                failed.append(key.group(1) if key else b"")
                self.stats.fault("key-error")
                return b""
            return match.group(0)

        return re.sub(rb"<Object>.*?</Object>", choose, body, flags=re.S), failed

    def pick(self):
        draw = self.random.random()
        for kind, share in self.faults.items():
            if draw < share:
                return kind
            draw -= share
        return None

    async def forward(self, method, target, headers, body):
        host, port = self.upstream
        reader, writer = await asyncio.open_connection(host, port)
        try:
            lines = [f"{method} {target} HTTP/1.1"]
            for name, value in headers.items():
                if name in ("connection", "expect", "content-length", "transfer-encoding", "keep-alive"):
                    continue
                lines.append(f"{name}: {value}")
            lines.append(f"content-length: {len(body)}")
            lines.append("connection: close")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            status_line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
            _, status, reason = (status_line.split(" ", 2) + [""])[:3]
            response_headers = await read_headers(reader)
            if method == "HEAD" or status in ("204", "304"):
                response_body = b""
            elif "chunked" in response_headers.get("transfer-encoding", ""):
                response_body = await read_chunked(reader)
            elif "content-length" in response_headers:
                response_body = await reader.readexactly(int(response_headers["content-length"]))
            else:
                response_body = await reader.read()
            return int(status), reason, response_headers, response_body
        finally:
            writer.close()

    async def control(self, method, target, body, writer):
        parts = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parts.query)
        if parts.path == "/__fault/stats":
            await answer(writer, 200, {"content-type": "application/json"}, json.dumps(self.stats.json()).encode())
        elif parts.path == "/__fault/down" and method == "POST":
            seconds = float(query.get("seconds", ["10"])[0])
            await answer(writer, 200, {"content-type": "application/json"}, b'{"down":true}')
            asyncio.get_running_loop().create_task(self.down(seconds))
        elif parts.path == "/__fault/config" and method == "POST":
            config = json.loads(body or b"{}")
            if "faults" in config:
                self.faults = {k: float(v) for k, v in config["faults"].items()}
            self.stall_seconds = float(config.get("stall_seconds", self.stall_seconds))
            self.expired_iterator = float(config.get("expired_iterator", self.expired_iterator))
            self.expire_next = int(config.get("expire_next", self.expire_next))
            if "trim_once" in config:
                self.trim_once = bool(config["trim_once"])
            if "key_errors" in config:
                self.key_errors = float(config["key_errors"])
            await answer(writer, 200, {"content-type": "application/json"}, b'{"ok":true}')
        else:
            await answer(writer, 404, {"content-type": "text/plain"}, b"unknown control path")


# -- HTTP/1.1 helpers -------------------------------------------------------------------------------------------------

async def read_headers(reader):
    headers = {}
    while True:
        line = (await reader.readline()).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            return headers
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]},{value}" if name in headers else value


async def read_chunked(reader):
    body = b""
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await read_headers(reader)
            return body
        body += await reader.readexactly(size)
        await reader.readline()


async def read_request(reader, writer):
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = await read_headers(reader)
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if "chunked" in headers.get("transfer-encoding", ""):
        body = await read_chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, target, headers, body


def response_head(status, reason, headers, length):
    lines = [f"HTTP/1.1 {status} {reason or 'Status'}"]
    for name, value in headers.items():
        if name in ("connection", "content-length", "transfer-encoding", "keep-alive"):
            continue
        lines.append(f"{name}: {value}")
    lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def answer(writer, status, headers, body):
    writer.write(response_head(status, "Fault", headers, len(body)) + body)
    await writer.drain()


def xml_error(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>FAULT{int(time.time() * 1000)}</RequestId></Error>").encode()
    return status, {"content-type": "application/xml"}, body


def json_error(status, code, message):
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    return status, {"content-type": "application/x-amz-json-1.0"}, body


KEY_ERRORS = [(b"InternalError", b"We encountered an internal error. Please try again."),
              (b"SlowDown", b"Please reduce your request rate."), (b"AccessDenied", b"Access Denied")]


def delete_result(head, failed_keys, tail=b""):
    """A DeleteObjects answer: what the upstream said (`head`, up to its closing tag) and an <Error> per failed key."""
    if not head:
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    errors = b"".join(b"<Error><Key>%s</Key><Code>%s</Code><Message>%s</Message></Error>" % ((key,) + KEY_ERRORS[len(key) % len(KEY_ERRORS)])
                      for key in failed_keys)
    return head + errors + b"</DeleteResult>" + tail


def reset(writer):
    """Closes the connection with a TCP reset (SO_LINGER 0), as a crashed server or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def parse_faults(text):
    faults = {}
    for part in filter(None, (text or "").split(",")):
        kind, _, share = part.partition("=")
        if kind not in ("500", "503", "throttle", "reset", "reset-after", "stall", "truncate"):
            raise SystemExit(f"unknown fault '{kind}'")
        faults[kind] = float(share)
    if sum(faults.values()) > 1:
        raise SystemExit("the fault shares add up to more than 1")
    return faults


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--faults", default="")
    parser.add_argument("--stall-seconds", type=float, default=3)
    parser.add_argument("--expired-iterator", type=float, default=0)
    parser.add_argument("--trim-once", action="store_true")
    parser.add_argument("--key-errors", type=float, default=0)
    args = parser.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the upstream must be on the loopback interface")
    proxy = Proxy((upstream.hostname, upstream.port or 80), parse_faults(args.faults), args.seed, args.stall_seconds,
                  args.expired_iterator, args.trim_once, args.key_errors)
    await proxy.listen(args.port)
    print(proxy.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
