"""The erasure case at the issue's full size, on moto (`scripts/bench.py --only-erasure --erasure-s3-full`).

A versioned bucket of --erasure-s3-full-objects archived records (100,000), --erasure-s3-full-subject (10,000) of them
one subject's, written by `archiver tail` (which also indexes them); then, by boto3 threads, older versions, objects
in GLACIER and DEEP_ARCHIVE and delete markers, on the subject's keys and on everyone else's. `archiver erase` erases
the subject; every version of every key is listed before and after: none of the subject's keys may keep a version,
every other key must keep exactly its versions (ids, ETags, classes, markers), and the receipt's counts must equal
what was deleted. Prints the setup's and the erase's wall times and versions/s.

moto's ListObjectVersions deep-copies every version of the whole bucket for each page it answers (each copy reads the
object's bytes into a new temporary file), so listing a bucket of n versions costs O(n²): at this size a listing
takes most of an hour, where S3 pages in constant time. The case therefore runs moto_server with
MOTO_LINEAR_VERSIONS, which copies only the versions a page can hold (the names under the prefix, from the marker on,
at most a page of them), shallowly. Its answers are the same (same versions, markers, IsLatest, ETags and page
boundaries).
"""
import json, os, sys, time

MOTO_LINEAR_VERSIONS = r'''
import copy, heapq, sys, threading
import moto.s3.models as models
from moto.server import main

_page = threading.local()
_deepcopy = copy.deepcopy

def _copy(version):
    twin = object.__new__(type(version))
    twin.__dict__.update(version.__dict__)
    return twin

def _copies(value, memo=None):
    wanted = getattr(_page, "wanted", None)
    if wanted is None or not isinstance(value, list):
        return _deepcopy(value, memo)
    if not value or value[0].name not in wanted:
        return []
    return [_copy(version) for version in value]

class _CopyModule:
    def __getattr__(self, name):
        return getattr(copy, name)
    deepcopy = staticmethod(_copies)

_listing = models.S3Backend.list_object_versions

def _list_object_versions(self, bucket_name, *args, **kwargs):
    prefix, marker = kwargs.get("prefix") or "", kwargs.get("key_marker") or ""
    names = (name for name in self.get_bucket(bucket_name).keys.keys() if name.startswith(prefix) and name >= marker)
    max_keys = kwargs.get("max_keys")
    if kwargs.get("delimiter") or max_keys is None:
        _page.wanted = set(names)
    else:
        # A page of max_keys versions spans at most max_keys names after the marker's own.
        _page.wanted = set(heapq.nsmallest(max_keys + 2, names))
    try:
        return _listing(self, bucket_name, *args, **kwargs)
    finally:
        _page.wanted = None

models.copy = _CopyModule()
models.S3Backend.list_object_versions = _list_object_versions
sys.exit(main())
'''

# Older versions, archive classes and delete markers over the archived objects, by 16 threads. The subject's keys
# (j: their rank): every 3rd gets a second STANDARD version, every 5th a GLACIER one, every 7th a DEEP_ARCHIVE one,
# every 11th a delete marker; everyone else's (i: their rank): every 23rd a second version, every 13th GLACIER, every
# 17th DEEP_ARCHIVE, every 19th a delete marker.
DECORATE = r'''
import sys, boto3, concurrent.futures
from botocore.config import Config
bucket, prefix, subject = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", config=Config(max_pool_connections=16))
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    keys += [o["Key"] for o in page.get("Contents", [])]
keys.sort()
theirs = [k for k in keys if subject in k]
others = [k for k in keys if subject not in k]
work = []
for rank, key in enumerate(theirs):
    work += [(key, "STANDARD")] * (rank % 3 == 0) + [(key, "GLACIER")] * (rank % 5 == 0) + [(key, "DEEP_ARCHIVE")] * (rank % 7 == 0)
    work += [(key, None)] * (rank % 11 == 0)
for rank, key in enumerate(others):
    work += [(key, "STANDARD")] * (rank % 23 == 0) + [(key, "GLACIER")] * (rank % 13 == 0) + [(key, "DEEP_ARCHIVE")] * (rank % 17 == 0)
    work += [(key, None)] * (rank % 19 == 0)
# Per key in order (a marker last), keys spread over the threads.
by_key = {}
for key, storage in work:
    by_key.setdefault(key, []).append(storage)
def decorate(item):
    key, steps = item
    for storage in steps:
        if storage is None:
            s3.delete_object(Bucket=bucket, Key=key)
        else:
            s3.put_object(Bucket=bucket, Key=key, Body=b"another version of " + key.encode(), StorageClass=storage)
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(decorate, by_key.items(), chunksize=32))
print(len(keys), len(theirs), len(work))
'''

