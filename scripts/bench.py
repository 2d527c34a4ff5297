#!/usr/bin/env python3
"""archiver's benchmark suite: release build, generated feeds, figures printed (not asserted).

  python3 scripts/bench.py [--records 1000000] [--small 100000] [--sqlite-rows 100000] [--s3-records 20000]
                           [--queue-deletions 100000] [--queue-stats-entries 1000000] [--skip-s3] [--json out.json]

For each case: records/s, MB/s of feed, objects written/s, peak RSS; and, in the same run, the baselines:
a straightforward Python implementation of the seed's handler (json.loads, gzip.compress, write to the same
layout), `gzip -6` of the same REMOVE records as one stream, and the time to merely create the same number of
files of the same sizes (the disk's floor for one object per record). With moto_server installed, also
JSONL → S3 against a single-threaded boto3 put_object loop, and `archiver sync` of a month against `aws s3 sync`.

The deletion queue: the tail with deletion rules for a table the feed does not have and with a rule that takes
every deletion of one table (against the same tail without rules); `queue run` deleting --queue-deletions objects
that deleted items owned, on moto, against a boto3 loop of delete_object; and `queue stats` on a queue of
--queue-stats-entries entries written straight into the state database.

Erasure (--only-erasure runs only these): one subject's 100 records among --erasure-records in a folder archive against
an Athena-style scan; --erasure-s3-objects (100,000) objects of one subject on moto against a boto3 delete_object loop;
with --erasure-s3-full, the issue's full-size case on a versioned bucket (scripts/bench_erasure_s3.py).
"""
import argparse, gzip, json, os, resource, shutil, socket, sqlite3, subprocess, sys, tempfile, time

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


# The seed's handler, as a user would write it: parse each line, keep REMOVEs, name the object, gzip, write.
# RECORDS yields (line, date folder, name) for each REMOVE; the handler and the boto3 loop below share it.
RECORDS = r'''
import gzip, json, sys
from urllib.parse import quote
from datetime import datetime, timezone

def removes(path, safe):
    for line in open(path, "rb"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("eventName") != "REMOVE" or "OldImage" not in record.get("dynamodb", {}):
            continue
        d = record["dynamodb"]
        t = d["ApproximateCreationDateTime"]
        when = datetime.fromtimestamp(float(t), timezone.utc) if not isinstance(t, str) else datetime.fromisoformat(t.replace("Z", "+00:00"))
        key = quote("_".join(v[next(iter(v))] for v in d["Keys"].values()), safe=safe)
        yield line, when.strftime("%Y/%m/%d"), "%s.%s.json.gz" % (key[:150].lstrip("."), d.get("SequenceNumber", ""))
'''

