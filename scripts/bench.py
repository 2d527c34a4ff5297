#!/usr/bin/env python3
"""archiver's benchmark suite: release build, generated feeds, figures printed (not asserted).

  python3 scripts/bench.py [--records 1000000] [--small 100000] [--skip-s3] [--json out.json]

For each case: records/s, MB/s of feed, objects written/s, peak RSS; and, in the same run, the baselines:
a straightforward Python implementation of the seed's handler (json.loads, gzip.compress, write to the same
layout), `gzip -6` of the same REMOVE records as one stream, and the time to merely create the same number of
files of the same sizes (the disk's floor for one object per record).
"""
import argparse, gzip, json, os, resource, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd=None, env=None, stdout=None, input_path=None):
    """Runs a command; returns (seconds, peak RSS in MB, stdout bytes)."""
    start = time.time()
    stdin = open(input_path, "rb") if input_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin)
    out = b""
    if stdout is None:
        out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.time() - start
    if proc.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), err.decode(errors="replace")[-2000:]))
    return seconds, usage.ru_maxrss / 1024.0, out


def sync_disk():
    os.sync()


class Table:
    def __init__(self):
        self.rows = []

    def add(self, case, seconds, records=None, feed_bytes=None, objects=None, rss=None, note=""):
        row = dict(case=case, seconds=round(seconds, 3))
        if records: row["records_per_s"] = round(records / seconds)
        if feed_bytes: row["mb_per_s"] = round(feed_bytes / seconds / 1e6, 1)
        if objects: row["objects_per_s"] = round(objects / seconds)
        if rss: row["peak_rss_mb"] = round(rss, 1)
        if note: row["note"] = note
        self.rows.append(row)
        print("  %-44s %8.2f s  %10s rec/s  %8s MB/s  %9s obj/s  %7s MB  %s" % (
            case, seconds, row.get("records_per_s", ""), row.get("mb_per_s", ""), row.get("objects_per_s", ""),
            row.get("peak_rss_mb", ""), note), flush=True)


SEED_HANDLER = r'''
import gzip, json, os, sys
from urllib.parse import quote
from datetime import datetime, timezone
out = sys.argv[2]
for line in open(sys.argv[1], "rb"):
    try:
        record = json.loads(line)
    except ValueError:
        continue
    if record.get("eventName") != "REMOVE" or "OldImage" not in record.get("dynamodb", {}):
        continue
    d = record["dynamodb"]
    t = d["ApproximateCreationDateTime"]
    when = datetime.fromtimestamp(float(t), timezone.utc) if not isinstance(t, str) else datetime.fromisoformat(t.replace("Z", "+00:00"))
    key = quote("_".join(v[next(iter(v))] for v in d["Keys"].values()), safe="#_-.=@+,")
    folder = os.path.join(out, when.strftime("%Y/%m/%d"))
    os.makedirs(folder, exist_ok=True)
    name = key[:150].lstrip(".")
    with open(os.path.join(folder, "%s.%s.json.gz" % (name, d.get("SequenceNumber", ""))), "wb") as f:
        f.write(gzip.compress(line.strip(), 6))
'''

FLOOR = r'''
import os, sys
sizes = [int(s) for s in open(sys.argv[1])]
out = sys.argv[2]
payload = b"x" * max(sizes)
for i, size in enumerate(sizes):
    folder = os.path.join(out, str(i // 5000))
    if i % 5000 == 0:
        os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, str(i)), "wb") as f:
        f.write(payload[:size])
os.sync()
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()

    print("building release…", flush=True)
    build = ["swift", "build", "-c", "release", "--scratch-path", os.path.join(ROOT, ".build-release")]
    subprocess.run(build + ["--product", "archiver"], cwd=ROOT, check=True)
    binary = subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip() + "/archiver"
    work = tempfile.mkdtemp(prefix="archiver-bench-", dir=os.environ.get("BENCH_DIR", "/tmp"))
    table = Table()
    try:
        feed = os.path.join(work, "feed.jsonl")
        small = os.path.join(work, "small.jsonl")
        with open(feed, "wb") as f:
            run([binary, "generate", "--records", str(args.records), "--seed", "7", "--summary", feed + ".summary"], stdout=f)
        with open(small, "wb") as f:
            run([binary, "generate", "--records", str(args.small), "--seed", "7"], stdout=f)
        expected = json.load(open(feed + ".summary"))
        feed_bytes = os.path.getsize(feed)
        print("feed: %d records, %.1f MB, %s archived expected" % (args.records, feed_bytes / 1e6, expected.get("archived")), flush=True)

        # The REMOVE records alone (for the gzip and floor baselines).
        removes = os.path.join(work, "removes.jsonl")
        sizes = os.path.join(work, "sizes.txt")
        with open(feed, "rb") as src, open(removes, "wb") as dst, open(sizes, "w") as sz:
            for line in src:
                if b'"eventName":"REMOVE"' in line and b'"OldImage"' in line:
                    dst.write(line)
                    sz.write("%d\n" % len(gzip.compress(line.strip(), 1)))
        objects = expected["archived"]

        print("cases (this machine: %d cores):" % os.cpu_count(), flush=True)
        s, rss, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-null", "--json"])
        table.add("jsonl → null store (pipeline ceiling)", s, args.records, feed_bytes, objects, rss)
        s, rss_small, _ = run([binary, "tail", "--once", "--source", "jsonl:" + small, "--archive", "null:", "--state", work + "/s-null-small", "--json"])
        table.add("jsonl → null store, %d records" % args.small, s, args.small, os.path.getsize(small), None, rss_small,
                  "RSS ratio %.2f" % (rss / rss_small))
        sync_disk()
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", work + "/archive", "--state", work + "/s-folder", "--json"])
        table.add("jsonl → folder", s, args.records, feed_bytes, objects, rss)
        archiver_folder = s

        # Baselines, same run.
        shutil.rmtree(work + "/archive", ignore_errors=True)
        sync_disk()
        s, rss, _ = run([sys.executable, "-c", SEED_HANDLER, feed, work + "/seed-archive"])
        os.sync()
        table.add("baseline: Python seed handler", s, args.records, feed_bytes, objects, rss,
                  "archiver is %.1f× faster" % (s / archiver_folder))
        shutil.rmtree(work + "/seed-archive", ignore_errors=True)
        sync_disk()
        with open(os.devnull, "wb") as null:
            s_gzip, _, _ = run(["gzip", "-6", "-c"], stdout=null, input_path=removes)
        table.add("baseline: gzip -6 of the REMOVE records", s_gzip, None, os.path.getsize(removes))
        s_floor, _, _ = run([sys.executable, "-c", FLOOR, sizes, work + "/floor"])
        table.add("baseline: create the same files (floor)", s_floor, None, None, objects)
        shutil.rmtree(work + "/floor", ignore_errors=True)
        print("  jsonl → folder vs (floor + gzip): %.2f×" % (archiver_folder / (s_floor + s_gzip)), flush=True)

        if args.json:
            json.dump(table.rows, open(args.json, "w"), indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