# Every version of every key under a prefix, as JSON lines: key, version id, ETag, class or "marker", latest.
LIST_VERSIONS = r'''
import json, sys, boto3
s3 = boto3.client("s3")
bucket, prefix, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w") as f:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            f.write(json.dumps([v["Key"], v["VersionId"], v["ETag"], v.get("StorageClass", "STANDARD"), v["IsLatest"]]) + "\n")
        for m in page.get("DeleteMarkers", []):
            f.write(json.dumps([m["Key"], m["VersionId"], "", "marker", m["IsLatest"]]) + "\n")
'''


def versions(path):
    return {tuple(json.loads(line)) for line in open(path)}


def full_case(bench, binary, work, args, table, comparisons):
    """The full-size erasure on a versioned moto bucket (see the module's documentation)."""
    total, theirs = args.erasure_s3_full_objects, args.erasure_s3_full_subject
    moto = bench.Moto(work, launcher=MOTO_LINEAR_VERSIONS)
    try:
        bucket, prefix, marker = "erasure-full", "a/", "USER#victim_"
        moto.make_bucket(bucket)
        bench.run(["aws", "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"], env=moto.env)
        feed = os.path.join(work, "full.jsonl")
        bench.subject_feed(feed, total, max(1, total // theirs))
        on = bench.subject_config(os.path.join(work, "full-subject.yml"))
        state = work + "/full-state"
        started = time.time()
        s_tail, _, _ = bench.run([binary, "tail", "--once", "--source", "jsonl:" + feed, "--archive", "s3://%s/a" % bucket, "--state", state,
                                  "--config", on], env=moto.env)
        _, _, out = bench.run([sys.executable, "-c", DECORATE, bucket, prefix, marker], env=moto.env)
        objects, subject_objects, extra = (int(n) for n in out.split())
        s_setup = time.time() - started
        if objects != total or subject_objects != len(range(0, total, max(1, total // theirs))):
            sys.exit("the archive holds %d objects, %d of the subject; expected %d and %d" % (objects, subject_objects, total, theirs))
        s_list, _, _ = bench.run([sys.executable, "-c", LIST_VERSIONS, bucket, prefix, work + "/before.jsonl"], env=moto.env)
        before = versions(work + "/before.jsonl")
        print("  setup: %d objects (%d of the subject) archived by the tail in %.1f s, %d more versions and markers; %.1f s in all; "
              "a listing of the %d versions: %.1f s" % (objects, subject_objects, s_tail, extra, s_setup, len(before), s_list), flush=True)

        s_erase, rss, out = bench.run([binary, "erase", "--subject", "victim", "--archive", "s3://%s/a" % bucket, "--state", state,
                                       "--config", on, "--json"], env=moto.env)
        receipt = json.loads(out)["jobs"][0]["receipt"]
        bench.run([sys.executable, "-c", LIST_VERSIONS, bucket, prefix, work + "/after.jsonl"], env=moto.env)
        after = versions(work + "/after.jsonl")

        gone = {v for v in before if marker in v[0]}
        others = before - gone
        # IsLatest of another key cannot change: compare everything.
        problems = []
        if any(marker in v[0] for v in after):
            problems.append("%d versions of the subject's keys are left" % sum(marker in v[0] for v in after))
        if after != others:
            problems.append("other keys changed: %d versions lost, %d appeared" % (len(others - after), len(after - others)))
        markers = sum(v[3] == "marker" for v in gone)
        counts = receipt["counts"]["archive"]
        by_class = receipt.get("objects_by_storage_class", {})
        expected = {"delete.deleted": len(gone) - markers, "delete-marker.deleted": markers}
        for key, value in expected.items():
            if counts.get(key) != value:
                problems.append("the receipt counts %s %s, %d were deleted" % (key, counts.get(key), value))
        for storage in ("GLACIER", "DEEP_ARCHIVE"):
            deleted = sum(v[3] == storage for v in gone)
            if by_class.get(storage) != deleted:
                problems.append("the receipt counts %s %s in %s, %d were deleted" % (by_class.get(storage), "versions", storage, deleted))
        if problems:
            sys.exit("full-size erasure on moto: " + "; ".join(problems))
        print("  checked: the subject's %d versions (%d delete markers, %d GLACIER, %d DEEP_ARCHIVE) gone, the other %d versions untouched "
              "(ids, ETags, classes, latest), the receipt's counts equal" % (
                  len(gone), markers, sum(v[3] == "GLACIER" for v in gone), sum(v[3] == "DEEP_ARCHIVE" for v in gone), len(others)), flush=True)
        table.add("setup: %d objects, versioned, classes, markers (moto)" % total, s_setup, None, None, objects + extra)
        table.add("erase %d objects (%d versions) of one subject among %d (moto)" % (subject_objects, len(gone), total), s_erase, None, None,
                  len(gone), rss, note="%.0f subject objects/s" % (subject_objects / s_erase))
        comparisons["erase_s3_full_seconds"] = round(s_erase, 2)
        comparisons["erase_s3_full_versions_per_s"] = round(len(gone) / s_erase)
        comparisons["erase_s3_full_setup_seconds"] = round(s_setup, 1)
    finally:
        moto.stop()
