#!/usr/bin/env python3
"""The Iceberg commands against an independent reader. `lakehouse iceberg
scan` and `inspect` on fixtures/iceberg/tables/lineitem_iceberg (written by
Spark), exactly as the CLI contract spells them, compared with DuckDB 1.5
(tests/peers/duck.mjs) reading the same data files: the rows of each
snapshot, row counts, TPC-H Q6 (summed here from our rows, and by DuckDB's
SQL), a --where filter; the inspect views; exit 2 with the reason on tables
we refuse.

Exit 0 when all agree, 1 with a report otherwise, 77 (skipped) when the
fixtures or the peers are absent.

usage: conformance.py LAKEHOUSE_BINARY
"""
import decimal
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("LH_SHARED_DIR") or os.path.join(ROOT, "..", "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "iceberg")
TABLE = os.path.join(FIXTURES, "tables", "lineitem_iceberg")
PEERS = os.environ.get("LH_PEERS_DIR") or os.path.join(ROOT, ".npm-peers")
DUCK = os.path.join(ROOT, "tests", "peers", "duck.mjs")

FIRST = "7817332053627255703"
CURRENT = "2354745328521181395"
FILES = {
    FIRST: "00000-1-66fee7c2-c97c-4af9-963d-930afd99ace4-00001.parquet",
    CURRENT: "00000-5-dad9988f-2a3b-464c-adb6-6034de93da19-00001.parquet",
}
Q6_WHERE = ("l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE "
            "'1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND "
            "l_quantity < 24")
EXPECT = {FIRST: (60175, "1193053.2253"), CURRENT: (51793, "1077536.9101")}

failures = []


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def ndjson(text):
    return [json.loads(line, parse_float=decimal.Decimal)
            for line in text.splitlines() if line.strip()]


def duck(sql):
    code, out, err = run(["node", DUCK, "sql", sql])
    if code != 0:
        failures.append("duckdb: %s: %s" % (sql, err.strip()))
        return []
    return ndjson(out)


def q6(rows):
    total = decimal.Decimal(0)
    for r in rows:
        d = r["l_shipdate"]
        if ("1994-01-01" <= d < "1995-01-01" and
                decimal.Decimal("0.05") <= r["l_discount"] <= decimal.Decimal("0.07")
                and r["l_quantity"] < 24):
            total += r["l_extendedprice"] * r["l_discount"]
    return total


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    lh = sys.argv[1]
    if not os.path.isdir(TABLE):
        print("skipped: no fixtures at %s (set LH_SHARED_DIR)" % TABLE)
        return 77
    if not os.path.isdir(os.path.join(PEERS, "node_modules")) or \
            shutil.which("node") is None:
        print("skipped: test peers not installed at %s (run scripts/peers.sh)"
              % PEERS)
        return 77

    for snap, (count, revenue) in EXPECT.items():
        args = [lh, "iceberg", "scan", TABLE, "--format", "ndjson"]
        if snap == FIRST:
            args += ["--snapshot", snap]
        code, out, err = run(args)
        if not check(code == 0, "scan %s: exit %d: %s" % (snap, code, err)):
            continue
        ours = ndjson(out)
        check(len(ours) == count, "snapshot %s: %d rows, want %d"
              % (snap, len(ours), count))
        got = q6(ours)
        check(str(got) == revenue, "snapshot %s: Q6 from our rows %s, want %s"
              % (snap, got, revenue))
        data = os.path.join(TABLE, "data", FILES[snap])
        theirs = duck("SELECT * FROM read_parquet('%s')" % data)
        check(ours == theirs, "snapshot %s: our rows differ from DuckDB's "
              "(%d vs %d rows)" % (snap, len(ours), len(theirs)))
        agg = duck("SELECT count(*) AS n, sum(l_extendedprice * l_discount) "
                   "AS revenue FROM read_parquet('%s') WHERE %s"
                   % (data, Q6_WHERE))
        allrows = duck("SELECT count(*) AS n FROM read_parquet('%s')" % data)
        if agg and allrows:
            check(allrows[0]["n"] == count, "DuckDB counts %s rows in %s"
                  % (allrows[0]["n"], FILES[snap]))
            check(str(agg[0]["revenue"]) == revenue,
                  "DuckDB's Q6 %s, want %s" % (agg[0]["revenue"], revenue))

    # --where, --columns, --as-of and the table format.
    code, out, err = run([lh, "iceberg", "scan", TABLE, "--columns",
                          "l_orderkey,l_shipdate", "--where",
                          "l_shipdate < '1993-01-01'", "--format", "ndjson"])
    want = duck("SELECT l_orderkey, l_shipdate FROM read_parquet('%s') WHERE "
                "l_shipdate < DATE '1993-01-01'"
                % os.path.join(TABLE, "data", FILES[CURRENT]))
    check(code == 0 and ndjson(out) == want,
          "--where on a date: %d rows, DuckDB %d (%s)"
          % (len(ndjson(out)), len(want), err.strip()))
    code, out, err = run([lh, "iceberg", "scan", TABLE, "--columns",
                          "l_orderkey", "--where", "l_extendedprice >= 100000",
                          "--format", "csv"])
    want = duck("SELECT count(*) AS n FROM read_parquet('%s') WHERE "
                "l_extendedprice >= 100000"
                % os.path.join(TABLE, "data", FILES[CURRENT]))
    lines = out.splitlines()
    check(code == 0 and lines[0] == "l_orderkey" and want and
          len(lines) - 1 == want[0]["n"],
          "--where on a decimal: %d rows, DuckDB %s" % (len(lines) - 1, want))
    code, out, err = run([lh, "iceberg", "scan", TABLE, "--where",
                          "l_returnflag = 'R'", "--columns", "l_returnflag",
                          "--format", "ndjson"])
    rows = ndjson(out)
    check(code == 0 and rows and all(r["l_returnflag"] == "R" for r in rows),
          "--where on a string: %s" % err.strip())
    for ts, count in (("2025-05-02T13:00:00Z", 51793),
                      ("2025-05-02T12:21:19.500Z", 60175),
                      ("1746188479060", 60175)):
        code, out, err = run([lh, "iceberg", "scan", TABLE, "--as-of", ts,
                              "--columns", "l_orderkey", "--format", "csv"])
        check(code == 0 and len(out.splitlines()) - 1 == count,
              "--as-of %s: %d rows, want %d (%s)"
              % (ts, len(out.splitlines()) - 1, count, err.strip()))
    code, out, err = run([lh, "iceberg", "scan", TABLE, "--columns",
                          "l_orderkey,l_comment", "--format", "table",
                          "--limit", "3"])
    check(code == 0 and out.rstrip().endswith("(3 rows)"),
          "--format table --limit 3: %r" % out[-80:])

    # inspect, each view, as JSON.
    code, out, err = run([lh, "iceberg", "inspect", TABLE, "--snapshots",
                          "--format", "json"])
    snaps = json.loads(out) if code == 0 else []
    check([str(s["snapshot_id"]) for s in snaps] == [FIRST, CURRENT] and
          snaps[1]["operation"] == "overwrite" and
          str(snaps[1]["parent_id"]) == FIRST,
          "inspect --snapshots: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", TABLE, "--files",
                          "--format", "json"])
    files = json.loads(out) if code == 0 else []
    check(len(files) == 1 and files[0]["record_count"] == 51793 and
          files[0]["file_path"].endswith(FILES[CURRENT]),
          "inspect --files: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", TABLE, "--manifests",
                          "--format", "json"])
    mans = json.loads(out) if code == 0 else []
    check(len(mans) == 2 and sorted(m["added_rows"] for m in mans) ==
          [0, 51793], "inspect --manifests: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", TABLE, "--history",
                          "--format", "json"])
    hist = json.loads(out) if code == 0 else []
    check(len(hist) == 2 and all(h["is_current_ancestor"] for h in hist),
          "inspect --history: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", TABLE, "--partitions",
                          "--format", "json"])
    parts = json.loads(out) if code == 0 else []
    check(len(parts) == 1 and parts[0]["record_count"] == 51793,
          "inspect --partitions: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", os.path.join(
        TABLE, "metadata", "v1.metadata.json"), "--format", "json"])
    summary = json.loads(out) if code == 0 else {}
    check(str(summary.get("current_snapshot_id")) == FIRST and
          summary.get("format_version") == 2,
          "inspect summary: %s %s" % (out[:300], err))
    code, out, err = run([lh, "iceberg", "inspect", TABLE])
    check(code == 0 and "lineitem_iceberg" in out, "inspect table: " + err)

    # Tables we refuse: exit 2, the reason on stderr.
    tmp = tempfile.mkdtemp()
    try:
        for name, reason in (
                ("TableMetadataUnsupportedVersion.json",
                 "unsupported: table format-version 42"),
                ("TableMetadataV2MissingSchemas.json", "missing \"schemas\"")):
            dst = os.path.join(tmp, name.replace(".json", ".metadata.json"))
            shutil.copy(os.path.join(FIXTURES, "metadata", "java", name), dst)
            code, out, err = run([lh, "iceberg", "scan", dst])
            check(code == 2 and reason in err,
                  "%s: exit %d, %s" % (name, code, err.strip()))
        code, out, err = run([lh, "iceberg", "scan", tmp + "/nothing"])
        check(code == 1 and "no Iceberg table" in err,
              "a missing table: exit %d, %s" % (code, err.strip()))
        code, out, err = run([lh, "iceberg", "scan", TABLE, "--where",
                              "l_nope = 1"])
        check(code == 2 and "no column" in err, "bad --where: " + err)
    finally:
        shutil.rmtree(tmp)

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("iceberg conformance: lineitem_iceberg at 2 snapshots, Q6, --where, "
          "inspect views and refusals agree with DuckDB and the expected "
          "values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