SEED_HANDLER = RECORDS + r'''
import os
out = sys.argv[2]
for line, day, name in removes(sys.argv[1], "#_-.=@+,"):
    folder = os.path.join(out, day)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
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


# Objects for the deletion cases: --queue-deletions of them under a prefix, put by 32 threads (setup, not measured).
PUT_OBJECTS = r"""
import sys, boto3, concurrent.futures
from botocore.config import Config
s3 = boto3.client("s3", config=Config(max_pool_connections=32))
bucket, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def put(i):
    s3.put_object(Bucket=bucket, Key="%s%d.bin" % (prefix, i), Body=b"x")
with concurrent.futures.ThreadPoolExecutor(32) as pool:
    list(pool.map(put, range(n), chunksize=256))
"""

# The seed's cleanup: one delete_object call per file, one after another.
BOTO3_DELETE_LOOP = r"""
import sys, boto3
s3 = boto3.client("s3")
bucket, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    s3.delete_object(Bucket=bucket, Key="%s%d.bin" % (prefix, i))
"""

COUNT_OBJECTS = r"""
import sys, boto3
s3 = boto3.client("s3")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[1], Prefix=sys.argv[2])
print(sum(len(page.get("Contents", [])) for page in pages))
"""

BOTO3_LOOP = RECORDS + r"""
import boto3
s3 = boto3.client("s3")
bucket, prefix = sys.argv[2], sys.argv[3]
for line, day, name in removes(sys.argv[1], "#_-.@,"):
    s3.put_object(Bucket=bucket, Key="%s/%s/%s" % (prefix, day, name), Body=gzip.compress(line.strip(), 6),
                  ContentType="application/gzip")
"""

SQLITE_SCHEMA = """CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, balance REAL,
  visits INTEGER, avatar BLOB, notes TEXT, expires_at INTEGER)"""


def make_app_database(path, rows):
    """An application table of `rows` users with realistic column types."""
    db = sqlite3.connect(path)
    db.execute(SQLITE_SCHEMA)
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,?)", (
        (i, "user%d@example.com" % i, "Zoë Example %d" % i, i / 3.0, i * 7, bytes([i & 0xFF, 1, 2, 3]) * 8,
         ("note %d " % i) * (i % 40), 1_600_000_000 + (i % 3) * 10**9) for i in range(1, rows + 1)))
    db.commit()
    db.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto_server on a free loopback port, with the environment that points archiver, boto3 and aws at it."""

    def __init__(self, work, launcher=None):
        """`launcher`: Python source run instead of moto_server (with the same arguments), e.g. a patched moto."""
        port = free_port()
        self.log = open(os.path.join(work, "moto.log" if launcher is None else "moto-patched.log"), "wb")
        command = ["moto_server"] if launcher is None else [sys.executable, "-c", launcher]
        self.proc = subprocess.Popen(command + ["-H", "127.0.0.1", "-p", str(port)], stdout=self.log, stderr=self.log)
        self.url = "http://127.0.0.1:%d" % port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                        AWS_REGION="us-east-1", AWS_ENDPOINT_URL=self.url, AWS_CONFIG_FILE="/dev/null",
                        AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("moto_server did not start; see %s" % self.log.name)

    def make_bucket(self, name):
        subprocess.run(["aws", "s3", "mb", "s3://" + name], env=self.env, check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def rules_config(path, table, root, coordinate=False):
    """A configuration with one rule deleting, for each deletion of `table`, the object its key names under `root`
    (coordinated with one consumer when `coordinate`)."""
    with open(path, "w") as f:
        f.write("roots:\n  files: %s\nrules:\n  - name: owned\n    match: {table: \"%s\"}\n    actions:\n"
                "      - delete-object: {root: files, key: \"{Keys.PK.S}\"}\n" % (root, table))
        if coordinate:
            f.write("    coordinate: {consumers: [analytics]}\n")
    return path


def fill_queue(database, entries):
    """Writes `entries` queue entries straight into a state database (the schema archiver made), in one transaction:
    3/10 completed, 1/10 parked, 1/10 retrying, the rest available, attempts 0-3, a few error codes."""
    db = sqlite3.connect(database)
    states = ["available"] * 5 + ["completed"] * 3 + ["parked", "retryable"]
    def rows():
        for i in range(entries):
            state = states[i % 10]
            code = ("AccessDenied", "SlowDown", "unsafe-target")[i % 3] if state in ("parked", "retryable") else None
            yield ("%064x" % i, "owned", 0, "delete-object", "files", '{"key":"k%d","keep":false,"root_location":"/srv/files/"}' % i,
                   "jsonl:/feed", "2024/01/01/K%d.000000.%d.manual.json.gz" % (i, i), state, i % 4, 3, 1_700_000_000 + i,
                   code, code, 1_700_000_000 + i)
    db.executemany("INSERT INTO queue_entries (id, rule, action_index, action, root, target, source, archive_key, state, attempts, "
                   "max_attempts, next_attempt_at, last_error, last_error_code, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    db.commit()
    db.close()


def count_files(folder):
    return sum(len([f for f in files if not f.startswith(".")]) for root, dirs, files in os.walk(folder)
               if "/.tmp" not in root + "/")



# The Athena-style baseline of erasure: read every archived object and keep those of one subject (what a job of
# Amazon S3 Find and Forget does with Athena over the whole archive before it deletes anything).
SCAN_ARCHIVE = r"""
import gzip, json, os, sys
root, wanted = sys.argv[1], sys.argv[2]
found = 0
for folder, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in files:
        if not name.endswith(".json.gz"):
            continue
        record = json.loads(gzip.open(os.path.join(folder, name)).read())
        if record["dynamodb"]["Keys"]["PK"]["S"] == wanted:
            found += 1
print(found)
"""

BOTO3_DELETE_KEYS = r"""
import sys, boto3
s3 = boto3.client("s3")
bucket = sys.argv[1]
for key in open(sys.argv[2]).read().split():
    s3.delete_object(Bucket=bucket, Key=key)
"""


def subject_feed(path, n, victim_every, victim="victim", start=0):
    """`n` REMOVEs of table users; one in `victim_every` belongs to `victim`, the rest to 10,000 others."""
    with open(path, "w") as f:
        for i in range(start, start + n):
            user = victim if i % victim_every == 0 else "u%d" % (i % 10007)
            f.write('{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"PK":{"S":"USER#%s"},"SK":{"S":"ITEM#%d"}},'
                    '"OldImage":{"PK":{"S":"USER#%s"},"SK":{"S":"ITEM#%d"},"n":{"N":"%d"}},"SequenceNumber":"%d"},'
                    '"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/users/stream/x"}\n' % (1_706_000_000 + i % 86_000, user, i, user, i, i, 10**7 + i))


def subject_config(path, subject=True):
    with open(path, "w") as f:
        f.write("rules:\n  - name: users\n    match: {table: users}\n")
        f.write("    subject: \"{Keys.PK.S|strip-prefix:USER#}\"\n" if subject else
                "    actions:\n      - delete-object: {root: files, key: \"x/{Keys.SK.S}\"}\nroots:\n  files: /nonexistent-bench-root\n")
    return path


def erasure_cases(binary, work, args, table, comparisons, moto):
    """Erasure: one subject's 100 records found through the index and erased in a folder archive of --erasure-records
    records, against a scan of the whole archive; the tail with and without a subject template; 100k objects of one
    subject erased on moto against a boto3 delete_object loop."""
    n = args.erasure_records
    feed = os.path.join(work, "subjects.jsonl")
    subject_feed(feed, n, max(1, n // 100))
    on = subject_config(os.path.join(work, "subject.yml"))
    off = subject_config(os.path.join(work, "nosubject.yml"), subject=False)
    # The hot path: the same feed into the null store, with a subject template and with a rule for another table.
    s_off, _, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-off", "--no-queue"])
    s_on, _, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-on", "--config", on])
    table.add("tail → null, no rule", s_off, n, os.path.getsize(feed))
    table.add("tail → null, a subject template for every record", s_on, n, os.path.getsize(feed))
    comparisons["subject_index_time_ratio"] = round(s_on / s_off, 2)
    archive, state = work + "/e-archive", work + "/e-state"
    s, rss, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", archive, "--state", state, "--config", on])
    table.add("tail → folder with the subject index", s, n, os.path.getsize(feed), n, rss)
    sync_disk()
    s_scan, _, out = run([sys.executable, "-c", SCAN_ARCHIVE, archive, "USER#victim"])
    table.add("baseline: scan the whole archive for one subject (Athena-style)", s_scan, n, None, int(out))
    # The scan's first read of each just-written file dirtied its inode (relatime): flushed here, not in the erase's syncs.
    sync_disk()
    s_erase, rss, out = run([binary, "erase", "--subject", "victim", "--archive", archive, "--state", state, "--config", on, "--json"])
    receipt = json.loads(out)["jobs"][0]["receipt"]
    erased = receipt["counts"]["archive"]["delete.deleted"]
    if erased != len(range(0, n, max(1, n // 100))):
        sys.exit("erase deleted %d records, not %d" % (erased, len(range(0, n, max(1, n // 100)))))
    table.add("erase one subject's %d records (folder, index)" % erased, s_erase, None, None, erased, rss)
    comparisons["erase_folder_seconds"] = round(s_erase, 3)
    comparisons["erase_vs_archive_scan"] = round(s_scan / s_erase, 1)

    if moto is None:
        return
    m = args.erasure_s3_objects
    moto.make_bucket("erasure")
    feed = os.path.join(work, "victim.jsonl")
    subject_feed(feed, m, 1)
    state = work + "/e3-state"
    run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "s3://erasure/a", "--state", state, "--config", on], env=moto.env)
    s3_erase, rss, out = run([binary, "erase", "--subject", "victim", "--archive", "s3://erasure/a", "--state", state, "--config", on, "--json"], env=moto.env)
    left = int(run([sys.executable, "-c", COUNT_OBJECTS, "erasure", "a/2024"], env=moto.env)[2])
    if left != 0:
        sys.exit("erase left %d objects on moto" % left)
    unlisted = json.loads(out)["jobs"][0]["receipt"].get("storage_class_as_written", 0)
    table.add("erase %d objects of one subject (moto)" % m, s3_erase, None, None, m, rss,
              note="%d deleted without a listing (no versioning, no transition rule)" % unlisted)
    run([sys.executable, "-c", PUT_OBJECTS, "erasure", "loop/", str(m)], env=moto.env)
    s_loop, rss, _ = run([sys.executable, "-c", BOTO3_DELETE_LOOP, "erasure", "loop/", str(m)], env=moto.env)
    table.add("baseline: boto3 delete_object loop (moto)", s_loop, None, None, m, rss)
    comparisons["erase_s3_vs_boto3_delete_loop"] = round(s_loop / s3_erase, 1)
    if args.erasure_s3_full:
        import bench_erasure_s3
        bench_erasure_s3.full_case(sys.modules[__name__], binary, work, args, table, comparisons)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the main feed")
    parser.add_argument("--small", type=int, default=100_000, help="records in the feed the memory figure is compared with")
    parser.add_argument("--sqlite-rows", type=int, default=100_000, help="rows deleted from the SQLite application table")
    parser.add_argument("--restore", type=int, default=10_000, help="archived objects restored into SQLite")
    parser.add_argument("--s3-records", type=int, default=20_000, help="records in the feed written to S3 (moto)")
    parser.add_argument("--queue-deletions", type=int, default=100_000, help="objects deleted through the queue on moto (and by the boto3 loop)")
    parser.add_argument("--queue-stats-entries", type=int, default=1_000_000, help="entries of the queue `queue stats` reads")
    parser.add_argument("--coordinations", type=int, default=20_000, help="coordinated deletions acked at once through the JSON-lines outbox")
    parser.add_argument("--erasure-records", type=int, default=1_000_000, help="records of the folder archive one subject's 100 are erased from")
    parser.add_argument("--erasure-s3-objects", type=int, default=100_000, help="objects of one subject erased on moto (and by the boto3 loop)")
    parser.add_argument("--erasure-s3-full", action="store_true",
                        help="also the issue's full-size erasure on moto: a versioned bucket of --erasure-s3-full-objects records, "
                             "--erasure-s3-full-subject of one subject, with older versions, GLACIER, DEEP_ARCHIVE and delete markers; "
                             "listings compared before/after, the receipt checked (scripts/bench_erasure_s3.py; ~20 min)")
    parser.add_argument("--erasure-s3-full-objects", type=int, default=100_000, help="with --erasure-s3-full: archived records in the bucket")
    parser.add_argument("--erasure-s3-full-subject", type=int, default=10_000, help="with --erasure-s3-full: those of the subject erased")
    parser.add_argument("--only-erasure", action="store_true", help="run the erasure cases only")
    parser.add_argument("--only-coordination", action="store_true",
                        help="run the coordination cases only: the tail with a rule coordinated vs not (interleaved pairs), then --coordinations")
    parser.add_argument("--pairs", type=int, default=3, help="with --only-coordination: interleaved pairs of the coordinated and plain tails")
    parser.add_argument("--binary", help="measure this archiver binary instead of building a release one")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--json", help="also write the figures as JSON to this file")
    args = parser.parse_args()

    if args.binary:
        binary = os.path.abspath(args.binary)
    else:
        print("building release…", flush=True)
        build = ["swift", "build", "-c", "release", "--scratch-path", os.path.join(ROOT, ".build-release")]
        subprocess.run(build + ["--product", "archiver"], cwd=ROOT, check=True)
        binary = subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.strip() + "/archiver"
    work = tempfile.mkdtemp(prefix="archiver-bench-", dir=os.environ.get("BENCH_DIR", "/tmp"))
    table = Table()
    comparisons = {}
    if args.only_erasure:
        moto = None if args.skip_s3 or shutil.which("moto_server") is None else Moto(work)
        try:
            erasure_cases(binary, work, args, table, comparisons, moto)
            for key, value in comparisons.items():
                print("  %-40s %8s" % (key, value), flush=True)
            if args.json:
                json.dump(dict(cases=table.rows, comparisons=comparisons), open(args.json, "w"), indent=2)
        finally:
            if moto:
                moto.stop()
            shutil.rmtree(work, ignore_errors=True)
        return
    if args.only_coordination:
        try:
            coordination_cases_only(binary, work, args, table, comparisons)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
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
        comparisons["null_store_mb_per_s"] = round(feed_bytes / s / 1e6, 1)
        s_no_rules, rss_no_rules = s, rss

        # Deletion rules on vs off. A rule for a table the feed does not have: no record is decoded.
        other = rules_config(work + "/rules-other.yml", "uploads", work + "/owned-files")
        s, rss, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-null-rules-other",
                         "--config", other, "--no-queue", "--json"])
        table.add("jsonl → null store, a rule for another table", s, args.records, feed_bytes, objects, rss)
        comparisons["rules_other_table_time_ratio"] = round(s / s_no_rules, 3)
        # A rule taking every deletion of app-main: each decoded, its action planned and queued with the checkpoint.
        every = rules_config(work + "/rules-every.yml", "app-main", work + "/owned-files")
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-null-rules-every",
                           "--config", every, "--no-queue", "--json"])
        queued = json.loads(out).get("actions_enqueued", 0)
        table.add("jsonl → null store, a rule for every app-main deletion", s, args.records, feed_bytes, objects, rss, note="%d actions queued" % queued)
        comparisons["rules_every_deletion_time_ratio"] = round(s / s_no_rules, 3)
        s_rules_every = s
        # The same rule coordinated with one consumer: a coordination and its deletion.requested event with each.
        coordinated = rules_config(work + "/rules-coordinated.yml", "app-main", work + "/owned-files", coordinate=True)
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", work + "/s-null-coordinated",
                           "--config", coordinated, "--no-queue", "--json"])
        table.add("jsonl → null store, that rule coordinated", s, args.records, feed_bytes, objects, rss,
                  note="%d actions held" % json.loads(out).get("actions_enqueued", 0))
        comparisons["coordination_on_vs_off_time_ratio"] = round(s / s_rules_every, 3)
        s_small, rss_small, _ = run([binary, "tail", "--once", "--source", "jsonl:" + small, "--archive", "null:", "--state", work + "/s-null-small", "--json"])
        table.add("jsonl → null store, %d records" % args.small, s_small, args.small, os.path.getsize(small), None, rss_small)
        # Memory: the same command on both feeds (the rules cases hold their planned entries besides).
        comparisons["rss_mb"] = round(rss_no_rules, 1)
        comparisons["rss_ratio_vs_small_feed"] = round(rss_no_rules / rss_small, 2)
        sync_disk()
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", work + "/archive", "--state", work + "/s-folder", "--json"])
        table.add("jsonl → folder", s, args.records, feed_bytes, objects, rss)
        archiver_folder = s
        written = count_files(work + "/archive")
        if written != objects:
            sys.exit("jsonl → folder wrote %d objects, expected %d" % (written, objects))

        # The batched layout, same feed: default limits, then the largest objects allowed (memory).
        sync_disk()
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", work + "/batched", "--state", work + "/s-batched",
                           "--layout", "batched", "--json"])
        summary = json.loads(out)
        if summary["archived"] != objects or summary.get("held_open") != 0:
            sys.exit("jsonl → folder, batched, archived %d records, expected %d" % (summary["archived"], objects))
        table.add("jsonl → folder, batched (%d objects)" % summary["batched_objects"], s, args.records, feed_bytes, summary["batched_objects"] * 2, rss)
        batched_folder = s
        comparisons["batched_folder_mb_per_s"] = round(feed_bytes / s / 1e6, 1)
        comparisons["batched_objects_per_million_records"] = round(summary["batched_objects"] * 1e6 / args.records)
        # Memory with the largest objects: a feed dense enough (a day's deletions far over 32 MiB) that every object
        # is full, and its first half (the same density), so that only the length differs.
        dense = os.path.join(work, "dense.jsonl")
        dense_small = os.path.join(work, "dense-small.jsonl")
        dense_records = max(args.small, args.records * 6 // 10)
        with open(dense, "wb") as f:
            run([binary, "generate", "--records", str(dense_records), "--seed", "7", "--days", "1"], stdout=f)
        with open(dense, "rb") as src, open(dense_small, "wb") as dst:
            for i, line in enumerate(src):
                if i == dense_records // 2:
                    break
                dst.write(line)
        for label, path, count, key in (("", dense, dense_records, "batched_rss_mb"), (", half of it", dense_small, dense_records // 2, "batched_rss_small_mb")):
            s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + path, "--archive", work + "/batched-largest-" + key, "--state", work + "/s-" + key,
                               "--layout", "batched", "--batch-max-bytes", "32MiB", "--batch-max-records", "10000000", "--batch-window", "1d", "--json"])
            table.add("jsonl (one day) → folder, batched, 32 MiB objects%s" % label, s, count, os.path.getsize(path), json.loads(out)["batched_objects"] * 2, rss)
            comparisons[key] = round(rss, 1)
        comparisons["batched_rss_ratio_vs_small_feed"] = round(comparisons["batched_rss_mb"] / comparisons["batched_rss_small_mb"], 2)

        # Baselines, same run.
        # Nothing is deleted until the end: ext4 allocates inodes slowly for a while after mass deletions,
        # which would penalise whichever case came next.
        sync_disk()
        s, rss, _ = run([sys.executable, "-c", SEED_HANDLER, feed, work + "/seed-archive"])
        os.sync()
        table.add("baseline: Python seed handler", s, args.records, feed_bytes, objects, rss)
        comparisons["folder_vs_seed_handler"] = round(s / archiver_folder, 2)
        comparisons["batched_folder_vs_seed_handler"] = round(s / batched_folder, 2)
        sync_disk()
        with open(os.devnull, "wb") as null:
            s_gzip, _, _ = run(["gzip", "-6", "-c"], stdout=null, input_path=removes)
        table.add("baseline: gzip -6 of the REMOVE records", s_gzip, None, os.path.getsize(removes))
        s_floor, _, _ = run([sys.executable, "-c", FLOOR, sizes, work + "/floor"])
        table.add("baseline: create the same files (floor)", s_floor, None, None, objects)
        comparisons["folder_vs_floor_plus_gzip"] = round(archiver_folder / (s_floor + s_gzip), 2)

        sqlite_cases(binary, work, args, table, comparisons)
        coordination_case(binary, work, args, table, comparisons)
        coordination_case(binary, work, args, table, comparisons, layout="batched")
        queue_stats_case(binary, work, args, table, comparisons)
        if args.skip_s3:
            print("  (S3 cases skipped: --skip-s3)")
        elif shutil.which("moto_server") is None or shutil.which("aws") is None:
            print("  (S3 cases skipped: moto_server or aws is not installed; scripts/test installs them)")
        else:
            s3_cases(binary, work, args, table, comparisons)
        moto = None if args.skip_s3 or shutil.which("moto_server") is None else Moto(work)
        try:
            erasure_cases(binary, work, args, table, comparisons, moto)
        finally:
            if moto:
                moto.stop()

        print("comparisons (targets in brackets):")
        targets = [("folder_vs_seed_handler", "jsonl → folder, × the seed handler's records/s", "≥ 4"),
                   ("folder_vs_floor_plus_gzip", "jsonl → folder time ÷ (floor + gzip -6) time", "≤ 1.5"),
                   ("batched_folder_vs_seed_handler", "jsonl → folder batched, × the seed handler's records/s", "≥ 4"),
                   ("batched_folder_mb_per_s", "jsonl → folder batched, MB/s of feed", "≥ 250"),
                   ("batched_objects_per_million_records", "batched objects per million records (folder)", ""),
                   ("batched_rss_mb", "peak RSS, batched, full 32 MiB objects, MB", "< 150"),
                   ("batched_rss_ratio_vs_small_feed", "that ÷ the same for half the feed", "≤ 1.2"),
                   ("null_store_mb_per_s", "jsonl → null store, MB/s of feed", "≥ 300"),
                   ("rss_mb", "peak RSS, %d records, MB" % args.records, "< 100"),
                   ("rss_ratio_vs_small_feed", "peak RSS ÷ peak RSS of %d records" % args.small, "≤ 1.2"),
                   ("restore_sqlite_items_per_s", "restore into SQLite, items/s", "≥ 20000"),
                   ("s3_vs_boto3_loop", "jsonl → S3, × the boto3 loop's records/s", "≥ 2"),
                   ("batched_s3_vs_boto3_loop", "jsonl → S3 batched, × the boto3 loop's records/s", "≥ 20"),
                   ("batched_s3_objects_per_million_records", "batched S3 objects (data + index) per million records", ""),
                   ("batched_restore_requests_with_state", "restore one key from batched S3 with the state folder: requests", "2"),
                   ("batched_restore_seconds_with_state", "restore one key from batched S3 with the state folder: seconds", ""),
                   ("batched_restore_requests", "restore one key from batched S3 without a state folder: requests", "2 reads"),
                   ("batched_restore_seconds", "restore one key from batched S3 without a state folder: seconds", ""),
                   ("sync_vs_aws_s3_sync", "sync time ÷ aws s3 sync time", "≤ 1"),
                   ("rules_other_table_time_ratio", "tail time with a rule for another table ÷ without rules", "≈ 1"),
                   ("rules_every_deletion_time_ratio", "tail time with a rule for every app-main deletion ÷ without", ""),
                   ("coordinations_per_s", "coordinations/s through the JSON-lines outbox, instant acks (per-record archive)", "≥ 5000"),
                   ("coordinations_per_s_batched", "the same with a batched archive", "≥ 5000"),
                   ("coordination_on_vs_off_time_ratio", "tail time with that rule coordinated ÷ not coordinated", "≤ 1.2"),
                   ("queue_vs_boto3_delete_loop", "queue run, × the boto3 delete_object loop's deletions/s", "≥ 10"),
                   ("queue_stats_ms", "queue stats on %d entries, ms (whole command)" % args.queue_stats_entries, "< 100"),
                   ("subject_index_time_ratio", "tail time with a subject template ÷ without rules", "≈ 1"),
                   ("erase_folder_seconds", "erase one subject's 100 records among %d (folder), s" % args.erasure_records, "< 2"),
                   ("erase_vs_archive_scan", "erase, × an Athena-style scan of the archive", ""),
                   ("erase_s3_vs_boto3_delete_loop", "erase %d objects (moto), × the boto3 delete_object loop" % args.erasure_s3_objects, "≥ 10"),
                   ("erase_s3_full_seconds", "erase %d of %d objects, versioned, classes (moto), s" % (
                       args.erasure_s3_full_subject, args.erasure_s3_full_objects), ""),
                   ("erase_s3_full_versions_per_s", "that, versions erased/s", "")]
        for key, label, target in targets:
            if key in comparisons:
                print("  %-60s %8s   [%s]" % (label, comparisons[key], target), flush=True)
        if args.json:
            json.dump(dict(cases=table.rows, comparisons=comparisons), open(args.json, "w"), indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sqlite_cases(binary, work, args, table, comparisons):
    """SQLite change table → folder, then restore of `--restore` of those objects into an empty table."""
    app = os.path.join(work, "app.sqlite")
    make_app_database(app, args.sqlite_rows)
    run([binary, "sqlite", "init", app, "--table", "users", "--ttl-column", "expires_at"])
    db = sqlite3.connect(app)
    # The application deletes two thirds by hand, in transactions of 1,000; the rest expire.
    ids = [i for i in range(1, args.sqlite_rows + 1) if i % 3 != 0]
    for start in range(0, len(ids), 1000):
        db.executemany("DELETE FROM users WHERE id = ?", ((i,) for i in ids[start:start + 1000]))
        db.commit()
    db.close()
    run([binary, "sqlite", "expire", app, "--table", "users"])
    remaining = sqlite3.connect(app).execute("SELECT count(*) FROM users").fetchone()[0]
    deleted = args.sqlite_rows - remaining
    sync_disk()
    archive = work + "/sqlite-archive"
    s, rss, _ = run([binary, "tail", "--once", "--source", "sqlite:" + app, "--archive", archive, "--state", work + "/s-sqlite", "--json"])
    table.add("sqlite change table → folder", s, deleted, None, deleted, rss)
    if count_files(archive) != deleted:
        sys.exit("sqlite → folder wrote %d objects, expected %d" % (count_files(archive), deleted))

    # Restore: the first `--restore` objects, moved into an archive of their own, into an empty table.
    subset = work + "/restore-archive"
    moved = 0
    for root, dirs, files in sorted(os.walk(archive)):
        dirs.sort()
        if "/.tmp" in root + "/":
            continue
        for name in sorted(files):
            if moved == args.restore:
                break
            rel = os.path.relpath(os.path.join(root, name), archive)
            os.makedirs(os.path.dirname(os.path.join(subset, rel)), exist_ok=True)
            os.rename(os.path.join(root, name), os.path.join(subset, rel))
            moved += 1
    day = sorted(os.path.relpath(r, subset) for r, d, f in os.walk(subset) if f and "/.tmp" not in r + "/")
    target = os.path.join(work, "restored.sqlite")
    db = sqlite3.connect(target)
    db.execute(SQLITE_SCHEMA)
    db.execute("PRAGMA journal_mode=WAL")
    db.commit()
    db.close()
    start = time.time()
    restored = 0
    peak = 0
    for prefix in day:
        s, rss, out = run([binary, "restore", "--prefix", prefix, "--archive", subset, "--to", "sqlite:%s#users" % target, "--json"])
        peak = max(peak, rss)
    s = time.time() - start
    restored = sqlite3.connect(target).execute("SELECT count(*) FROM users").fetchone()[0]
    if restored != moved:
        sys.exit("restore put back %d rows, expected %d" % (restored, moved))
    table.add("restore %d objects → SQLite" % moved, s, moved, None, None, peak)
    comparisons["restore_sqlite_items_per_s"] = round(moved / s)


def s3_cases(binary, work, args, table, comparisons):
    """JSONL → S3 against a boto3 put_object loop; sync of a month against `aws s3 sync`; both on moto."""
    moto = Moto(work)
    try:
        moto.make_bucket("bench")
        feed = os.path.join(work, "s3-feed.jsonl")
        with open(feed, "wb") as f:
            run([binary, "generate", "--records", str(args.s3_records), "--seed", "11", "--summary", feed + ".summary"], stdout=f)
        objects = json.load(open(feed + ".summary"))["archived"]
        s, rss, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "s3://bench/archive",
                         "--state", work + "/s-s3", "--json"], env=moto.env)
        table.add("jsonl → S3 (moto)", s, args.s3_records, os.path.getsize(feed), objects, rss)
        archiver_s3 = s
        s, rss, _ = run([sys.executable, "-c", BOTO3_LOOP, feed, "bench", "boto3"], env=moto.env)
        table.add("baseline: boto3 put_object loop (moto)", s, args.s3_records, os.path.getsize(feed), objects, rss)
        comparisons["s3_vs_boto3_loop"] = round(s / archiver_s3, 2)
        boto3_loop = s
        s, rss, out = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "s3://bench/batched", "--state", work + "/s-s3-batched",
                           "--layout", "batched", "--json"], env=moto.env)
        written = json.loads(out)["batched_objects"]
        table.add("jsonl → S3 (moto), batched (%d objects)" % written, s, args.s3_records, os.path.getsize(feed), written * 2, rss)
        comparisons["batched_s3_vs_boto3_loop"] = round(boto3_loop / s, 1)
        comparisons["batched_s3_objects_per_million_records"] = round(written * 2 * 1e6 / args.s3_records)
        restore_one(binary, work, moto, table, comparisons)

        months = sorted({json.loads(l)["dynamodb"]["ApproximateCreationDateTime"] for l in open(feed, "rb")
                         if b'"REMOVE"' in l and isinstance(json.loads(l)["dynamodb"]["ApproximateCreationDateTime"], int)})
        month = time.strftime("%Y-%m", time.gmtime(months[len(months) // 2]))
        s, rss, out = run([binary, "sync", month, work + "/synced", "--archive", "s3://bench/archive", "--json"], env=moto.env)
        synced = json.loads(out)["objects"]
        table.add("sync %s from S3 (moto)" % month, s, None, None, synced, rss)
        archiver_sync = s
        s, rss, _ = run(["aws", "s3", "sync", "--quiet", "s3://bench/archive/" + month.replace("-", "/"), work + "/aws-synced"], env=moto.env)
        table.add("baseline: aws s3 sync of the same month", s, None, None, count_files(work + "/aws-synced"), rss)
        if count_files(work + "/aws-synced") != count_files(work + "/synced"):
            sys.exit("sync and aws s3 sync copied different numbers of objects")
        comparisons["sync_vs_aws_s3_sync"] = round(archiver_sync / s, 2)
        queue_delete_cases(binary, work, args, table, comparisons, moto)
    finally:
        moto.stop()


def queue_delete_cases(binary, work, args, table, comparisons, moto):
    """--queue-deletions deleted items, each owning one object: `queue run` (DeleteObjects batches, calls in flight)
    against the seed's cleanup, a boto3 loop of delete_object. Only the deleting is timed."""
    n = args.queue_deletions
    moto.make_bucket("content")
    run([sys.executable, "-c", PUT_OBJECTS, "content", "owned/", str(n)], env=moto.env)
    feed = os.path.join(work, "deletions.jsonl")
    with open(feed, "w") as f:
        for i in range(n):
            f.write('{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"PK":{"S":"U%d"}},'
                    '"OldImage":{"PK":{"S":"U%d"},"key":{"S":"owned/%d.bin"}},"SequenceNumber":"%d"},'
                    '"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/uploads/stream/x"}\n' % (1_706_000_000 + i, i, i, i, 10**6 + i))
    config = os.path.join(work, "queue.yml")
    with open(config, "w") as f:
        f.write("roots:\n  content: s3://content/\nrules:\n  - name: owned\n    match: {table: uploads}\n    actions:\n"
                "      - delete-object: {root: content, key: \"{OldImage.key.S}\"}\nqueue:\n  batch-size: 5000\n  concurrency: 16\n")
    state = work + "/s-queue"
    run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", state, "--config", config, "--no-queue"])
    s, rss, out = run([binary, "queue", "run", "--once", "--config", config, "--state-folder", state, "--json"], env=moto.env)
    done = json.loads(out)
    left = int(run([sys.executable, "-c", COUNT_OBJECTS, "content", "owned/"], env=moto.env)[2])
    if done["completed"] != n or left != 0:
        sys.exit("queue run completed %d of %d deletions and left %d objects" % (done["completed"], n, left))
    table.add("queue run: %d owned objects deleted (moto)" % n, s, None, None, n, rss)
    run([sys.executable, "-c", PUT_OBJECTS, "content", "loop/", str(n)], env=moto.env)
    s_loop, rss, _ = run([sys.executable, "-c", BOTO3_DELETE_LOOP, "content", "loop/", str(n)], env=moto.env)
    table.add("baseline: boto3 delete_object loop (moto)", s_loop, None, None, n, rss)
    comparisons["queue_vs_boto3_delete_loop"] = round(s_loop / s, 1)


def coordination_cases_only(binary, work, args, table, comparisons):
    """The tail with a rule for every app-main deletion, coordinated and not, in --pairs interleaved pairs (the ratio
    of the medians, so a loaded machine weighs on both), then the coordinations/s case."""
    feed = os.path.join(work, "feed.jsonl")
    with open(feed, "wb") as f:
        run([binary, "generate", "--records", str(args.records), "--seed", "7"], stdout=f)
    every = rules_config(work + "/rules-every.yml", "app-main", work + "/owned-files")
    coordinated = rules_config(work + "/rules-coordinated.yml", "app-main", work + "/owned-files", coordinate=True)
    plain, held = [], []
    for pair in range(args.pairs):
        for config, times in ((every, plain), (coordinated, held)):
            state = "%s/s-%s-%d" % (work, os.path.basename(config), pair)
            s, _, _ = run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "null:", "--state", state,
                           "--config", config, "--no-queue", "--json"])
            times.append(s)
            shutil.rmtree(state, ignore_errors=True)
    median = lambda xs: sorted(xs)[len(xs) // 2]
    print("  tail, %d records, rule for every app-main deletion: plain %s s, coordinated %s s" %
          (args.records, " ".join("%.2f" % t for t in plain), " ".join("%.2f" % t for t in held)), flush=True)
    comparisons["coordination_on_vs_off_time_ratio"] = round(median(held) / median(plain), 3)
    coordination_case(binary, work, args, table, comparisons)
    coordination_case(binary, work, args, table, comparisons, layout="batched")
    for key, value in comparisons.items():
        print("  %-40s %8s" % (key, value), flush=True)


def coordination_case(binary, work, args, table, comparisons, layout="per-record"):
    """--coordinations coordinated deletions: the tail archives them (coordinations held), the coordinator delivers
    deletion.requested to the JSON-lines file, a consumer acks them all at once (archiver ack --file) as it reads them,
    and `queue run --once` releases them, runs their actions, completes the coordinations and delivers
    deletion.completed. Coordinations/s: deletions ÷ the time of all four steps. The files the actions name are not
    there (an action on a missing file is done at once), so the figure is coordination's own cost, not the disk's:
    a folder root syncs its folder after each deletion. `layout`: the archive's (the tail's step is mostly its writes:
    per-record, one file and its sync per deletion)."""
    n = args.coordinations
    folder = work + "/coordination-" + layout
    os.makedirs(folder + "/files")
    feed = folder + "/feed.jsonl"
    with open(feed, "w") as f:
        for i in range(n):
            f.write('{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"PK":{"S":"F%d"}},"OldImage":{"path":{"S":"%d"}},'
                    '"SequenceNumber":"%d"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/files/stream/x"}\n' % (1_706_000_000 + i, i, i, 10_000 + i))
    config = folder + "/archiver.yml"
    with open(config, "w") as f:
        f.write("state: %s/state\narchive: %s/archive\nroots: {files: %s/files}\nrules:\n  - name: files\n    match: {table: files}\n"
                "    actions: [{delete-object: {root: files, key: \"{OldImage.path.S}\"}}]\n    coordinate: {consumers: [analytics]}\n"
                "queue: {batch-size: 1000}\nlayout: %s\n" % (folder, folder, folder, layout))
    sync_disk()
    s_tail, _, _ = run([binary, "tail", "--once", "--no-queue", "--source", "jsonl:" + feed, "--config", config, "--json"])
    s_out, _, _ = run([binary, "coordination", "run", "--once", "--config", config])
    start = time.time()
    acks = folder + "/acks.jsonl"
    with open(folder + "/state/events.jsonl") as events, open(acks, "w") as out:
        for line in events:
            event = json.loads(line)
            if event["type"] == "deletion.requested":
                out.write('{"coordination_id":"%s","consumer":"analytics"}\n' % event["data"]["coordination_id"])
    s_read = time.time() - start
    s_ack, _, out = run([binary, "ack", "--file", acks, "--config", config, "--json"])
    if json.loads(out)["recorded"] != n:
        sys.exit("ack recorded %s acks, not %d" % (json.loads(out)["recorded"], n))
    s_run, rss, _ = run([binary, "queue", "run", "--once", "--config", config, "--json"])
    completed = sum(1 for line in open(folder + "/state/events.jsonl") if '"type":"deletion.completed"' in line)
    if completed != n:
        sys.exit("coordination: %d deletion.completed events and %d files left, expected %d and 0" % (completed, count_files(folder + "/files"), n))
    total = s_tail + s_out + s_read + s_ack + s_run
    table.add("coordinated deletions (%s archive): tail, events out, acks in, release + delete + complete" % layout, total, n, None, n, rss,
              note="tail %.2fs, events %.2fs, consumer %.2fs, ack %.2fs, queue run %.2fs" % (s_tail, s_out, s_read, s_ack, s_run))
    comparisons["coordinations_per_s" + ("" if layout == "per-record" else "_" + layout)] = round(n / total)


def queue_stats_case(binary, work, args, table, comparisons):
    """`queue stats` on --queue-stats-entries entries written straight into the state database (not by archiving)."""
    state = work + "/s-stats"
    os.makedirs(state)
    s_empty = min(run([binary, "queue", "stats", "--state-folder", state, "--json"])[0] for _ in range(5))
    fill_queue(state + "/archiver.sqlite", args.queue_stats_entries)
    times = []
    for _ in range(5):
        s, rss, out = run([binary, "queue", "stats", "--state-folder", state, "--json"])
        times.append(s)
    if json.loads(out)["total"] != args.queue_stats_entries:
        sys.exit("queue stats counted %s entries, not %d" % (json.loads(out)["total"], args.queue_stats_entries))
    table.add("queue stats, %d entries (best of 5)" % args.queue_stats_entries, min(times), None, None, None, rss,
              note="empty queue: %.0f ms" % (s_empty * 1000))
    comparisons["queue_stats_ms"] = round(min(times) * 1000)


def restore_one(binary, work, moto, table, comparisons):
    """Restore of one record by key from the batched S3 archive, through scripts/fault-proxy.py with no faults,
    which counts the requests: with the tail's state folder (its catalogue names the object), and without it."""
    import urllib.request
    listing = subprocess.run([binary, "ls", "--archive", "s3://bench/batched"], env=moto.env, check=True, capture_output=True, text=True).stdout.split("\n")
    key = listing[len(listing) // 2].split()[-1]
    for label, state, suffix in (("with the state folder", work + "/s-s3-batched", "_with_state"), ("without a state folder", work + "/no-state", "")):
        proxy = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "fault-proxy.py"), "--upstream", moto.url, "--faults", ""],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = int(proxy.stdout.readline().split()[-1])
            env = dict(moto.env, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port)
            s, rss, _ = run([binary, "restore", key, "--archive", "s3://bench/batched", "--state", state, "--to", "-"], env=env)
            stats = json.load(urllib.request.urlopen("http://127.0.0.1:%d/__fault/stats" % port))
            kinds = sorted(("list" if path.count("/") == 1 else "manifest" if path.endswith("_archiver-layout.json") else
                            "index" if path.endswith(".index.gz") else "range" if path.endswith(".jsonl.gz") else path)
                           for path in stats["by_request"])
            table.add("restore one key from batched S3, %s (%s)" % (label, ", ".join(kinds)), s, None, None, None, rss, "%d requests" % stats["requests"])
            comparisons["batched_restore_requests" + suffix] = "%d (%s)" % (stats["requests"], "+".join(kinds))
            comparisons["batched_restore_seconds" + suffix] = round(s, 3)
        finally:
            proxy.kill()
            proxy.wait()


if __name__ == "__main__":
    main()
