#!/usr/bin/env python3
"""Builds archiver's static test fixtures, deterministically (fixed seeds, no clock, no network).

    fixtures/feed.jsonl                   a realistic DynamoDB Streams change feed (JSON lines)
    fixtures/expected-feed-summary.json   what archiving feed.jsonl must give: counts, dead letters, keys
    fixtures/hostile/NNN-*.jsonl          one hostile record per file (raw bytes)
    fixtures/hostile/expected.json        file -> expected outcome
    fixtures/hostile/README.md            what each file exercises, and the decisions taken
    fixtures/hostile-targets/             deletions whose values fill deletion-rule templates, with expected outcomes

The expected archive keys are computed here, from the naming contract in DESIGN.md sections 3-4
(re-implemented in Python, independently of the Swift code), so the Swift tests compare two
implementations rather than the code with itself.

Usage:
    python3 scripts/make-fixtures.py            write the fixtures
    python3 scripts/make-fixtures.py --check    fail if the files on disk differ from what would be written
    python3 scripts/make-fixtures.py --big      also write the large hostile records (10 MB line, 1,000,000-deep
                                                nesting) to fixtures/hostile/generated/ (git-ignored)
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
HOSTILE = os.path.join(FIXTURES, "hostile")
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------------
# The naming contract (DESIGN.md section 3), re-implemented.
#
#   <YYYY>/<MM>/<DD>/<item key>.<HHMMSS>.<sequence>.<manual|ttl>.json.gz
#
# item key: the key values in the record's Keys order, each encoded, joined by "_":
#   kept as they are: ASCII letters and digits, # - _ . = @ + , and printable non-ASCII characters;
#   percent-encoded (%XX, upper-case hex, per UTF-8 byte): every other ASCII byte and the non-ASCII
#   characters of the categories Cc Cf Cs Co Cn Zl Zp Zs.
#   An empty result is "-"; a leading "." becomes "%2E". Longer than 184 bytes: cut to at most 160
#   bytes (never inside a character or a %XX escape), then "~" and 20 hex digits of SHA-256(whole key).
# sequence: dynamodb.SequenceNumber when it is 1-48 ASCII letters, digits or "-"; any other
#   SequenceNumber: "s" + 20 hex digits of SHA-256(it); none: "h" + 20 hex digits of SHA-256(record).
# kind: "ttl" when userIdentity is {"type":"Service","principalId":"dynamodb.amazonaws.com"}, else "manual".
# ---------------------------------------------------------------------------------------------------

SAFE_ASCII = set("#-_.=@+,")
ENCODED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
MAX_ITEM_KEY = 184
CUT_ITEM_KEY = 160


def percent(data):
    return "".join("%%%02X" % b for b in data)


def encode_value(value):
    out = []
    for ch in value:
        if ord(ch) < 0x80:
            out.append(ch if (ch.isalnum() or ch in SAFE_ASCII) else percent(ch.encode()))
        elif unicodedata.category(ch) in ENCODED_CATEGORIES:
            out.append(percent(ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def encode_item_key(values):
    encoded = "_".join(encode_value(v) for v in values)
    if encoded == "":
        encoded = "-"
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded.encode()) <= MAX_ITEM_KEY:
        return encoded
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:20]
    cut, length = "", 0
    for ch in encoded:  # (the fixtures avoid multi-scalar characters at the cut)
        size = len(ch.encode())
        if length + size > CUT_ITEM_KEY:
            break
        cut += ch
        length += size
    tail = cut[-2:]
    if "%" in tail:
        cut = cut[: len(cut) - len(tail) + tail.rindex("%")]
    return cut + "~" + digest


def sequence_part(sequence, record):
    if sequence is not None:
        raw = sequence.encode()
        if 0 < len(raw) <= 48 and all(c.isascii() and (c.isalnum() or c == "-") for c in sequence):
            return sequence
        return "s" + hashlib.sha256(raw).hexdigest()[:20]
    return "h" + hashlib.sha256(record).hexdigest()[:20]


def is_ttl(record):
    identity = record.get("userIdentity")
    return isinstance(identity, dict) and identity.get("type") == "Service" and identity.get("principalId") == "dynamodb.amazonaws.com"


def moment(seconds):
    return EPOCH + dt.timedelta(seconds=seconds)


def archive_key(values, seconds, sequence, kind, record):
    m = moment(seconds)
    return "%04d/%02d/%02d/%s.%02d%02d%02d.%s.%s.json.gz" % (
        m.year, m.month, m.day, encode_item_key(values), m.hour, m.minute, m.second,
        sequence_part(sequence, record), kind)


def key_of(record_bytes, seconds):
    """The archive key of a well-formed REMOVE record (bytes as the processor sees them)."""
    record = json.loads(record_bytes)
    ddb = record["dynamodb"]
    values = [next(iter(v.values())) for v in ddb["Keys"].values()]
    return archive_key(values, seconds, ddb.get("SequenceNumber"), "ttl" if is_ttl(record) else "manual", record_bytes)


def epoch(text):
    """Seconds since the epoch of an ISO-8601 date-time with a zone (Python's own parser)."""
    return int((dt.datetime.fromisoformat(text) - EPOCH).total_seconds())


def compact(obj, ascii=False):
    return json.dumps(obj, ensure_ascii=ascii, separators=(",", ":"))


def trim(data):
    """A line as the JSON-lines source hands it over: surrounding spaces, tabs, CR and LF removed."""
    return data.strip(b" \t\r\n")


# ---------------------------------------------------------------------------------------------------
# fixtures/feed.jsonl
# ---------------------------------------------------------------------------------------------------

FEED_SEED = 20240129
FEED_START = epoch("2024-01-29T00:00:00+00:00")
FEED_END = epoch("2024-02-04T00:00:00+00:00")  # six days: 2024-01-29 .. 2024-02-03
ACCOUNT = "123456789012"


def arn(table):
    return "arn:aws:dynamodb:us-east-1:%s:table/%s/stream/2024-01-01T00:00:00.000" % (ACCOUNT, table)


class Feed:
    """A small simulated application: three tables, items inserted, modified and deleted."""

    # Key values chosen to be awkward in a path; each gets an item that is inserted and deleted.
    ODD_KEYS = [
        ("USER#../../etc/passwd", "PROFILE"),
        ("USER#a/b/c", "PROFILE"),
        ("USER#C:\\Users\\Public", "PROFILE"),
        ("USER#with space", "PROFILE"),
        ("USER#100%_done", "PROFILE"),
        ("USER#snake_case_id", "PROFILE_v2"),
        ("#hash#start", "#"),
        ("..", ".."),
        (".hidden", "SK"),
        ("USER#Zoë Saldaña", "PROFILE"),
        ("USER#東京都", "住所#渋谷区"),
        ("USER#🔑🎉", "EMOJI#😀"),
        ("USER#مرحبا", "PROFILE#שלום"),
        ("USER#tab\there", "line\nbreak"),
        ("USER#quote\"and\\backslash", "PROFILE"),
        ("USER#ctl\u0001\u001f\u007f", "PROFILE"),
        ("USER#rtl\u202etxt.exe", "PROFILE"),
        ("USER#" + "x" * 300, "PROFILE"),
        ("USER#" + "長" * 120, "PROFILE"),
        ("", "EMPTY#PK"),
    ]

    def __init__(self, times=None):
        self.rng = random.Random(FEED_SEED)
        self.times = times  # the event times, drawn up front (None: a dry run that only counts events)
        self.sequence = 1100000000017454423011
        self.events = []
        self.live = {}  # (table, key JSON) -> (keys, item)
        self.next_user = 1000

    def now(self):
        """The time of the next event."""
        return self.times[len(self.events)] if self.times else FEED_START

    # -- values ------------------------------------------------------------------------------------

    def hex(self, bits):
        return "%0*x" % (bits // 4, self.rng.getrandbits(bits))

    def blob(self, size):
        return base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(size))).decode()

    def user_item(self, pk, sk, rich=False):
        rng = self.rng
        first = rng.choice(["Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "François", "Günther", "Hiroshi",
                            "Ingrid", "José", "Kateřina", "Łukasz", "María", "Nguyễn", "Oğuz", "Priya"])
        last = rng.choice(["Smith", "Müller", "García", "Łęcki", "Ødegaard", "Nakamura", "Ivanova",
                           "O'Brien", "van der Berg", "Żółć"])
        item = {
            "PK": {"S": pk}, "SK": {"S": sk},
            "email": {"S": "%s.%d@example.com" % (first.lower(), rng.randint(1, 9999))},
            "name": {"S": "%s %s" % (first, last)},
            "createdAt": {"S": "2023-%02d-%02dT%02d:%02d:00Z" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))},
            "loginCount": {"N": str(rng.randint(0, 5000))},
            "verified": {"BOOL": rng.random() < 0.7},
            "preferences": {"M": {"theme": {"S": rng.choice(["dark", "light"])},
                                  "locale": {"S": rng.choice(["en-US", "fr-FR", "ja-JP", "ar-EG", "he-IL"])},
                                  "notifications": {"M": {"email": {"BOOL": True}, "sms": {"BOOL": rng.random() < 0.3}}}}},
            "roles": {"SS": sorted(rng.sample(["admin", "editor", "viewer", "billing", "support"], rng.randint(1, 3)))},
        }
        if rng.random() < 0.5:
            item["balance"] = {"N": "%s%d.%02d" % (rng.choice(["", "-"]), rng.randint(0, 99999), rng.randint(0, 99))}
        if rng.random() < 0.3:
            item["avatar"] = {"B": self.blob(rng.randint(16, 96))}
        if rng.random() < 0.3:
            item["bio"] = {"S": rng.choice(["Café owner ☕", "東京在住のエンジニア", "Ich liebe Äpfel", "מתכנת", "Λάμδα", "🚀 builder"])}
        if rich:
            item.update(self.kitchen_sink())
        return item

    def kitchen_sink(self):
        """Every DynamoDB type, nested, with the awkward numbers and texts."""
        return {
            "s": {"S": "plain text"},
            "sEmpty": {"S": ""},
            "sUnicode": {"S": "Zoë · 東京 · 😀👍🏽 · مرحبا · שלום · e\u0301 · \u200bzero\u200dwidth"},
            "sEscapes": {"S": "quote \" backslash \\ slash / tab \t newline \n nul \u0000 bell \u0007"},
            "n": {"N": "42"},
            "nNegative": {"N": "-17.25"},
            "n38": {"N": "12345678901234567890123456789012345678"},
            "n38Negative": {"N": "-0.00000000000000000000000000000000000001"},
            "nExponent": {"N": "6.02214076E+23"},
            "nTiny": {"N": "1E-130"},
            "nHuge": {"N": "9.9999999999999999999999999999999999999E+125"},
            "b": {"B": "3q2+7w=="},
            "bEmpty": {"B": ""},
            "bool": {"BOOL": False},
            "null": {"NULL": True},
            "ss": {"SS": ["a", "b/c", "ünïcödé", "🙂"]},
            "ns": {"NS": ["1", "-2.5", "3E+10", "99999999999999999999999999999999999999"]},
            "bs": {"BS": ["AAEC", "/+8=", "SGVsbG8="]},
            "m": {"M": {"inner": {"M": {"deeper": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"three": {"BOOL": True}}}]}}},
                        "emptyMap": {"M": {}}, "emptyList": {"L": []}}},
            "l": {"L": [{"S": "x"}, {"N": "0"}, {"NULL": True}, {"B": "AA=="}, {"SS": ["only"]}, {"L": [{"L": [{"BOOL": True}]}]}]},
        }

    def session_item(self, pk, sk, lifetime):
        rng = self.rng
        return {
            "PK": {"S": pk}, "SK": {"S": sk},
            "userId": {"S": "USER#%d" % rng.randint(1000, 1200)},
            "expiresAt": {"N": str(self.now() + lifetime)},
            "sessionData": {"M": {"ip": {"S": "203.0.113.%d" % rng.randint(1, 254)},
                                  "userAgent": {"S": rng.choice(["Mozilla/5.0 (iPhone)", "curl/8.5.0", "okhttp/4.12"])},
                                  "scopes": {"L": [{"S": s} for s in rng.sample(["read", "write", "upload", "admin"], 2)]}}},
            "deviceKeys": {"BS": [self.blob(16) for _ in range(rng.randint(1, 3))]},
        }

    def upload_item(self, pk, lifetime):
        rng = self.rng
        parts = rng.randint(1, 4)
        return {
            "PK": {"S": pk}, "SK": {"S": "TICKET"},
            "status": {"S": rng.choice(["CREATED", "UPLOADING", "PARTIAL"])},
            "ttl": {"N": str(self.now() + lifetime)},
            "parts": {"L": [{"M": {"partNumber": {"N": str(i + 1)}, "etag": {"S": "\"%s\"" % self.hex(128)},
                                   "size": {"N": str(rng.randint(5 << 20, 100 << 20))}}} for i in range(parts)]},
            "checksum": {"B": self.blob(32)},
        }

    # -- events ------------------------------------------------------------------------------------

    def add(self, name, table, keys, new=None, old=None, ttl=False, view="NEW_AND_OLD_IMAGES", time_format=None, ascii=None):
        self.events.append(dict(name=name, table=table, keys=keys, new=new, old=old, ttl=ttl, view=view,
                                time_format=time_format, ascii=ascii, time=self.now()))

    def insert(self, table, keys, item, **options):
        self.live[(table, json.dumps(keys))] = (keys, item)
        self.add("INSERT", table, keys, new=item, **options)

    def modify(self, table, key_id, **options):
        keys, item = self.live[(table, key_id)]
        new = json.loads(json.dumps(item))
        new["updatedAt"] = {"S": "2024-0%d-%02dT%02d:%02d:%02dZ" % (self.rng.randint(1, 2), self.rng.randint(1, 28), self.rng.randint(0, 23), self.rng.randint(0, 59), self.rng.randint(0, 59))}
        if "loginCount" in new:
            new["loginCount"] = {"N": str(int(new["loginCount"]["N"]) + 1)}
        self.live[(table, key_id)] = (keys, new)
        self.add("MODIFY", table, keys, new=new, old=item, **options)

    def remove(self, table, key_id, ttl=False, **options):
        keys, item = self.live.pop((table, key_id))
        self.add("REMOVE", table, keys, old=item, ttl=ttl, **options)

    def build(self):
        rng = self.rng
        # Scripted: every awkward key is inserted and deleted (manually).
        for pk, sk in self.ODD_KEYS:
            keys = {"PK": {"S": pk}, "SK": {"S": sk}}
            self.insert("app-main", keys, self.user_item(pk, sk))
        # Scripted: the kitchen-sink item, modified, then deleted.
        sink_keys = {"PK": {"S": "USER#1"}, "SK": {"S": "KITCHEN#SINK"}}
        self.insert("app-main", sink_keys, self.user_item("USER#1", "KITCHEN#SINK", rich=True))
        # Scripted: number keys and binary keys (single-attribute key schemas).
        for number in ["42", "-7", "3.14159", "12345678901234567890123456789012345678", "-1E-130", "0"]:
            keys = {"id": {"N": number}}
            self.insert("counters", keys, {"id": {"N": number}, "value": {"N": str(rng.randint(0, 10**12))},
                                           "label": {"S": "counter %s" % number}})
        for raw in [b"\xfb\xff\xfe" * 6, b"\x00" * 16, bytes(range(32)), b"archiver"]:
            digest = base64.b64encode(raw).decode()
            keys = {"digest": {"B": digest}}
            self.insert("blobs", keys, {"digest": {"B": digest}, "size": {"N": str(rng.randint(1, 10**9))},
                                        "contentType": {"S": rng.choice(["image/png", "application/pdf", "video/mp4"])},
                                        "preview": {"B": self.blob(rng.randint(32, 256))}})
        # A keys-only stream (an audit table): its REMOVE carries no OldImage.
        audit_keys = {"PK": {"S": "AUDIT#2024-01-29"}, "SK": {"N": "17"}}
        self.add("INSERT", "audit-log", audit_keys, view="KEYS_ONLY")

        scripted_removes = [(t, k) for (t, k) in self.live.keys()]
        rng.shuffle(scripted_removes)

        # Random traffic: users (manual deletes), sessions and upload tickets (TTL expiries once expired,
        # or a manual delete: a logout). Every step writes exactly one event, so the count does not depend
        # on the times and they can be drawn up front.
        def expiry(item):
            field = item.get("expiresAt") or item.get("ttl")
            return int(field["N"]) if field else None

        for step in range(330):
            roll = rng.random()
            now = self.now()
            candidates = sorted(k for k in self.live if k[0] == "app-main")
            if 0.34 <= roll < 0.58 and candidates:
                self.modify(*rng.choice(candidates))
                continue
            if roll >= 0.58:
                if scripted_removes and rng.random() < 0.3:
                    self.remove(*scripted_removes.pop())
                    continue
                expired = sorted(k for k, (_, item) in self.live.items() if k[0] == "app-main" and (expiry(item) or now + 1) <= now)
                if expired and rng.random() < 0.8:
                    self.remove(*rng.choice(expired), ttl=True)
                    continue
                candidates = sorted(k for k in self.live if k[0] == "app-main" and k not in scripted_removes)
                if candidates:
                    self.remove(*rng.choice(candidates))
                    continue
            kind = rng.random()
            if kind < 0.4:
                self.next_user += 1
                pk = "USER#%d" % self.next_user
                sk = rng.choice(["PROFILE", "SETTINGS", "ADDRESS#home", "ADDRESS#work"])
                self.insert("app-main", {"PK": {"S": pk}, "SK": {"S": sk}}, self.user_item(pk, sk))
            elif kind < 0.8:
                pk = "SESSION#" + self.hex(64)
                sk = moment(now).strftime("%Y-%m-%dT%H:%M:%SZ")
                self.insert("app-main", {"PK": {"S": pk}, "SK": {"S": sk}}, self.session_item(pk, sk, rng.randint(600, 8 * 3600)))
            else:
                pk = "UPLOAD#%s-%s-%s" % (self.hex(32), self.hex(16), self.hex(48))
                self.insert("app-main", {"PK": {"S": pk}, "SK": {"S": "TICKET"}}, self.upload_item(pk, rng.randint(600, 4 * 3600)))
        # Whatever scripted item is still there is deleted now; the audit REMOVE has no image.
        for table, key_id in scripted_removes:
            if (table, key_id) in self.live:
                self.remove(table, key_id)
        self.add("REMOVE", "audit-log", audit_keys, view="KEYS_ONLY")
        # The same item deleted twice (re-created in between): two objects, one item key.
        again = {"PK": {"S": "USER#1"}, "SK": {"S": "KITCHEN#SINK"}}
        self.insert("app-main", again, self.user_item("USER#1", "KITCHEN#SINK"))
        self.remove("app-main", json.dumps(again))
        # A few short sessions at the end, expired by TTL, so the last day has TTL deletes too.
        late = []
        for _ in range(12):
            pk = "SESSION#" + self.hex(64)
            keys = {"PK": {"S": pk}, "SK": {"S": moment(self.now()).strftime("%Y-%m-%dT%H:%M:%SZ")}}
            self.insert("app-main", keys, self.session_item(pk, keys["SK"]["S"], 0))
            late.append(json.dumps(keys))
        for key_id in late:
            self.remove("app-main", key_id, ttl=True)

    # -- rendering ---------------------------------------------------------------------------------

    def render(self):
        """Lines (bytes, without newline) and, per line, what archiving it must give."""
        rng = self.rng
        lines = []
        for index, event in enumerate(self.events):
            t = event["time"]
            self.sequence += rng.randint(1, 9000)
            roll = rng.random()
            time_format = event["time_format"] or ("int" if roll < 0.82 else "frac" if roll < 0.91 else "iso" if roll < 0.96 else "iso-offset")
            if time_format == "int":
                time_text = str(t)
            elif time_format == "frac":
                time_text = "%d.%03d" % (t, rng.randint(0, 999))
            elif time_format == "iso":
                time_text = '"%s"' % moment(t).strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                hours = rng.choice([-8, -5, 1, 9])
                minutes = rng.choice([0, 30]) if hours == 9 else 0
                offset = dt.timedelta(hours=hours, minutes=minutes if hours > 0 else -minutes)
                local = moment(t).astimezone(dt.timezone(offset))
                time_text = '"%s.%03d%s"' % (local.strftime("%Y-%m-%dT%H:%M:%S"), rng.randint(0, 999), local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])
            ddb = {"ApproximateCreationDateTime": "@@TIME@@", "Keys": event["keys"]}
            if event["view"] == "NEW_AND_OLD_IMAGES":
                if event["new"] is not None:
                    ddb["NewImage"] = event["new"]
                if event["old"] is not None:
                    ddb["OldImage"] = event["old"]
            ddb["SequenceNumber"] = str(self.sequence)
            ddb["SizeBytes"] = len(compact(event["keys"])) + len(compact(event["new"] or {})) + len(compact(event["old"] or {}))
            ddb["StreamViewType"] = event["view"]
            record = {"eventID": self.hex(128), "eventName": event["name"], "eventVersion": "1.1",
                      "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": ddb}
            if event["ttl"]:
                record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
            record["eventSourceARN"] = arn(event["table"])
            ascii = event["ascii"] if event["ascii"] is not None else rng.random() < 0.15
            text = compact(record, ascii=ascii).replace('"@@TIME@@"', time_text)
            data = text.encode()
            expect = {"event": event["name"]}
            if event["name"] == "REMOVE":
                if event["old"] is None:
                    expect.update(outcome="dead-letter", code="no-old-image")
                else:
                    expect.update(outcome="archived", kind="ttl" if event["ttl"] else "manual", key=key_of(data, t))
            else:
                expect.update(outcome="passed-over")
            lines.append((data, expect))
            # Damaged lines, as a crashed or buggy producer leaves them, at fixed places.
            if index in DAMAGE:
                lines.append(DAMAGE[index](data))
        return lines


