#!/usr/bin/env python3
"""A scripted consumer of coordinated deletions, for tests and benchmarks: follows archiver's JSON-lines event file
and acknowledges each deletion.requested with `archiver ack --file -`, many at once. It keeps its place in an
offset file, moved only after archiver recorded the acks, so a consumer killed at any moment acks again what it
had not recorded (acks are idempotent).

    scripts/test-consumer.py --archiver .build/debug/archiver --config archiver.yml --events state/events.jsonl \
        --consumer analytics [--status completed|failed] [--delay 0.5] [--once] [--offset-file analytics.offset]

--delay: an event is acked only once it is that many seconds old (by when the consumer first saw it). --once: ack
what is in the file, then exit.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--archiver", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--consumer", required=True)
    parser.add_argument("--status", default="completed")
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--offset-file")
    args = parser.parse_args()
    offset_file = args.offset_file or f"{args.consumer}.offset"
    offset = int(open(offset_file).read() or 0) if os.path.exists(offset_file) else 0
    pending = []  # (seen at, coordination id, offset after its line)
    while True:
        try:
            with open(args.events, "rb") as events:
                events.seek(offset if not pending else pending[-1][2])
                data = events.read()
        except FileNotFoundError:
            data = b""
        position = offset if not pending else pending[-1][2]
        for line in data.split(b"\n")[:-1]:
            position += len(line) + 1
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("type") == "deletion.requested":
                pending.append((time.time(), event["data"]["coordination_id"], position))
            elif pending:
                pending.append((time.time(), None, position))
            else:
                offset = position
        due = [p for p in pending if time.time() - p[0] >= args.delay]
        if due:
            acks = [json.dumps({"coordination_id": c, "consumer": args.consumer, "status": args.status}) for _, c, _ in due if c]
            if acks:
                done = subprocess.run([args.archiver, "ack", "--file", "-", "--config", args.config],
                                      input="\n".join(acks).encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                if done.returncode != 0:
                    sys.stderr.write(done.stderr.decode())
                    time.sleep(0.1)
                    continue
            offset = due[-1][2]
            pending = pending[len(due):]
            with open(offset_file + ".tmp", "w") as out:
                out.write(str(offset))
            os.replace(offset_file + ".tmp", offset_file)
        if args.once and not pending and not due:
            return 0
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
