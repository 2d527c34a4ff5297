#!/usr/bin/env python3
"""Reads Prometheus metrics with the prometheus_client parser and prints every sample as JSON, for tests.

    scripts/metrics-json.py http://127.0.0.1:9464/metrics      (or a file path, or - for standard input)

Prints {"families": {name: type}, "samples": [{"name": …, "labels": {…}, "value": …}, …]}. Exits 1 when the text
does not parse (the parser is strict about the exposition format: TYPE lines, label syntax, values).
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    where = sys.argv[1]
    if where == "-":
        text = sys.stdin.read()
    elif where.startswith("http://"):
        host = where.split("/")[2].rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            sys.exit("metrics-json.py reads metrics from this machine only (127.0.0.1, localhost, [::1])")
        with urllib.request.urlopen(where, timeout=30) as response:
            text = response.read().decode("utf-8")
    else:
        with open(where, encoding="utf-8") as file:
            text = file.read()
    families = {}
    samples = []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": dict(sample.labels), "value": sample.value})
    json.dump({"families": families, "samples": samples}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
