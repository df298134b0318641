"""Shared by the SQL tests that compare lakehouse with DuckDB (tpch.py,
differential.py): where the fixtures and peers are, running a batch of
scripts through DuckDB (tests/peers/duck.mjs sqlfile) and through
`lakehouse sql`, and comparing result rows.

Rows are NDJSON in the output rules of design/output-formats.md on both
sides (duck.mjs renders DuckDB's values by them). Two rows are equal when
they have the same number of values and each pair is equal: numbers
(integers, DECIMAL and DOUBLE alike) within a relative 1e-9 (summation
order differs between engines), everything else exactly. Column names are
not compared (DuckDB names an unaliased sum(x) "sum(x)", PostgreSQL and we
"sum").
"""
import decimal
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ${LH_SHARED_DIR:-<repo>/../shared}, or ../../shared from a worktree (as
# tests/sql/CMakeLists.txt finds the sqllogictest suites)
SHARED = os.environ.get("LH_SHARED_DIR") or next(
    (d for d in (os.path.join(ROOT, "..", "shared"),
                 os.path.join(ROOT, "..", "..", "shared"))
     if os.path.isdir(d)), os.path.join(ROOT, "..", "shared"))
PEERS = os.environ.get("LH_PEERS_DIR") or os.path.join(ROOT, ".npm-peers")
DUCK = os.path.join(ROOT, "tests", "peers", "duck.mjs")

SKIP = 77


def skip(why):
    print("skipped: " + why)
    sys.exit(SKIP)


def need_duckdb():
    if shutil.which("node") is None:
        skip("node is not installed")
    if not os.path.isdir(os.path.join(PEERS, "node_modules", "@duckdb")):
        skip("the npm peers are absent (run scripts/peers.sh)")


def run(cmd, timeout=600):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def rows_of(text):
    """NDJSON lines -> lists of values (numbers as Decimal)."""
    out = []
    for line in text.splitlines():
        if line.strip():
            obj = json.loads(line, parse_float=decimal.Decimal,
                             parse_int=decimal.Decimal)
            out.append(list(obj.values()))
    return out


def duck_batch(scripts, tmp):
    """Runs each script on one DuckDB connection. Returns, per script, its
    rows or the error message (a str)."""
    path = os.path.join(tmp, "duck_scripts.ndjson")
    with open(path, "w") as f:
        for s in scripts:
            f.write(json.dumps(s) + "\n")
    code, out, err = run(["node", DUCK, "sqlfile", path])
    if code != 0:
        raise RuntimeError("duck.mjs sqlfile failed: " + err.strip())
    results = [None] * len(scripts)
    cur = None
    for line in out.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line, parse_float=decimal.Decimal,
                         parse_int=decimal.Decimal)
        if "#" in obj and len(obj) <= 2 and (len(obj) == 1 or "error" in obj):
            i = int(obj["#"])
            if "error" in obj:
                results[i] = obj["error"]
                cur = None
            else:
                results[i] = []
                cur = i
            continue
        results[cur].append(list(obj.values()))
    return results


def init_db(lakehouse, tmp):
    """A fresh data directory for `lakehouse sql` in tmp, or a message."""
    db = os.path.join(tmp, "db")
    code, _, err = run([lakehouse, "init", db])
    return db if code == 0 else "lakehouse init failed: " + err


def parquet_views(data, tables):
    """CREATE VIEW t AS ... read_parquet('data/t.parquet') for each table."""
    return "".join(
        "CREATE VIEW %s AS SELECT * FROM read_parquet('%s/%s.parquet'); "
        % (t, data, t) for t in tables)


def ours(lakehouse, datadir, sql):
    """Rows of `lakehouse sql DATADIR -c SQL --format ndjson`, or the error
    message (a str) when it exits non-zero."""
    code, out, err = run([lakehouse, "sql", datadir, "-c", sql, "--format",
                          "ndjson"])
    if code != 0:
        return "exit %d: %s" % (code, err.strip())
    return rows_of(out)


def value_equal(a, b):
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        if a == b:
            return True
        if a.is_nan() or b.is_nan():
            return a.is_nan() and b.is_nan()
        scale = max(abs(a), abs(b))
        return abs(a - b) <= scale * decimal.Decimal("1e-9")
    return a == b


def row_equal(a, b):
    return len(a) == len(b) and all(value_equal(x, y) for x, y in zip(a, b))


def rows_key(r):
    return json.dumps([str(v) for v in r])


def compare(mine, theirs, ordered):
    """None when equal, else a short description of the first difference."""
    if isinstance(mine, str):
        return "ours failed: " + mine
    if isinstance(theirs, str):
        return "duckdb failed: " + theirs
    if len(mine) != len(theirs):
        return "%d rows, duckdb %d" % (len(mine), len(theirs))
    if not ordered:
        mine = sorted(mine, key=rows_key)
        theirs = sorted(theirs, key=rows_key)
    for i, (x, y) in enumerate(zip(mine, theirs)):
        if not row_equal(x, y):
            return "row %d: ours %s, duckdb %s" % (
                i, json.dumps([str(v) for v in x]),
                json.dumps([str(v) for v in y]))
    return None
