#!/usr/bin/env python3
"""TPC-H: the 22 queries of ../shared/conformance/tpch/queries/ on a data
set of the TPC-H schema made by our own generator (tpch_gen), run by
`lakehouse sql` and by DuckDB 1.5 (tests/peers/duck.mjs) over the same
Parquet files, and compared row for row in order (every query has an ORDER
BY), numbers within a relative 1e-9 (peer.py). Each table is a view over
read_parquet('DIR/<table>.parquet') on both sides.

Also checks that each query returned rows, except where the generated data
may legitimately give none (q18 needs an order of more than 300 units).

Exit 0 when all 22 agree, 1 with a report otherwise, 77 (skipped) when the
conformance folder or the npm peers are absent.

usage: tpch.py LAKEHOUSE TPCH_GEN [SF]      (SF default 0.01)
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp",
          "orders", "lineitem"]
MAY_BE_EMPTY = {"q18"}


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    lakehouse, gen = sys.argv[1], sys.argv[2]
    sf = sys.argv[3] if len(sys.argv) == 4 else "0.01"
    qdir = os.path.join(peer.SHARED, "conformance", "tpch", "queries")
    if not os.path.isdir(qdir):
        peer.skip("%s is absent" % qdir)
    peer.need_duckdb()
    names = sorted(f[:-4] for f in os.listdir(qdir) if f.endswith(".sql"))
    if len(names) != 22:
        print("expected 22 queries in %s, found %d" % (qdir, len(names)))
        return 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="lh_tpch_") as tmp:
        data = os.path.join(tmp, "data")
        code, _, err = peer.run([gen, data, sf])
        if code != 0:
            print("tpch_gen failed: " + err)
            return 1
        db = os.path.join(tmp, "db")
        code, _, err = peer.run([lakehouse, "init", db])
        if code != 0:
            print("lakehouse init failed: " + err)
            return 1
        views = "".join(
            "CREATE VIEW %s AS SELECT * FROM read_parquet('%s/%s.parquet'); "
            % (t, data, t) for t in TABLES)
        queries = []
        for n in names:
            with open(os.path.join(qdir, n + ".sql")) as f:
                queries.append(f.read())
        theirs = peer.duck_batch([views] + queries, tmp)[1:]
        for n, q, t in zip(names, queries, theirs):
            mine = peer.ours(lakehouse, db, views + q)
            diff = peer.compare(mine, t, ordered=True)
            if diff is None and not mine and n not in MAY_BE_EMPTY:
                diff = "no rows on either side (the generator should give some)"
            status = "ok" if diff is None else "DIFFERENT: " + diff
            nrows = len(mine) if isinstance(mine, list) else "-"
            print("%s  %4s rows  %s" % (n, nrows, status))
            if diff is not None:
                failures.append(n)
    print("TPC-H sf %s: %d of 22 agree with DuckDB%s" % (
        sf, 22 - len(failures),
        "" if not failures else " (different: %s)" % ", ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
