#!/usr/bin/env python3
"""Reads every Parquet fixture of parquet-testing with `lakehouse parquet cat`
and compares the rows with two independent readers, DuckDB 1.5 and hyparquet
(tests/peers/duck.mjs and hyp.mjs print rows in the same output rules), and
with the expected values shipped beside some fixtures (*_expect.csv).

A fixture passes when our rows equal DuckDB's; where DuckDB refuses the
file, hyparquet's; where both peers read it wrongly or differently from the
spec, the difference must be listed in KNOWN below with the reason (the same
table is in docs/formats/parquet.md). Exit 0 when everything agrees, 1 with
a report otherwise, 77 (skipped) when the fixtures or the peers are absent.

usage: conformance.py LAKEHOUSE_BINARY
"""
import csv
import io
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("LH_SHARED_DIR") or os.path.join(ROOT, "..", "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "parquet")
PEERS = os.environ.get("LH_PEERS_DIR") or os.path.join(ROOT, ".npm-peers")

# Broken on purpose (their README says NEGATIVE): we must refuse them.
NEGATIVE = {
    "datapage_v1-corrupt-checksum.parquet",
    "rle-dict-uncompressed-corrupt-checksum.parquet",
    "nation.dict-malformed.parquet",
}

# Where we differ from the peers on purpose. kind "tz": the file uses the
# legacy TIMESTAMP_MILLIS/MICROS annotation, which LogicalTypes.md defines
# as isAdjustedToUTC=true, so we read TIMESTAMPTZ ("...+00") where DuckDB
# reads TIMESTAMP. kind "peers-wrong": rows the peers decode wrongly.
KNOWN = {
    "int96_from_spark.parquet": ("peers-wrong",
        "row 6 is 290000-12-30 23:00:00 (int96_from_spark.md); DuckDB and "
        "hyparquet wrap it through nanoseconds"),
    "nested_structs.rust.parquet": ("tz",
        "legacy TIMESTAMP_MICROS means UTC-adjusted"),
    # kind "golden": no peer reads it as the spec reads; our rows are
    # checked against tests/parquet/golden/<name>.ndjson instead.
    "map_no_value.parquet": ("golden",
        "a MAP without a value field: DuckDB refuses it, hyparquet reads a "
        "struct; we read the map's keys as entries without values"),
}
GOLDEN = os.path.join(ROOT, "tests", "parquet", "golden")


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def rows_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def same_value(a, b, kind):
    if a == b:
        return True
    if kind == "tz":
        if isinstance(a, str) and isinstance(b, str):
            return a == b + "+00" or b == a + "+00"
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(
                same_value(a[k], b[k], kind) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(
                same_value(x, y, kind) for x, y in zip(a, b))
    return False


def compare(ours, theirs, kind):
    """A list of differences (strings), empty when equal."""
    diffs = []
    if len(ours) != len(theirs):
        diffs.append("%d rows, the peer has %d" % (len(ours), len(theirs)))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if list(a.keys()) != list(b.keys()):
            diffs.append("row %d: columns %s, the peer has %s"
                         % (i + 1, list(a.keys()), list(b.keys())))
            continue
        for k in a:
            if not same_value(a[k], b[k], kind):
                diffs.append("row %d column %s: ours %s, peer %s"
                             % (i + 1, k, json.dumps(a[k])[:200],
                                json.dumps(b[k])[:200]))
        if len(diffs) > 5:
            break
    return diffs


def check_expect_csv(lh, name, expect):
    """Our CSV against an *_expect.csv shipped with the fixture (values as
    text; the expected files quote everything and leave NULL empty)."""
    code, out, err = run([lh, "parquet", "cat", os.path.join(FIXTURES, name),
                          "--format", "csv"])
    if code != 0:
        return ["cat failed: " + err.strip()]
    ours = list(csv.reader(io.StringIO(out)))[1:]
    with open(expect, newline="") as f:
        want = list(csv.reader(f))[1:]
    if ours != want:
        for i, (a, b) in enumerate(zip(ours, want)):
            if a != b:
                return ["row %d: ours %s, expected %s" % (i + 1, a[:6], b[:6])]
        return ["%d rows, expected %d" % (len(ours), len(want))]
    return []


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    lh = sys.argv[1]
    if not os.path.isdir(FIXTURES):
        print("skipped: no fixtures at %s (set LH_SHARED_DIR)" % FIXTURES)
        return 77
    if not os.path.isdir(os.path.join(PEERS, "node_modules")):
        print("skipped: test peers not installed at %s (run scripts/peers.sh)"
              % PEERS)
        return 77
    duck = os.path.join(ROOT, "tests", "peers", "duck.mjs")
    hyp = os.path.join(ROOT, "tests", "peers", "hyp.mjs")
    failures = []
    table = []
    for name in sorted(os.listdir(FIXTURES)):
        if not name.endswith(".parquet"):
            continue
        path = os.path.join(FIXTURES, name)
        code, out, err = run([lh, "parquet", "cat", path, "--format",
                              "ndjson"])
        if name in NEGATIVE:
            if code == 0:
                failures.append("%s: broken on purpose, but read" % name)
            table.append((name, "refused (negative)"))
            continue
        if code != 0:
            failures.append("%s: %s" % (name, err.strip()))
            table.append((name, "FAILED"))
            continue
        ours = rows_of(out)
        kind, why = KNOWN.get(name, (None, None))
        verdict = None
        if kind == "golden":
            with open(os.path.join(GOLDEN, name[:-len(".parquet")] +
                                   ".ndjson")) as f:
                diffs = compare(ours, rows_of(f.read()), None)
            if diffs:
                failures.append("%s vs golden:\n    %s"
                                % (name, "\n    ".join(diffs)))
            verdict = ("DIFFERS from" if diffs else "=") + " golden (%s)" % why
        for peer_name, script in (("duckdb", duck), ("hyparquet", hyp)):
            if verdict is not None:
                break
            pc, pout, perr = run(["node", script, "cat", path])
            if pc != 0:
                continue
            diffs = compare(ours, rows_of(pout), kind)
            if not diffs:
                verdict = "= " + peer_name + (" (%s)" % kind if kind else "")
                break
            if kind == "peers-wrong":
                verdict = "differs from %s as known: %s" % (peer_name, why)
                break
            failures.append("%s vs %s:\n    %s" % (name, peer_name,
                                                   "\n    ".join(diffs)))
            verdict = "DIFFERS from " + peer_name
            break
        if verdict is None:
            verdict = "no peer reads it"
        expect = path[:-len(".parquet")] + "_expect.csv"
        if os.path.exists(expect):
            diffs = check_expect_csv(lh, name, expect)
            if diffs:
                failures.append("%s vs _expect.csv: %s" % (name, diffs[0]))
                verdict += ", DIFFERS from _expect.csv"
            else:
                verdict += ", = _expect.csv"
        table.append((name, verdict))
    for name, verdict in table:
        print("%-50s %s" % (name, verdict))
    if failures:
        print("\n%d failures:" % len(failures))
        for f in failures:
            print("  " + f)
        return 1
    print("\nall %d fixtures agree" % len(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