def damage_truncated(data):
    return data[: len(data) // 2], {"outcome": "dead-letter", "code": "truncated-json"}


def damage_missing_comma(data):
    return data.replace(b'","eventVersion"', b'" "eventVersion"', 1), {"outcome": "dead-letter", "code": "malformed-json"}


def damage_latin1(data):
    # A producer that wrote Latin-1: "é" as the single byte 0xE9.
    damaged = data.replace(b'"eventSource"', b'"note":"caf\xe9","eventSource"', 1)
    return damaged, {"outcome": "dead-letter", "code": "invalid-utf8"}


def damage_doubled(data):
    return data + b"}", {"outcome": "dead-letter", "code": "trailing-data"}


DAMAGE = {57: damage_truncated, 141: damage_missing_comma, 233: damage_latin1, 301: damage_doubled}


def build_feed():
    dry = Feed()
    dry.build()
    draw = random.Random(FEED_SEED + 1)
    times = sorted(draw.randint(FEED_START, FEED_END - 1) for _ in range(len(dry.events)))
    feed = Feed(times)
    feed.build()
    assert len(feed.events) == len(times)
    lines = feed.render()
    body = b"".join(data + b"\n" for data, _ in lines)
    summary = {
        "fixture": "feed.jsonl",
        "generated_by": "scripts/make-fixtures.py (seed %d)" % FEED_SEED,
        "read": len(lines),
        "insert": sum(1 for _, e in lines if e.get("event") == "INSERT"),
        "modify": sum(1 for _, e in lines if e.get("event") == "MODIFY"),
        "remove": sum(1 for _, e in lines if e.get("event") == "REMOVE"),
        "archived": sum(1 for _, e in lines if e["outcome"] == "archived"),
        "archived_manual": sum(1 for _, e in lines if e.get("kind") == "manual"),
        "archived_ttl": sum(1 for _, e in lines if e.get("kind") == "ttl"),
        "passed_over": sum(1 for _, e in lines if e["outcome"] == "passed-over"),
        "dead_lettered": sum(1 for _, e in lines if e["outcome"] == "dead-letter"),
        "dead_letters": [{"line": i + 1, "code": e["code"]} for i, (_, e) in enumerate(lines) if e["outcome"] == "dead-letter"],
        "archived_by_day": {},
        "archived_keys": [{"line": i + 1, "key": e["key"]} for i, (_, e) in enumerate(lines) if e["outcome"] == "archived"],
    }
    for entry in summary["archived_keys"]:
        day = entry["key"][:10]
        summary["archived_by_day"][day] = summary["archived_by_day"].get(day, 0) + 1
    assert summary["archived"] + summary["passed_over"] + summary["dead_lettered"] == summary["read"]
    assert len({e["key"] for e in summary["archived_keys"]}) == summary["archived"], "two deletions share a name"
    return body, summary


# ---------------------------------------------------------------------------------------------------
# fixtures/hostile/
# ---------------------------------------------------------------------------------------------------

BASE_TIME = 1705314600  # 2024-01-15T10:30:00Z
SEQ = "1100000000017454423011"
OLD = '{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"email":{"S":"user@example.com"},"name":{"S":"John Doe"}}'
KEYS = '{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"}}'
TTL_IDENTITY = '{"type":"Service","principalId":"dynamodb.amazonaws.com"}'


def record(event='"REMOVE"', keys=KEYS, old=OLD, new=None, time=str(BASE_TIME), seq='"%s"' % SEQ, identity=None,
           view="NEW_AND_OLD_IMAGES", event_member="eventName", ddb=None, top_extra="", ddb_extra=""):
    """A stream record as text, built from raw JSON pieces (None leaves a member out)."""
    if ddb is None:
        parts = []
        if time is not None:
            parts.append('"ApproximateCreationDateTime":' + time)
        if keys is not None:
            parts.append('"Keys":' + keys)
        if new is not None:
            parts.append('"NewImage":' + new)
        if old is not None:
            parts.append('"OldImage":' + old)
        if seq is not None:
            parts.append('"SequenceNumber":' + seq)
        parts.append('"SizeBytes":120')
        parts.append('"StreamViewType":"%s"' % view)
        ddb = "{" + ",".join(parts) + ddb_extra + "}"
    top = ['"eventID":"c4ca4238a0b923820dcc509a6f75849b"']
    if event is not None:
        top.append('"%s":%s' % (event_member, event))
    top += ['"eventVersion":"1.1"', '"eventSource":"aws:dynamodb"', '"awsRegion":"us-east-1"']
    if ddb is not False:
        top.append('"dynamodb":' + ddb)
    if identity is not None:
        top.append('"userIdentity":' + identity)
    top.append('"eventSourceARN":"%s"' % arn("users"))
    return ("{" + ",".join(top) + top_extra + "}").encode()


def keys_s(*values, names=("PK", "SK")):
    return "{" + ",".join('"%s":{"S":%s}' % (n, json.dumps(v, ensure_ascii=False)) for n, v in zip(names, values)) + "}"


def nested(depth, innermost="0"):
    """An OldImage whose nesting, counted from OldImage's own brace as level 1, is `depth` containers."""
    inner = depth - 1
    return '{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"deep":' + "[" * inner + innermost + "]" * inner + "}"


class Corpus:
    def __init__(self):
        self.cases = []

    def add(self, slug, data, outcome, code=None, when=None, why="", currently=None, fix=None, newline=b"\n", key=None, currently_text=None):
        """One hostile record. `outcome`/`code`/`when` say what a careful archivist wants; `currently`
        (outcome, code-or-when) says what the code does today when that differs, and `fix` how to change it."""
        file_bytes = data + newline
        # Every case the code once got wrong is fixed now; `currently`/`fix` stay in the calls as history.
        currently, fix, currently_text = None, None, None
        expect = self.expectation(file_bytes, outcome, code, when, key)
        entry = dict(expect)
        if currently is not None:
            entry["currently"] = self.expectation(file_bytes, *currently)
        name = "%03d-%s.jsonl" % (len(self.cases) + 1, slug)
        self.cases.append(dict(name=name, bytes=file_bytes, expect=entry, why=why, fix=fix, currently_text=currently_text))

    @staticmethod
    def expectation(file_bytes, outcome, code=None, when=None, key=None):
        if outcome == "archived":
            return {"outcome": "archived", "key": key or key_of(trim(file_bytes), when)}
        if outcome == "passed-over":
            return {"outcome": "passed-over"}
        assert outcome == "dead-letter" and code
        return {"outcome": "dead-letter", "code": code}


def build_hostile():
    c = Corpus()
    T = BASE_TIME

    # -- baselines -------------------------------------------------------------------------------
    c.add("baseline-remove-manual", record(), "archived", when=T, why="A well-formed manual delete: the reference the other cases vary.")
    c.add("baseline-remove-ttl", record(identity=TTL_IDENTITY), "archived", when=T, why="A TTL expiry (userIdentity Service / dynamodb.amazonaws.com).")
    c.add("baseline-insert", record('"INSERT"', old=None, new=OLD), "passed-over", why="INSERT is counted and passed over.")
    c.add("baseline-modify", record('"MODIFY"', new=OLD.replace("John", "Jane")), "passed-over", why="MODIFY is counted and passed over.")

    # -- truncated -------------------------------------------------------------------------------
    full = record()
    c.add("truncated-after-keys-colon", full[: full.index(b'"Keys":') + 7], "dead-letter", "truncated-json", why="The line ends where a value should start.")
    c.add("truncated-mid-string", full[: full.index(b"user@exa") + 8], "dead-letter", "truncated-json", why="The line ends inside a string.")
    c.add("truncated-mid-escape", record(keys=keys_s("USER#123", "PROFILE")).split(b"PROFILE")[0] + b"PRO\\u00", "dead-letter", "truncated-json",
          why="The line ends inside a \\u escape.")
    c.add("truncated-mid-number", full[: full.index(b"1705314600") + 5], "dead-letter", "truncated-json", why="The line ends inside a number.")
    c.add("truncated-mid-literal", record(old='{"PK":{"S":"USER#123"},"ok":{"BOOL":true}}').split(b"true")[0] + b"tr", "dead-letter", "truncated-json",
          why="The line ends inside true.")
    c.add("truncated-inside-utf8-character", full[: full.index(b"John")] + "Zoë".encode()[:-1], "dead-letter", "truncated-json",
          currently=("dead-letter", "invalid-utf8"),
          why="The line ends in the middle of a two-byte character (a write cut short). The text is not invalid, it is cut: "
              "the reason should say truncated, or an operator goes looking for an encoding problem.",
          fix="RecordScanner.Cursor.utf8Sequence: when `index + length > count` and the bytes present are a valid prefix "
              "(second byte within lower...upper, the rest 0x80-0xBF), throw `.truncated` instead of `.invalidUTF8`.")
    c.add("truncated-after-old-image-colon", full[: full.index(b'"OldImage":') + 11], "dead-letter", "truncated-json",
          currently=("dead-letter", "wrong-type"),
          why="The line ends right after \"OldImage\":. The scanner reports 'dynamodb.OldImage should be an object' (wrong-type), "
              "but nothing of the wrong type is there: the line is cut.",
          fix="RecordScanner.Cursor.dynamodbObject, OldImage case: `guard let byte = cursor.peek() else { throw cursor.fail(.truncated) }` "
              "before testing for 'n' and '{'.")
    c.add("truncated-no-newline", full[:-40], "dead-letter", "truncated-json", newline=b"",
          why="A cut line with no newline. (The JSON-lines source with --once leaves an incomplete last line for the next "
              "run; the processor, handed it, dead-letters it.)")
    c.add("only-open-brace", b"{", "dead-letter", "truncated-json", why="Just '{'.")

    # -- invalid UTF-8 ---------------------------------------------------------------------------
    def in_key(raw):
        return record(keys=keys_s("USER#@@", "PROFILE")).replace(b"@@", raw)

    def in_old(raw):
        return record(old='{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"bio":{"S":"@@"}}').replace(b"@@", raw)

    c.add("utf8-overlong-slash-in-key", in_key(b"\xc0\xaf"), "dead-letter", "invalid-utf8", why="Overlong '/' (C0 AF): the classic path-traversal smuggle.")
    c.add("utf8-overlong-3-byte", in_old(b"\xe0\x80\xaf"), "dead-letter", "invalid-utf8", why="Overlong three-byte '/' (E0 80 AF) in OldImage.")
    c.add("utf8-overlong-nul", in_key(b"\xc0\x80"), "dead-letter", "invalid-utf8", why="Modified-UTF-8 NUL (C0 80).")
    c.add("utf8-surrogate-code-point", in_old(b"\xed\xa0\x80"), "dead-letter", "invalid-utf8", why="U+D800 encoded directly (CESU/WTF-8): not UTF-8.")
    c.add("utf8-stray-continuation", in_key(b"\x80"), "dead-letter", "invalid-utf8", why="A continuation byte with no lead.")
    c.add("utf8-latin1-byte", in_old(b"Zo\xe9 Salda\xf1a"), "dead-letter", "invalid-utf8", why="Latin-1 text (E9, F1) from a mis-configured producer.")
    c.add("utf8-above-10ffff", in_old(b"\xf4\x90\x80\x80"), "dead-letter", "invalid-utf8", why="F4 90 80 80 would be U+110000.")
    c.add("utf8-byte-ff", in_old(b"\xff\xfe"), "dead-letter", "invalid-utf8", why="FF and FE never occur in UTF-8.")
    c.add("utf8-lead-without-continuation", in_old(b"\xe2\x82 euro"), "dead-letter", "invalid-utf8", why="A three-byte lead followed by a space.")
    c.add("utf8-invalid-in-member-name", record(old='{"PK":{"S":"USER#123"},"bi@@o":{"S":"x"}}').replace(b"@@", b"\xc3\x28"), "dead-letter", "invalid-utf8",
          why="Invalid UTF-8 in a member name inside OldImage.")
    c.add("utf8-invalid-between-tokens", full.replace(b',"eventVersion"', b',\xc2\xa0"eventVersion"', 1), "dead-letter", "malformed-json",
          why="A no-break space (valid UTF-8, not JSON whitespace) between members.")
    c.add("utf8-invalid-in-insert", record('"INSERT"', old=None, new='{"PK":{"S":"@@"}}').replace(b"@@", b"\xff"),
          "dead-letter", "invalid-utf8", why="An INSERT that is not UTF-8 is dead-lettered too: the record is broken, whatever its kind.")
    c.add("utf16le-with-bom", b"\xff\xfe" + full.decode().encode("utf-16-le"), "dead-letter", "not-an-object", newline=b"",
          why="A UTF-16 file: not UTF-8 JSON at all.")

    # -- depth -----------------------------------------------------------------------------------
    c.add("depth-10000-in-old-image", record(old=nested(10000)), "archived", key=archive_key(["USER#123", "PROFILE"], T, SEQ, "manual", b""),
          why="10,000 levels counted from OldImage's own brace: the scanner's limit, accepted and archived byte for byte. "
              "(Note: jq 1.6 stops at 256 levels and Python's json near 1,000, so such an object is kept but hard to read back; "
              "DynamoDB itself allows 32.)")
    c.add("depth-10001-in-old-image", record(old=nested(10001)), "dead-letter", "too-deep", why="One level more than the limit.")
    c.add("depth-10001-innermost-empty", record(old=nested(10001, innermost="")), "archived", key=archive_key(["USER#123", "PROFILE"], T, SEQ, "manual", b""),
          why="10,001 levels whose innermost is an empty []: the scanner does not count an empty container as a level "
              "(it never opens it), so this is accepted. Harmless; recorded so the boundary is exact.")
    c.add("depth-10001-in-unknown-member", record(top_extra=',"extra":' + "[" * 10001 + "0" + "]" * 10001), "dead-letter", "too-deep",
          why="The limit applies to members the pipeline does not read, too.")

    # -- long values -----------------------------------------------------------------------------
    c.add("key-2000-ascii", record(keys=keys_s("USER#" + "a" * 2000, "PROFILE")), "archived", when=T,
          why="A 2,005-character key value: the name is cut to 160 bytes plus '~' and a hash of the whole; the segment stays under 255 bytes.")
    c.add("key-2000-cjk", record(keys=keys_s("鍵" * 2000, "PROFILE")), "archived", when=T,
          why="2,000 three-byte characters: cut on a character boundary.")
    c.add("key-2000-slashes", record(keys=keys_s("/" * 2000, "PROFILE")), "archived", when=T,
          why="2,000 '/': every one encoded as %2F; the cut never splits an escape.")
    c.add("key-2000-control-escapes", record(keys=keys_s("\u0001" * 2000)), "archived", when=T,
          why="2,000 escaped control characters (\\u0001): %01 each, cut on an escape boundary.")
    c.add("key-100-attributes", record(keys="{" + ",".join('"k%d":{"S":"value-%d"}' % (i, i) for i in range(100)) + "}"), "archived", when=T,
          why="100 key attributes (DynamoDB has at most two): joined, cut and hashed like one long value.")
    c.add("sequence-number-60-digits", record(seq='"%s"' % ("9" * 60)), "archived", when=T,
          why="A sequence number longer than 48 characters is replaced by 's' and a hash of it.")
    c.add("sequence-number-missing", record(seq=None), "archived", when=T,
          why="No SequenceNumber: the name carries 'h' and a hash of the record's bytes, so a replay still gives the same name.")
    c.add("sequence-number-with-slash", record(seq='"../1"'), "archived", when=T, why="A sequence number that is not plain: hashed, never placed in the path.")
    c.add("sequence-number-empty", record(seq='""'), "archived", when=T, why="An empty sequence number: hashed.")

    # -- duplicates ------------------------------------------------------------------------------
    c.add("duplicate-event-name", full.replace(b'"eventName":"REMOVE"', b'"eventName":"INSERT","eventName":"REMOVE"'), "dead-letter", "duplicate-field",
          why="eventName twice: readers disagree on which wins, so the record is ambiguous.")
    c.add("duplicate-event-name-escaped", full.replace(b'"eventName":"REMOVE"', b'"eventName":"INSERT","eventN\\u0061me":"REMOVE"'), "dead-letter", "duplicate-field",
          why="eventName twice, once spelled with an escape: the same name.")
    c.add("duplicate-in-old-image", record(old='{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"email":{"S":"a@example.com"},"email":{"S":"b@example.com"}}'),
          "archived", when=T, why="A duplicate inside OldImage is the item's business: archived as it came, byte for byte.")
    c.add("duplicate-dynamodb", full.replace(b',"eventSourceARN"', b',"dynamodb":{},"eventSourceARN"'), "dead-letter", "duplicate-field", why="dynamodb twice.")
    c.add("duplicate-key-attribute", record(keys='{"PK":{"S":"USER#123"},"PK":{"S":"USER#456"}}'), "dead-letter", "duplicate-field",
          why="The same key attribute twice in Keys.")
    c.add("duplicate-event-time", record(ddb_extra=',"ApproximateCreationDateTime":0'), "dead-letter", "duplicate-field", why="Two event times.")
    c.add("duplicate-sequence-number", record(ddb_extra=',"SequenceNumber":"1"'), "dead-letter", "duplicate-field", why="Two sequence numbers.")
    c.add("duplicate-old-image-null-first", record(old="null", ddb_extra=',"OldImage":' + OLD), "dead-letter", "duplicate-field",
          currently=("archived", None, T),
          why="OldImage twice, null then an object. A reader that takes the first sees no item; one that takes the last sees it. "
              "The record is ambiguous and must not be archived as if it were clear.",
          fix="RecordScanner.Cursor.dynamodbObject: track `sawOldImage` (as for the event time) instead of testing "
              "`fields.oldImageRange == nil`, which stays nil after a null OldImage.")
    c.add("duplicate-user-identity-empty-first", record(identity="{}", top_extra=',"userIdentity":' + TTL_IDENTITY), "dead-letter", "duplicate-field",
          currently=("archived", None, T),
          why="userIdentity twice, {} then the TTL identity: first-wins readers call it manual, last-wins readers TTL. Ambiguous.",
          fix="RecordScanner.Cursor.record: track `sawUserIdentity` instead of testing `identityType == nil, principalID == nil`, "
              "which stay nil after an empty or null userIdentity.")
    c.add("duplicate-unread-member", record(top_extra=',"awsRegion":"eu-west-1"'), "archived", when=T,
          why="A duplicate of a member the pipeline does not read (awsRegion): archived as it came.")

    # -- NUL -------------------------------------------------------------------------------------
    c.add("nul-raw-in-key-value", in_key(b"\x00"), "dead-letter", "control-character", why="A raw NUL inside a string is not JSON.")
    c.add("nul-escaped-in-key-value", record(keys=keys_s("USER#\u0000123", "PROFILE")), "archived", when=T,
          why="\\u0000 in a key value is legal JSON: archived, the NUL encoded as %00 in the name.")
    c.add("nul-raw-between-tokens", full.replace(b',"eventVersion"', b',\x00"eventVersion"', 1), "dead-letter", "malformed-json", why="A raw NUL between members.")
    c.add("nul-padding-after-record", full + b"\x00" * 64, "dead-letter", "trailing-data",
          why="A record followed by NUL bytes, as a file system leaves a file after a crash.")
    c.add("nul-line", b"\x00" * 512, "dead-letter", "not-an-object", why="A line of NUL bytes (the same crash, a whole block).")

    # -- numbers ---------------------------------------------------------------------------------
    def n_key(value):
        return record(keys='{"id":{"N":%s}}' % json.dumps(value), old='{"id":{"N":%s},"v":{"S":"x"}}' % json.dumps(value))

    c.add("number-38-digits-in-old-image", record(old='{"PK":{"S":"USER#123"},"n":{"N":"12345678901234567890123456789012345678"},"neg":{"N":"-9.9999999999999999999999999999999999999E+125"}}'),
          "archived", when=T, why="38-digit numbers in the image: kept as the text they are.")
    c.add("number-60-digits-in-old-image", record(old='{"PK":{"S":"USER#123"},"n":{"N":"%s"}}' % ("1" * 60)), "archived", when=T,
          why="A 60-digit number in the image is not valid DynamoDB, but the image is archived as it came (never parsed).")
    c.add("number-key-38-digits", n_key("12345678901234567890123456789012345678"), "archived", when=T, why="A 38-digit number key: the name keeps all digits.")
    c.add("number-key-39-significant-digits", n_key("123456789012345678901234567890123456789"), "dead-letter", "bad-key",
          why="39 significant digits: more than DynamoDB can hold, so not a real key.")
    c.add("number-key-trailing-zeros", n_key("1" + "0" * 41), "archived", when=T,
          currently=("dead-letter", "bad-key"),
          why="10^41 written out: 42 digits but one significant digit. DynamoDB keeps numbers to 38 significant digits and "
              "trims leading and trailing zeros, so this is a valid key and a real deletion would be lost to the dead-letter folder.",
          fix="isDynamoDBNumber (RecordScanner.swift): count significant digits from the first non-zero digit to the last "
              "non-zero digit (trailing zeros, before or after the point, are not significant).")
    c.add("number-key-not-a-number", n_key("abc"), "dead-letter", "bad-key", why="An N key that is not a number.")
    c.add("number-key-empty", n_key(""), "dead-letter", "bad-key", why="An empty N key.")
    c.add("number-key-hex", n_key("0x1F"), "dead-letter", "bad-key", why="Hexadecimal is not a DynamoDB number.")
    c.add("number-key-with-space", n_key(" 42"), "dead-letter", "bad-key", why="A leading space.")
    c.add("number-key-nan", n_key("NaN"), "dead-letter", "bad-key", why="NaN is not a DynamoDB number.")
    c.add("number-key-exponent", n_key("1.5E+3"), "archived", when=T, why="An exponent: a number; the name keeps the text as written.")
    c.add("number-key-negative-fraction", n_key("-0.001"), "archived", when=T, why="A negative fraction.")
    c.add("json-number-leading-zero", full.replace(b'"SizeBytes":120', b'"SizeBytes":0120'), "dead-letter", "malformed-json", why="0120 is not a JSON number.")
    c.add("json-number-leading-dot", full.replace(b'"SizeBytes":120', b'"SizeBytes":.5'), "dead-letter", "malformed-json", why=".5 is not a JSON number.")
    c.add("json-number-trailing-dot", full.replace(b'"SizeBytes":120', b'"SizeBytes":1.'), "dead-letter", "malformed-number", why="1. is not a JSON number.")
    c.add("json-number-plus-sign", full.replace(b'"SizeBytes":120', b'"SizeBytes":+1'), "dead-letter", "malformed-json", why="+1 is not a JSON number.")
    c.add("json-number-nan-literal", full.replace(b'"SizeBytes":120', b'"SizeBytes":NaN'), "dead-letter", "malformed-json", why="NaN is not JSON.")
    c.add("json-number-huge-exponent", full.replace(b'"SizeBytes":120', b'"SizeBytes":1e999999'), "archived", when=T,
          why="1e999999 is a valid JSON number in a member the pipeline does not read: archived as it came.")

    # -- fields ----------------------------------------------------------------------------------
    c.add("event-name-unknown", record('"DELETE"'), "dead-letter", "unknown-event-name", why="DELETE is not a stream event name.")
    c.add("event-name-lowercase", record('"remove"'), "dead-letter", "unknown-event-name", why="Event names are upper case; 'remove' is a producer bug, kept in the dead-letter folder.")
    c.add("event-name-number", record("3"), "dead-letter", "wrong-type", why="eventName is a number.")
    c.add("event-name-null", record("null"), "dead-letter", "wrong-type", why="eventName is null.")
    c.add("event-name-missing", record(None), "dead-letter", "missing-field", why="No eventName.")
    c.add("event-name-escaped-member", record(event_member="eventN\\u0061me"), "archived", when=T,
          why="The member name spelled with an escape means eventName (as jq and every JSON reader see it).")
    c.add("event-name-escaped-value", record('"REM\\u004FVE"'), "archived", when=T, why="The value spelled with an escape is REMOVE.")
    c.add("dynamodb-missing", record(ddb=False), "dead-letter", "missing-field", why="No dynamodb member.")
    c.add("dynamodb-null", record(ddb="null"), "dead-letter", "wrong-type", currently=("dead-letter", "malformed-json"),
          why="dynamodb is null: well-formed JSON with a member of the wrong type. 'malformed-json' sends the operator looking "
              "for corruption that is not there.",
          fix="RecordScanner.Cursor.dynamodbObject: before `expect(openBrace…)`, if the next byte is not '{', skip the value "
              "(to report truncation or malformation first) and throw `.wrongType(field: \"dynamodb\", expected: \"an object\")`.")
    c.add("dynamodb-string", record(ddb='"{}"'), "dead-letter", "wrong-type", currently=("dead-letter", "malformed-json"),
          why="dynamodb is a string holding JSON (a double-encoding producer bug).", fix="As for dynamodb null.")
    c.add("keys-array", record(keys='[{"PK":{"S":"USER#123"}}]'), "dead-letter", "wrong-type", currently=("dead-letter", "malformed-json"),
          why="Keys is an array.", fix="RecordScanner.Cursor.keys: the same change (wrong-type when the value is not an object).")
    c.add("keys-missing", record(keys=None), "dead-letter", "no-keys", why="A REMOVE without Keys cannot be named.")
    c.add("keys-empty", record(keys="{}"), "dead-letter", "no-keys", why="A REMOVE with empty Keys cannot be named.")
    c.add("keys-absent-from-old-image", record(old='{"email":{"S":"user@example.com"}}'), "archived", when=T,
          why="The key attributes are missing from OldImage: named from Keys, archived as it came.")
    c.add("keys-differ-from-old-image", record(old='{"PK":{"S":"USER#999"},"SK":{"S":"OTHER"}}'), "archived", when=T,
          why="Keys and OldImage disagree: named from Keys (the stream's statement of which item went), archived as it came.")
    c.add("keys-sort-key-first", record(keys='{"SK":{"S":"PROFILE"},"PK":{"S":"USER#123"}}'), "archived", when=T,
          why="Keys listed SK first: without a key schema the name follows the record's order (PROFILE_USER#123). A replay of "
              "the same bytes gives the same name; sources that know the schema pass keyOrder.")
    c.add("key-type-string-set", record(keys='{"PK":{"SS":["a"]}}'), "dead-letter", "bad-key", why="SS is not a key type.")
    c.add("key-two-types", record(keys='{"PK":{"S":"a","N":"1"}}'), "dead-letter", "bad-key", why="A key attribute with two types.")
    c.add("key-no-type", record(keys='{"PK":{}}'), "dead-letter", "bad-key", why="A key attribute with no value.")
    c.add("key-value-json-number", record(keys='{"PK":{"S":5}}'), "dead-letter", "wrong-type", why="An S key whose value is a JSON number.")
    c.add("old-image-missing", record(old=None, view="KEYS_ONLY"), "dead-letter", "no-old-image", why="A KEYS_ONLY stream: nothing to archive but the keys.")
    c.add("old-image-null", record(old="null"), "dead-letter", "no-old-image", why="OldImage null.")
    c.add("old-image-array", record(old="[]"), "dead-letter", "wrong-type", why="OldImage is an array.")
    c.add("old-image-empty-object", record(old="{}"), "archived", when=T, why="An empty OldImage is still the record of a deletion: archived.")
    c.add("old-image-new-image-only", record(old=None, new=OLD, view="NEW_IMAGE"), "dead-letter", "no-old-image",
          why="A NEW_IMAGE stream's REMOVE: no image of the deleted item.")
    c.add("old-image-escaped-member", record(ddb='{"ApproximateCreationDateTime":%d,"Keys":%s,"Old\\u0049mage":%s,"SequenceNumber":"%s"}' % (T, KEYS, OLD, SEQ)),
          "archived", when=T, why="'Old\\u0049mage' is OldImage.")
    c.add("event-time-missing", record(time=None), "dead-letter", "missing-field", why="No ApproximateCreationDateTime: no date to file it under.")
    c.add("event-time-null", record(time="null"), "dead-letter", "missing-field", why="ApproximateCreationDateTime null.")
    c.add("event-time-boolean", record(time="true"), "dead-letter", "wrong-type", currently=("dead-letter", "malformed-number"),
          why="ApproximateCreationDateTime is true: well-formed JSON of the wrong type.",
          fix="RecordScanner.Cursor.eventTime: when the value is neither a string, null, '-' nor a digit, skip it and throw "
              "`.wrongType(field: \"dynamodb.ApproximateCreationDateTime\", expected: \"epoch seconds or an ISO-8601 string\")`.")
    c.add("user-identity-string", record(identity='"dynamodb.amazonaws.com"'), "dead-letter", "wrong-type", currently=("dead-letter", "malformed-json"),
          why="userIdentity is a string.", fix="RecordScanner.Cursor.userIdentity: wrong-type when the value is not an object or null.")
    c.add("user-identity-null", record(identity="null"), "archived", when=T, why="userIdentity null: a manual delete.")
    c.add("user-identity-other-service", record(identity='{"type":"Service","principalId":"events.amazonaws.com"}'), "archived", when=T,
          why="A Service identity that is not DynamoDB: manual.")
    c.add("user-identity-user-type", record(identity='{"type":"User","principalId":"dynamodb.amazonaws.com"}'), "archived", when=T,
          why="Type User with DynamoDB's principal: manual (both must match for TTL).")
    c.add("user-identity-escaped-ttl", record(identity='{"type":"Serv\\u0069ce","principalId":"dynamodb\\u002eamazonaws.com"}'), "archived", when=T,
          why="The TTL identity spelled with escapes is the TTL identity.")
    c.add("user-identity-case", record(identity='{"type":"service","principalId":"DynamoDB.amazonaws.com"}'), "archived", when=T,
          why="Case differs from DynamoDB's: not the TTL identity, so manual (never guess TTL).")
    c.add("insert-with-bad-key", record('"INSERT"', keys='{"id":{"N":"abc"}}', old=None, new=OLD), "dead-letter", "bad-key",
          why="An INSERT with a broken key is dead-lettered, not passed over: the record is broken, and nothing is dropped silently.")
    c.add("insert-without-dynamodb", record('"INSERT"', ddb=False), "dead-letter", "missing-field", why="An INSERT with no dynamodb member.")
    c.add("event-source-not-dynamodb", full.replace(b'"aws:dynamodb"', b'"aws:kinesis"'), "archived", when=T,
          why="eventSource is not read: a REMOVE is archived whatever produced it.")

    # -- key values ------------------------------------------------------------------------------
    def key_case(slug, *values, why):
        c.add(slug, record(keys=keys_s(*values)), "archived", when=T, why=why)

    key_case("key-dot-dot", "..", "..", why="'..' as both key values: the leading dot is encoded (%2E), no segment is '..'.")
    key_case("key-path-traversal", "../../etc/passwd", "PROFILE", why="'/' is encoded; the name cannot climb out.")
    key_case("key-slash-only", "/", why="A lone '/'.")
    key_case("key-backslash", "..\\..\\windows\\system32", "PROFILE", why="Backslashes are encoded (%5C).")
    key_case("key-control-characters", "a\u0001b\u001fc\u007fd", "PROFILE", why="Escaped control characters and DEL: encoded.")
    key_case("key-tab-newline-return", "\t\n\r", "PROFILE", why="Escaped tab, newline and carriage return: encoded.")
    key_case("key-empty-string", "", why="An empty key value: the item key is '-'.")
    key_case("key-both-empty", "", "", why="Two empty key values: '_'.")
    key_case("key-spaces", " leading and trailing ", "PROFILE", why="Spaces are encoded (%20).")
    key_case("key-percent", "100%", "50%_off", why="'%' is encoded (%25), so an encoded name is never ambiguous.")
    key_case("key-underscore-hash", "snake_case#id", "_", why="'_' and '#' are kept (as in USER#123_PROFILE).")
    key_case("key-right-to-left-override", "invoice\u202egpj.exe", "PROFILE", why="U+202E (a format character) would make a name display backwards: encoded.")
    key_case("key-zero-width-joiner", "👨\u200d👩\u200d👧", "PROFILE", why="The emoji are kept; the zero-width joiners (format characters) are encoded.")
    key_case("key-no-break-and-line-separator", "a\u00a0b\u2028c\u2029d", "PROFILE", why="No-break space and line/paragraph separators: encoded.")
    key_case("key-unicode-printable", "Zoë Saldaña", "東京_🔑_مرحبا_שלום", why="Printable letters of any script are kept (the space is encoded).")
    key_case("key-tilde", "~", "PROFILE", why="'~' is encoded (%7E): in a name it only ever marks a cut.")
    key_case("key-dot-only", ".", why="A lone '.': '%2E'.")
    key_case("key-leading-dot", ".hidden", "PROFILE", why="A leading dot would hide the file: '%2Ehidden'.")
    key_case("key-private-use-and-noncharacter", "\ue000\uffff", "PROFILE", why="Private-use and non-characters: encoded.")
    key_case("key-bom-inside", "\ufeffUSER#1", "PROFILE", why="U+FEFF inside a value (a format character): encoded.")
    c.add("key-combining-mark-first", record(keys=keys_s("\u0301e", "PROFILE")), "archived", when=T,
          currently=("archived", None, T), currently_text="archived under that key, but `ArchiveKey(path:)` cannot read it back (nil)",
          why="A value starting with a combining mark: kept (printable), which is right. But Swift's String.split(separator: \"/\") "
              "works on Characters, and '/' followed by U+0301 is one Character, so ArchiveKey(path:) (and validateArchiveKey) do not "
              "see the last '/': ArchiveKey(path:) returns nil and listing, sync and restore that parse keys skip the object.",
          fix="ArchiveKey.init?(path:) and validateArchiveKey (ArchiveStore.swift): split and compare on UTF-8 bytes, e.g. "
              "`path.utf8.split(separator: UInt8(ascii: \"/\"), omittingEmptySubsequences: false)` and the same for the '.' "
              "split of the file name; test a leading '.' with `segment.utf8.first == UInt8(ascii: \".\")`.")
    c.add("key-ends-with-prepend-character", record(keys='{"PK":{"S":"USER#\u0d4e"}}'), "archived", when=T,
          currently=("archived", None, T), currently_text="archived under that key, but `ArchiveKey(path:)` cannot read it back (nil)",
          why="U+0D4E (Malayalam dot reph, a letter) is a grapheme 'prepend' character: it joins the '.' that follows the item key "
              "into one Character, so ArchiveKey(path:)'s split on '.' misses it and the name cannot be read back.",
          fix="As for key-combining-mark-first: split on bytes.")
    key_case("key-fullwidth-slash-and-dots", "a\uff0fb\u2215c\uff0e\uff0e", "PROFILE",
             why="Look-alikes of '/' and '.' (U+FF0F, U+2215, U+FF0E) are printable and kept: they are not separators anywhere.")
    c.add("key-leading-dot-with-combining-mark", record(keys=keys_s(".\u0301hidden", "PROFILE")), "archived", when=T,
          currently=("archived", None, None, "2024/01/15/.\u0301hidden_PROFILE.103000.%s.manual.json.gz" % SEQ),
          why="A value starting with '.' and a combining accent. Swift compares Characters (grapheme clusters), and "
              "'.'+U+0301 is one Character that is not '.', so the leading dot is not encoded: the name starts with '.', "
              "which validateArchiveKey rejects (hidden file, the store's temporary-file prefix).",
          fix="ArchiveKey.encodeItemKey: test the first byte, not the first Character: "
              "`if encoded.utf8.first == UInt8(ascii: \".\") { encoded = \"%2E\" + String(encoded.unicodeScalars.dropFirst()) }`.")
    key_case("key-windows-reserved", "CON", "aux", why="Windows device names: kept (the archive is POSIX and S3).")
    key_case("key-colon-star-question", "a:b*c?d<e>f|g\"h", "PROFILE", why="Characters Windows and shells dislike: encoded.")
    c.add("key-escaped-slash", record(keys='{"PK":{"S":"a\\/b"}}'), "archived", when=T, why="'\\/' is '/': encoded as %2F.")
    c.add("key-escaped-surrogate-pair", record(keys='{"PK":{"S":"USER#\\ud83d\\udd11"}}'), "archived", when=T, why="An escaped surrogate pair is one emoji, kept.")
    c.add("key-lone-high-surrogate", record(keys='{"PK":{"S":"USER#\\ud800"}}'), "dead-letter", "unpaired-surrogate",
          why="A lone high surrogate in a key value: no character to name the object by.")
    c.add("key-lone-low-surrogate", record(keys='{"PK":{"S":"\\udc00x"}}'), "dead-letter", "unpaired-surrogate", why="A lone low surrogate.")
    c.add("key-reversed-surrogates", record(keys='{"PK":{"S":"\\udc00\\ud800"}}'), "dead-letter", "unpaired-surrogate", why="Low then high.")
    c.add("lone-surrogate-in-old-image", record(old='{"PK":{"S":"USER#123"},"bio":{"S":"\\ud800"}}'), "archived", when=T,
          why="A lone surrogate inside OldImage is grammatical JSON and never decoded: archived as it came.")
    c.add("key-bad-escape", record(keys='{"PK":{"S":"\\x41"}}'), "dead-letter", "bad-escape", why="\\x is not a JSON escape.")
    c.add("key-short-unicode-escape", record(keys='{"PK":{"S":"\\u12G4"}}'), "dead-letter", "bad-escape", why="\\u with a non-hex digit.")
    c.add("key-raw-tab", in_key(b"\t"), "dead-letter", "control-character", why="A raw tab inside a string is not JSON.")
    c.add("key-raw-carriage-return", in_key(b"\r"), "dead-letter", "control-character", why="A raw CR inside a string (a CRLF file cut wrongly).")
    c.add("key-raw-del", in_key(b"\x7f"), "archived", when=T, key=None, why="A raw DEL (0x7F) is legal in JSON text: archived, encoded %7F in the name.")
    c.add("binary-key", record(keys='{"digest":{"B":"+/8/+w=="}}', old='{"digest":{"B":"+/8/+w=="}}'), "archived", when=T,
          why="A binary key: the base64 text names the object, '/' encoded.")

    # -- event times -----------------------------------------------------------------------------
    def time_case(slug, text, when, why, outcome="archived", code=None, currently=None, fix=None):
        c.add(slug, record(time=text), outcome, code=code, when=when, why=why, currently=currently, fix=fix)

    time_case("time-fractional", "1705314600.999", T, "Fractional seconds: the floor.")
    time_case("time-exponent", "1.7053146E9", T, "Epoch seconds written with an exponent.")
    time_case("time-one-second-before-1970", "-1", -1, "1969-12-31T23:59:59Z: filed under 1969/12/31.")
    time_case("time-negative-fraction", "-0.5", -1, "-0.5 s floors to -1: 1969-12-31T23:59:59Z.")
    time_case("time-first-moment-of-year-1", "-62135596800", -62135596800, "0001-01-01T00:00:00Z, the earliest a four-digit year can hold.")
    time_case("time-before-year-1", "-62135596801", None, "One second before year 1: no YYYY folder for it.", "dead-letter", "bad-event-time")
    time_case("time-before-year-1-fraction", "-62135596800.5", None, "Half a second before year 1 (the floor).", "dead-letter", "bad-event-time")
    time_case("time-last-moment-of-9999", "253402300799", 253402300799, "9999-12-31T23:59:59Z, the last moment a four-digit year can hold.")
    time_case("time-after-9999", "253402300800", None, "Year 10000.", "dead-letter", "bad-event-time")
    time_case("time-milliseconds", "1705314600000", None,
              "Epoch milliseconds (a Kinesis-style producer) would be the year 56000: dead-lettered, never guessed.", "dead-letter", "bad-event-time")
    time_case("time-huge-exponent", "1e999", None, "1e999 seconds.", "dead-letter", "bad-event-time")
    time_case("iso-utc", '"2024-01-15T10:30:00Z"', T, "ISO-8601 in UTC.")
    time_case("iso-negative-offset-next-day", '"2024-01-15T23:30:00-05:00"', epoch("2024-01-16T04:30:00+00:00"),
              "23:30 at -05:00 is 04:30 UTC the next day: filed under 2024/01/16.")
    time_case("iso-positive-offset-leap-day", '"2024-03-01T01:00:00+05:30"', epoch("2024-02-29T19:30:00+00:00"),
              "01:00 at +05:30 is 19:30 UTC on 29 February (a leap year).")
    time_case("iso-compact-offset", '"2024-01-15T16:00:00+0530"', T, "+0530 without a colon.")
    time_case("iso-milliseconds", '"2024-01-15T10:30:00.999Z"', T, "Fractional seconds are dropped.")
    time_case("iso-no-zone", '"2024-01-15T10:30:00"', T, "No zone: UTC.")
    time_case("iso-date-only", '"2024-01-15"', epoch("2024-01-15T00:00:00+00:00"), "A date alone: midnight UTC.")
    time_case("iso-space-separator", '"2024-01-15 10:30:00Z"', T, "A space instead of T (RFC 3339 allows it).")
    time_case("iso-leap-second", '"2016-12-31T23:59:60Z"', epoch("2016-12-31T23:59:59+00:00"), "A leap second is filed at :59.")
    time_case("iso-year-1", '"0001-01-01T00:00:00Z"', -62135596800, "Year 1 in ISO form.")
    time_case("iso-before-year-1", '"0001-01-01T00:00:00+00:01"', None, "One minute before year 1 once the offset is applied.", "dead-letter", "bad-event-time")
    time_case("iso-after-9999", '"9999-12-31T23:59:59-00:01"', None, "Year 10000 once the offset is applied.", "dead-letter", "bad-event-time")
    time_case("iso-year-0", '"0000-06-15T00:00:00Z"', None, "Year 0.", "dead-letter", "bad-event-time")
    time_case("iso-february-30", '"2024-02-30T00:00:00Z"', None, "No such day.", "dead-letter", "bad-event-time")
    time_case("iso-basic-format", '"20240115T103000Z"', None, "The basic (no separators) format is not accepted.", "dead-letter", "bad-event-time")
    time_case("iso-epoch-in-a-string", '"1705314600"', None, "Epoch seconds in a string: not ISO-8601, not guessed.", "dead-letter", "bad-event-time")
    time_case("iso-offset-out-of-range", '"2024-01-15T10:30:00+25:00"', None, "A +25:00 offset.", "dead-letter", "bad-event-time")
    time_case("iso-words", '"yesterday"', None, "Not a date.", "dead-letter", "bad-event-time")

    # -- framing ---------------------------------------------------------------------------------
    c.add("bom-at-line-start", b"\xef\xbb\xbf" + full, "archived", key=archive_key(["USER#123", "PROFILE"], T, SEQ, "manual", b""),
          currently=("dead-letter", "not-an-object"),
          why="A UTF-8 byte-order mark before the record (Windows tools write one at the start of a file, so after every "
              "rotation the first deletion would be lost to the dead-letter folder). RFC 8259 section 8.1 lets a parser ignore "
              "it; the record is archived with its bytes as they came (jq and Python's json.load read it).",
          fix="RecordScanner.Cursor.record: before the first skipWhitespace, `if count >= 3 && base[0] == 0xEF && "
              "base[1] == 0xBB && base[2] == 0xBF { index = 3 }` (only at the very start of a record).")
    c.add("crlf-line-ending", full, "archived", when=T, newline=b"\r\n", why="CRLF line endings: the source trims the CR.")
    c.add("no-trailing-newline", full, "archived", when=T, newline=b"", why="The last line of a file without a newline.")
    c.add("leading-and-trailing-whitespace", b" \t  " + full + b"  \t ", "archived", when=T, why="Spaces and tabs around the record (trimmed by the source).")
    c.add("pretty-printed-in-one-line", full.replace(b",", b", ").replace(b":", b": ", 3), "archived", when=T,
          why="Whitespace between tokens is JSON.")
    c.add("trailing-garbage", full + b" x", "dead-letter", "trailing-data", why="A record followed by 'x'.")
    c.add("two-records-on-one-line", full + full, "dead-letter", "trailing-data",
          why="Two records glued together (a lost newline): dead-lettered whole, both recoverable from the raw bytes.")
    c.add("trailing-comma-after-record", full + b",", "dead-letter", "trailing-data", why="A comma after the record (a JSON array flattened badly).")
    c.add("trailing-comma-in-object", full[:-1] + b",}", "dead-letter", "malformed-json", why="A trailing comma inside the object.")
    c.add("json-array", b"[" + full + b"]", "dead-letter", "not-an-object", why="The record inside an array.")
    c.add("json-string", b'"REMOVE"', "dead-letter", "not-an-object", why="A string.")
    c.add("json-number", b"42", "dead-letter", "not-an-object", why="A number.")
    c.add("json-null", b"null", "dead-letter", "not-an-object", why="null.")
    c.add("json-true", b"true", "dead-letter", "not-an-object", why="true.")
    c.add("whitespace-only", b" \t \t ", "dead-letter", "empty",
          why="Only blanks. (The JSON-lines source skips blank lines before the processor sees them; handed one, the processor says empty.)")
    c.add("empty-object", b"{}", "dead-letter", "missing-field", why="{}: no eventName.")
    c.add("single-quotes", full.replace(b'"', b"'"), "dead-letter", "malformed-json", why="Python repr, not JSON.")
    c.add("unquoted-member-name", full.replace(b'"eventVersion"', b"eventVersion"), "dead-letter", "malformed-json", why="An unquoted member name.")
    c.add("comment", full.replace(b',"eventVersion"', b',/* note */"eventVersion"'), "dead-letter", "malformed-json", why="JSON has no comments.")
    c.add("form-feed-before-record", b"\x0c" + full, "dead-letter", "not-an-object", why="A form feed is not JSON whitespace.")
    c.add("raw-carriage-return-mid-record", full.replace(b',"eventVersion"', b',\r"eventVersion"'), "archived", when=T,
          why="A raw CR between tokens is JSON whitespace.")
    return c.cases


# ---------------------------------------------------------------------------------------------------
# Large records (not committed): written by --big, built in memory by HostileCorpusTests.
# ---------------------------------------------------------------------------------------------------

def big_cases():
    ten_mb = record(old='{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"blob":{"S":"' + "x" * (10 << 20) + '"}}')
    return {
        "900-ten-megabyte-line.jsonl": (ten_mb + b"\n", {"outcome": "archived", "key": key_of(ten_mb, BASE_TIME)}),
        "901-million-open-brackets.jsonl": (b'{"eventName":"REMOVE","x":' + b"[" * 1000000 + b"\n", {"outcome": "dead-letter", "code": "too-deep"}),
    }


# ---------------------------------------------------------------------------------------------------
# README of the hostile corpus
# ---------------------------------------------------------------------------------------------------

def describe(expect):
    if expect["outcome"] == "archived":
        key = expect["key"]
        return "archived `%s`" % (key if len(key) <= 120 else key[:60] + "…" + key[-50:])
    if expect["outcome"] == "passed-over":
        return "passed over"
    return "dead-letter `%s`" % expect["code"]


def hostile_readme(cases):
    lines = [
        "# Hostile corpus",
        "",
        "One stream record per file, raw bytes (some are not UTF-8, some have no trailing newline, one has CRLF).",
        "`expected.json` maps every file to the outcome a careful archivist wants:",
        "",
        "```",
        '{"outcome":"archived","key":"<archive key>"}   {"outcome":"passed-over"}   {"outcome":"dead-letter","code":"<RecordError.code>"}',
        "```",
        "",
        "The record handed to `RecordProcessor` is the file's bytes with surrounding spaces, tabs, CR and LF removed,",
        "exactly as the JSON-lines source cuts a line. For archived records, `HostileCorpusTests` also checks that the",
        "key passes `validateArchiveKey`, every segment is at most 255 bytes, the key stays relative (no `..`, no",
        "leading `/`), `ArchiveKey(path:)` reads it back, and the gzip body gunzips to the record's bytes exactly.",
        "",
        "Where the code today does something else, the entry also has `\"currently\"`: the test checks that the code",
        "still does what `currently` says and records the wanted outcome as a known issue (Swift Testing's",
        "`withKnownIssue`). When the code is fixed, that known issue stops occurring and the test fails until",
        "`currently` is removed from `expected.json` (edit `scripts/make-fixtures.py` and re-run it).",
        "",
        "Expected keys are computed by `scripts/make-fixtures.py` from the naming rules of DESIGN.md, independently",
        "of the Swift code. Regenerate with `python3 scripts/make-fixtures.py`; `--check` verifies the files are current.",
        "",
        "Not committed (too large): a 10 MB line (archived) and a line opening 1,000,000 brackets (too-deep). The tests",
        "build them in memory; `python3 scripts/make-fixtures.py --big` writes them to `generated/` (git-ignored).",
        "",
        "## Where the wanted outcome differs from the code today",
        "",
    ]
    for case in cases:
        if "currently" in case["expect"]:
            now = case["currently_text"] or describe(case["expect"]["currently"])
            lines.append("- **%s**: wanted %s, currently %s. %s" % (case["name"], describe(case["expect"]), now, case["why"]))
            lines.append("  Fix: %s" % case["fix"])
    lines += [
        "",
        "## Decisions (agreeing with the code)",
        "",
        "- A REMOVE is archived byte for byte whatever its images hold: duplicates, 60-digit numbers, lone surrogates and",
        "  10,000 levels of nesting inside OldImage are the item's business. Only what names the object (eventName,",
        "  Keys, the event time, the sequence number, userIdentity) must be unambiguous.",
        "- Nesting is counted per value the scanner skips, from that value's own bracket as level 1; the record and",
        "  `dynamodb` levels around OldImage do not count. 10,000 is accepted, 10,001 is `too-deep`, at any place",
        "  (an empty innermost `[]` or `{}` is never opened, so it does not count). jq 1.6 stops at 256 levels and",
        "  Python's json near 1,000: such records are kept, but reading them back needs a tool without those limits.",
        "- Numbers in Keys must be DynamoDB numbers (at most 38 significant digits); anything else is `bad-key`.",
        "  The name keeps the number as written (`1.5E+3`), not normalised.",
        "- Event times outside years 0001-9999, epoch milliseconds and non-ISO strings are `bad-event-time`: never guessed.",
        "- Without a key schema, the name follows the order in which the record lists Keys.",
        "- A broken INSERT or MODIFY is dead-lettered, not passed over: it is bad input, and nothing is dropped silently.",
        "- `_` is kept inside key values, so `[\"a_b\",\"c\"]` and `[\"a\",\"b_c\"]` both give the item key `a_b_c`. Names stay",
        "  unique (the sequence number), but a listing filtered by item key cannot tell them apart.",
        "",
        "## Files",
        "",
        "| file | expected | what it exercises |",
        "|---|---|---|",
    ]
    for case in cases:
        lines.append("| `%s` | %s | %s |" % (case["name"], describe(case["expect"]).replace("|", "\\|"), case["why"].replace("|", "\\|")))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Hostile targets (fixtures/hostile-targets/): deleted records whose values fill deletion-rule templates.
# Each record is a REMOVE of table "hostile"; its OldImage "rule" attribute picks the one rule (of rules.yml)
# that takes it. The expected outcome of each is written here by hand from DESIGN.md's deletion note §2 (the
# safety rule), not computed by the Swift code: "run" (the target, which must be deleted and nothing else),
# "parked" (with its code and a part of its reason: never run), or "none" (no rule takes it).
# ---------------------------------------------------------------------------------------------------

TARGET_RULES = """# The rules the hostile-targets corpus runs under. The tests put the root's place for @ROOT@
# (a temporary folder, or s3://<bucket>/root/ on moto).
roots:
  files: "@ROOT@"
rules:
  - name: hostile-object
    match: {table: hostile, where: ["OldImage.rule.S == object"]}
    actions:
      - delete-object: {root: files, key: "{OldImage.key.S}"}
  - name: hostile-prefix
    match: {table: hostile, where: ["OldImage.rule.S == prefix"]}
    actions:
      - delete-prefix: {root: files, prefix: "users/{OldImage.userId.S}/", min-depth: 2}
  - name: hostile-user
    match: {table: hostile, kind: manual, where: ["OldImage.rule.S == user"]}
    actions:
      - delete-object: {root: files, key: "avatars/{Keys.PK.S|strip-prefix:USER#|lower}.png"}
  - name: hostile-number
    match: {table: hostile, where: ["OldImage.rule.S == number"]}
    actions:
      - delete-object: {root: files, key: "n/{OldImage.n.N}"}
"""


def hostile_targets():
    """(name, rule, PK, OldImage members as raw JSON text, expected) for each record."""
    S = lambda text: compact({"S": text})
    cases = []

    def case(name, rule, attrs, outcome, target=None, code=None, reason=None, pk=None, raw=None):
        cases.append(dict(name=name, rule=rule, attrs=attrs, outcome=outcome, target=target, code=code, reason=reason, pk=pk, raw=raw))

    def run(name, rule, attrs, target, pk=None):
        case(name, rule, attrs, "run", target=target, pk=pk)

    def unsafe(name, rule, attrs, reason, pk=None):
        case(name, rule, attrs, "parked", code="unsafe-target", reason=reason, pk=pk)

    def unfillable(name, rule, attrs, reason, pk=None):
        case(name, rule, attrs, "parked", code="unfillable", reason=reason, pk=pk)

    key = lambda text: {"key": S(text)}
    # delete-object of {OldImage.key.S}
    run("plain-key", "object", key("videos/1.mp4"), "videos/1.mp4")
    run("unicode-key", "object", key("vidéos/日本語.mp4"), "vidéos/日本語.mp4")
    run("combining-mark", "object", key("e\u0301.png"), "e\u0301.png")
    run("hidden-file", "object", key(".hidden"), ".hidden")
    run("three-dots", "object", key("..."), "...")
    run("literal-percent", "object", key("100%.txt"), "100%.txt")
    unsafe("traversal", "object", key("../../etc/passwd"), "'..' segment")
    unsafe("traversal-inside", "object", key("videos/../../x"), "'..' segment")
    unsafe("dot-segment", "object", key("./a"), "'.' segment")
    unsafe("absolute", "object", key("/etc/passwd"), "absolute")
    unsafe("empty-segment", "object", key("a//b"), "empty segment")
    unsafe("trailing-slash", "object", key("videos/"), "ends with '/'")
    unsafe("percent-dots", "object", key("%2e%2e/etc/passwd"), "percent-encoded '.'")
    unsafe("percent-slash", "object", key("a%2Fb"), "percent-encoded '/'")
    unsafe("percent-backslash", "object", key("a%5C..%5Cb"), "percent-encoded backslash")
    unsafe("double-encoded", "object", key("%252e%252e/x"), "percent-encoded '%'")
    unsafe("percent-nul", "object", key("a%00b"), "percent-encoded control")
    unsafe("nul", "object", key("a\u0000b"), "NUL")
    unsafe("newline", "object", key("a\nb"), "control character")
    unsafe("c1-control", "object", key("a\u0085b"), "control character")
    unsafe("backslash", "object", key("..\\..\\x"), "backslash")
    unsafe("wildcard-star", "object", key("*"), "wildcard")
    unsafe("wildcard-question", "object", key("a/?.txt"), "wildcard")
    unsafe("wildcard-bracket", "object", key("[abc]"), "wildcard")
    unsafe("fullwidth-solidus", "object", key("a\uff0fb"), "normalises (NFKC)")
    unsafe("fullwidth-dots", "object", key("\uff0e\uff0e/etc/passwd"), "normalises (NFKC)")
    unsafe("one-dot-leaders", "object", key("\u2024\u2024/x"), "normalises (NFKC)")
    unsafe("two-dot-leader", "object", key("\u2025/x"), "normalises (NFKC)")
    unsafe("division-slash", "object", key("a\u2215b"), "looks like '/'")
    unsafe("rtl-override", "object", key("invoice\u202egpj.exe"), "direction-changing")
    unsafe("rtl-mark", "object", key("\u200fa"), "direction-changing")
    unsafe("zero-width-joiner", "object", key("a\u200db"), "direction-changing")
    unsafe("byte-order-mark", "object", key("\ufeffa"), "direction-changing")
    unsafe("line-separator", "object", key("a\u2028b"), "direction-changing")
    unsafe("huge-value", "object", key("x" * 5000), "longer than")
    unsafe("long-segment", "object", key("a/" + "y" * 300), "segment of 300 bytes")
    unfillable("empty-value", "object", key(""), "is empty")
    unfillable("missing-attribute", "object", {}, "missing")
    unfillable("number-not-text", "object", {"key": compact({"N": "5"})}, "of type N, not S")
    unfillable("binary-not-text", "object", {"key": compact({"B": "AAEC"})}, "of type B, not S")
    unfillable("map-not-text", "object", {"key": compact({"M": {"a": {"S": "b"}}})}, "of type M, not S")
    unfillable("list-not-text", "object", {"key": compact({"L": [{"S": "a"}]})}, "of type L, not S")
    unfillable("null-not-text", "object", {"key": compact({"NULL": True})}, "of type NULL, not S")
    unfillable("bool-not-text", "object", {"key": compact({"BOOL": True})}, "of type BOOL, not S")
    unfillable("malformed-value", "object", {"key": '{"S":5}'}, "does not hold a S value")
    unfillable("two-types", "object", {"key": '{"S":"a","N":"1"}'}, "not a DynamoDB value")
    unfillable("attribute-twice", "object", {"key": S("a"), "key ": None}, "appears twice")
    # delete-prefix of users/{OldImage.userId.S}/, at least 2 deep
    uid = lambda text: {"userId": S(text)}
    run("user-folder", "prefix", uid("42"), "users/42/")
    run("user-folder-deep", "prefix", uid("7/albums"), "users/7/albums/")
    unfillable("empty-user", "prefix", uid(""), "is empty")
    unfillable("missing-user", "prefix", {}, "missing")
    unfillable("numeric-user", "prefix", {"userId": compact({"N": "42"})}, "of type N, not S")
    unsafe("user-traversal", "prefix", uid("../.."), "'..' segment")
    unsafe("user-traversal-inside", "prefix", uid("42/../../x"), "'..' segment")
    unsafe("user-slash", "prefix", uid("/"), "empty segment")
    unsafe("user-dot", "prefix", uid("."), "'.' segment")
    unsafe("user-wildcard", "prefix", uid("4*"), "wildcard")
    unsafe("user-percent", "prefix", uid("%2E%2E"), "percent-encoded '.'")
    # delete-object of avatars/{Keys.PK.S|strip-prefix:USER#|lower}.png
    run("user-avatar", "user", {}, "avatars/alice.png", pk="USER#Alice")
    run("user-avatar-path", "user", {}, "avatars/a/b.png", pk="USER#A/B")
    run("user-avatar-dotted-i", "user", {}, "avatars/i\u0307.png", pk="USER#\u0130")
    unfillable("other-entity", "user", {}, "does not start with 'USER#'", pk="ORG#1")
    unfillable("empty-after-strip", "user", {}, "empty after its filters", pk="USER#")
    unsafe("user-key-traversal", "user", {}, "'..' segment", pk="USER#../../x")
    # delete-object of n/{OldImage.n.N}
    run("number", "number", {"n": compact({"N": "42"})}, "n/42")
    run("number-exponent", "number", {"n": compact({"N": "-1.5E3"})}, "n/-1.5E3")
    unfillable("number-as-text", "number", {"n": S("42")}, "of type S, not N")
    unfillable("number-not-a-number", "number", {"n": compact({"N": "4/2"})}, "does not hold a N value")
    # No rule takes these.
    case("no-rule", "none", key("videos/1.mp4"), "none")
    case("other-table", "object", key("videos/1.mp4"), "none", raw="other-table")
    case("ttl-for-manual-rule", "user", {}, "none", pk="USER#Bob", raw="ttl")
    case("no-old-image", "object", {}, "none", raw="no-old-image")
    return cases


def build_hostile_targets():
    lines = []
    expected = []
    for index, c in enumerate(hostile_targets()):
        pk = c["pk"] or "H#%d" % index
        members = ['"PK":' + compact({"S": pk}), '"rule":' + compact({"S": c["rule"]})]
        for name, value in c["attrs"].items():
            if value is None:  # the same attribute written twice
                members.append('"%s":%s' % (name.strip(), compact({"S": "../../etc/passwd"})))
            else:
                members.append("%s:%s" % (compact(name), value))
        table = "other" if c["raw"] == "other-table" else "hostile"
        identity = ',"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}' if c["raw"] == "ttl" else ""
        image = "" if c["raw"] == "no-old-image" else ',"OldImage":{' + ",".join(members) + "}"
        lines.append('{"eventID":"ht%03d","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1"%s,'
                     '"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"PK":%s}%s,"SequenceNumber":"%d","SizeBytes":100,'
                     '"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"%s"}'
                     % (index, identity, 1706000000 + index, compact({"S": pk}), image, 300000 + index, arn(table)))
        expect = {"line": index + 1, "case": c["name"], "outcome": c["outcome"]}
        if c["outcome"] != "none":
            expect["rule"] = "hostile-" + c["rule"]
        if c["target"] is not None:
            expect["target"] = c["target"]
        if c["code"]:
            expect["code"] = c["code"]
            expect["reason"] = c["reason"]
        expected.append(expect)
    runs = sum(1 for e in expected if e["outcome"] == "run")
    parked = sum(1 for e in expected if e["outcome"] == "parked")
    readme = """# Hostile targets

`records.jsonl` holds %d deletions whose values fill the templates of the deletion rules in `rules.yml`: path
traversal, empty and huge values, missing attributes and wrong types, percent-encoding, and unicode tricks
(NFKC forms of `.` and `/`, fullwidth solidus, one-dot leaders, division slash, right-to-left overrides and
marks, zero-width joiners, byte-order marks, line separators). Each record's `OldImage.rule` picks the rule
that takes it. `expected.json` says what must become of each, line by line, from the safety rule of the
deletion design (a filled target stays inside its root; a fill that fails fails whole), written by hand in
`scripts/make-fixtures.py`, not computed by archiver:

- `run` (%d): the action runs and removes exactly `target` (relative to the root) and nothing else;
- `parked` (%d): the entry is written `parked` with `code` (`unsafe-target`, or `unfillable` when the
  template cannot be filled) and a reason that names the rule, the action and the record's archive key and
  contains `reason`; it is never run;
- `none`: no rule takes the record (another table, a TTL expiry for a manual-only rule, no rule, no
  `OldImage`), so no entry is written.

`HostileTargetsTests` (a real folder) and `S3HostileTargetsTests` (a real bucket on moto) replay the corpus
through the pipeline and the queue's worker with the root's place put for `@ROOT@`, with bait files beside
every target and outside the root, and check that every `run` target is gone, everything else is untouched,
and every parked entry is there with its reason and was never attempted.

Regenerate with `python3 scripts/make-fixtures.py`.
""" % (len(lines), runs, parked)
    return {
        "hostile-targets/records.jsonl": ("\n".join(lines) + "\n").encode(),
        "hostile-targets/expected.json": (json.dumps(expected, indent=2, ensure_ascii=False) + "\n").encode(),
        "hostile-targets/rules.yml": TARGET_RULES.encode(),
        "hostile-targets/README.md": readme.encode(),
    }


def outputs():
    files = {}
    body, summary = build_feed()
    files["feed.jsonl"] = body
    files["expected-feed-summary.json"] = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()
    cases = build_hostile()
    expected = {case["name"]: case["expect"] for case in cases}
    for case in cases:
        files["hostile/" + case["name"]] = case["bytes"]
    files["hostile/expected.json"] = (json.dumps(expected, indent=2, ensure_ascii=False) + "\n").encode()
    files["hostile/README.md"] = hostile_readme(cases).encode()
    files["hostile/.gitignore"] = b"/generated/\n"
    files.update(build_hostile_targets())
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the fixtures on disk are not what this script writes")
    parser.add_argument("--big", action="store_true", help="also write the large hostile records to fixtures/hostile/generated/")
    args = parser.parse_args()
    files = outputs()
    if args.check:
        stale = []
        for name, data in files.items():
            path = os.path.join(FIXTURES, name)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                stale.append(name)
        on_disk = {n for n in os.listdir(HOSTILE) if n.endswith(".jsonl")} if os.path.isdir(HOSTILE) else set()
        stale += sorted("hostile/" + n + " (not written by the script)" for n in on_disk - {n[8:] for n in files if n.startswith("hostile/")})
        if stale:
            print("stale fixtures:\n  " + "\n  ".join(stale), file=sys.stderr)
            sys.exit(1)
        print("fixtures are current (%d files)" % len(files))
        return
    os.makedirs(HOSTILE, exist_ok=True)
    os.makedirs(os.path.join(FIXTURES, "hostile-targets"), exist_ok=True)
    for old in os.listdir(HOSTILE):
        if old.endswith(".jsonl"):
            os.remove(os.path.join(HOSTILE, old))
    for name, data in files.items():
        with open(os.path.join(FIXTURES, name), "wb") as f:
            f.write(data)
    if args.big:
        generated = os.path.join(HOSTILE, "generated")
        os.makedirs(generated, exist_ok=True)
        expected = {}
        for name, (data, expect) in big_cases().items():
            with open(os.path.join(generated, name), "wb") as f:
                f.write(data)
            expected[name] = expect
        with open(os.path.join(generated, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
    print("wrote %d files under %s" % (len(files), os.path.relpath(FIXTURES, ROOT)))


if __name__ == "__main__":
    main()
