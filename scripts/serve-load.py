#!/usr/bin/env python3
"""Load on `archiver serve`: wrk on GET /api/v1/stats at a steady rate while a tail of the same process archives a
generated feed at full speed, with a deletion queue of --queue-entries entries in the state database (the stats
read it); then SIGTERM in the middle of it. Figures printed (and --json), not asserted.

  python3 scripts/serve-load.py [--records 400000] [--rate 200] [--seconds 20] [--queue-entries 1000000]
                                [--binary .build/release/archiver] [--json out.json]

1. builds the release binary (unless --binary), generates the feed (`archiver generate --seed 11`), and writes
   --queue-entries queue entries straight into a state database (bench.py's fill_queue: 5/10 available, 3/10
   completed, 1/10 parked, 1/10 retrying), copied into each run's state folder;
2. unloaded: `archiver serve` tails the feed into a folder; the time from start until every record is read;
3. loaded: the same, from scratch, with wrk sending GET /api/v1/stats at --rate requests/s (8 connections, each
   waiting 85% of 8000/rate ms between requests) for --seconds; prints p50/p99/max latency, the rate reached and the
   tail's records/s beside the unloaded run's;
4. stop under load: a third serve, wrk again, SIGTERM after 1/3 of --seconds: the exit code, how long the stop
   took, and a `tail --once` that resumes from the checkpoint (together they read every record once).
Targets: p99 under 50 ms at 200 requests/s; the tail no more than 10% slower; exit 0 within the grace period.
Everything listens on 127.0.0.1 only.
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from bench import fill_queue  # noqa: E402
TOKEN = "serve-load-token-0123456789abcdef"
GRACE = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=TOKEN):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Serve:
    """`archiver serve` of one feed into its own archive and state folder."""

    def __init__(self, binary, work, feed, name, state=None):
        self.folder = os.path.join(work, name)
        os.makedirs(self.folder)
        if state:
            shutil.copytree(state, os.path.join(self.folder, "state"))
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, ARCHIVER_SERVE_TOKEN=TOKEN, ARCHIVER_LOG_LEVEL="warning")
        self.log = open(os.path.join(self.folder, "serve.log"), "wb")
        self.started = time.time()
        self.process = subprocess.Popen(
            [binary, "serve", "--source", "jsonl:" + feed, "--archive", "archive", "--state", "state",
             "--listen", "127.0.0.1:%d" % self.port],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except Exception:
                time.sleep(0.05)
        sys.exit("archiver serve did not start; see " + self.log.name)

    def read(self):
        source = get(self.base + "/api/v1/sources")["sources"][0]
        return source["totals"]["read"]

    def wait_read(self, records, poll=0.25):
        """Seconds from start until every record is read."""
        while self.read() < records:
            if self.process.poll() is not None:
                sys.exit("archiver serve ended early; see " + self.log.name)
            time.sleep(poll)
        return time.time() - self.started

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        began = time.time()
        code = self.process.wait(timeout=GRACE + 30)
        return code, time.time() - began


def wrk(url, rate, seconds, connections=8):
    """wrk at about `rate` requests/s: each connection waits 85% of connections*1000/rate ms before each
    request (the rest of its period is the request itself), so the rate reached is close to `rate`; it is printed."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    delay = max(1, int(connections * 1000 / rate * 0.85))
    script.write("wrk.headers['Authorization'] = 'Bearer %s'\nfunction delay() return %d end\n" % (TOKEN, delay))
    script.close()
    return subprocess.Popen(
        ["wrk", "-t", "1", "-c", str(connections), "-d", "%ds" % seconds, "--latency", "--timeout", "5s", "-s", script.name, url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(output):
    def ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    figures = {}
    for percentile in ("50", "99"):
        match = re.search(r"^\s+%s%%\s+(\S+)" % percentile, output, re.M)
        if match:
            figures["p" + percentile + "_ms"] = round(ms(match.group(1)), 2)
    match = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    if match:
        figures["max_ms"] = round(ms(match.group(1)), 2)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match:
        figures["requests_per_s"] = float(match.group(1))
    match = re.search(r"(\d+) requests in", output)
    if match:
        figures["requests"] = int(match.group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=400000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--queue-entries", type=int, default=1_000_000, help="entries in the deletion queue /api/v1/stats reads")
    parser.add_argument("--binary")
    parser.add_argument("--work", help="a folder for the feed and the archives (default: a temporary one, removed)")
    parser.add_argument("--json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk; scripts/test installs it)")
    binary = args.binary
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "archiver"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, ".build/release/archiver")
    binary = os.path.abspath(binary)
    work = args.work or tempfile.mkdtemp(prefix="archiver-serve-load-")
    os.makedirs(work, exist_ok=True)
    results = {"records": args.records, "rate": args.rate, "seconds": args.seconds, "queue_entries": args.queue_entries}
    try:
        feed = os.path.join(work, "feed.jsonl")
        with open(feed, "wb") as out:
            subprocess.run([binary, "generate", "--records", str(args.records), "--seed", "11"], stdout=out, check=True)
        print("feed: %d records, %.0f MB" % (args.records, os.path.getsize(feed) / 1e6), flush=True)
        state = None
        if args.queue_entries > 0:
            # A state database made by archiver (its schema), then filled; each run starts from a copy of it.
            state = os.path.join(work, "queue-state")
            os.makedirs(state)
            subprocess.run([binary, "queue", "stats", "--state-folder", state, "--json"], stdout=subprocess.DEVNULL, check=True)
            began = time.time()
            fill_queue(os.path.join(state, "archiver.sqlite"), args.queue_entries)
            counted = json.loads(subprocess.run([binary, "queue", "stats", "--state-folder", state, "--json"],
                                                capture_output=True, text=True, check=True).stdout)["total"]
            if counted != args.queue_entries:
                sys.exit("queue stats counted %d entries, not %d" % (counted, args.queue_entries))
            print("queue: %d entries written in %.1f s" % (counted, time.time() - began), flush=True)

        # Unloaded: how long the tail takes on its own.
        os.sync()
        quiet = Serve(binary, work, feed, "unloaded", state)
        unloaded = quiet.wait_read(args.records)
        quiet.stop()
        results["unloaded_seconds"] = round(unloaded, 2)
        results["unloaded_records_per_s"] = round(args.records / unloaded)
        print("unloaded: %.2f s, %d records/s" % (unloaded, args.records / unloaded), flush=True)

        # Loaded: wrk on /stats for as long as the tail runs (at most --seconds).
        os.sync()
        busy = Serve(binary, work, feed, "loaded", state)
        queue_total = get(busy.base + "/api/v1/stats")["queue"]["total"]
        if queue_total != args.queue_entries:
            sys.exit("/api/v1/stats counts %d queue entries, not %d" % (queue_total, args.queue_entries))
        load = wrk(busy.base + "/api/v1/stats", args.rate, args.seconds)
        loaded = busy.wait_read(args.records)
        output, _ = load.communicate()
        busy.stop()
        figures = parse_wrk(output)
        results["loaded_seconds"] = round(loaded, 2)
        results["loaded_records_per_s"] = round(args.records / loaded)
        results["tail_slowdown_percent"] = round((loaded / unloaded - 1) * 100, 1)
        results["wrk"] = figures
        print("loaded: %.2f s, %d records/s (%+.1f%%); /api/v1/stats: %s" % (
            loaded, args.records / loaded, results["tail_slowdown_percent"], figures), flush=True)
        if loaded < args.seconds:
            print("  (the tail finished before wrk: the slowdown covers the whole tail, the latency also the idle rest)")

        # Stop under load.
        os.sync()
        stopping = Serve(binary, work, feed, "stopped", state)
        load = wrk(stopping.base + "/api/v1/stats", args.rate, args.seconds)
        time.sleep(max(1, args.seconds / 3))
        read_before = stopping.read()
        code, took = stopping.stop()
        load.communicate()
        rest = subprocess.run([binary, "tail", "--source", "jsonl:" + feed, "--archive", "archive", "--state", "state", "--once", "--json"],
                              cwd=stopping.folder, capture_output=True, text=True, check=True)
        resumed = json.loads(rest.stdout)["read"]
        line = re.search(r"read (\d+),", open(stopping.log.name, errors="replace").read())
        served = int(line.group(1)) if line else None
        results["stop"] = {"exit": code, "seconds": round(took, 2), "read_by_serve": served, "read_after": resumed,
                           "read_at_signal": read_before, "every_record_once": served is not None and served + resumed == args.records}
        print("stop under load: exit %d after %.2f s; serve read %s, the next tail %d (together %s of %d)" % (
            code, took, served, resumed, (served or 0) + resumed, args.records), flush=True)

        print()
        print("| target | this run |")
        print("|---|---:|")
        print("| p99 of GET /api/v1/stats at %d requests/s, queue of %d entries < 50 ms | %s ms (p50 %s ms, %s requests/s reached) |" % (
            args.rate, args.queue_entries, figures.get("p99_ms"), figures.get("p50_ms"), figures.get("requests_per_s")))
        print("| the tail no more than 10%% slower under that load | %+.1f%% (%d vs %d records/s) |" % (
            results["tail_slowdown_percent"], results["loaded_records_per_s"], results["unloaded_records_per_s"]))
        print("| SIGTERM under load: exit 0 within the grace period (%d s), checkpoint saved | exit %d in %.2f s, %s |" % (
            GRACE, code, took, "every record read once" if results["stop"]["every_record_once"] else "RECORDS MISSED OR REPEATED"))
        if args.json:
            with open(args.json, "w") as out:
                json.dump(results, out, indent=2)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
