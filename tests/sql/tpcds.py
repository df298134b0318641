#!/usr/bin/env python3
"""TPC-DS window queries: the queries of ../shared/conformance/tpcds/queries/
that use window functions (12, 20, 36, 44, 47, 49, 51, 53, 57, 63, 67, 70,
86, 89, 98), run by `lakehouse sql` and by DuckDB 1.5 (tests/peers/duck.mjs)
over the same Parquet files and compared row for row (peer.py).

The answers in the conformance folder hold for dsdgen's data only, and
there is no dsdgen here (DuckDB's tpcds extension is not in the node
bindings): this test makes its own data instead. The schema is inferred
from the queries (every column they name, typed by TPC-DS's naming: *_sk
INTEGER, dates DATE, amounts DECIMAL(7,2), counts and calendar numbers
INTEGER, the rest VARCHAR), and DuckDB writes the tables from hashes of the
row number: keys within their dimension's rows, a real calendar in
date_dim (1998-2003, with TPC-DS's month and week sequence numbers), and
strings and numbers drawn from the literals the queries compare each
column with, so that their filters keep rows. DuckDB runs with
PostgreSQL's NULL order (NULLs last ascending, first descending).

Also checks that each query returned rows. Exit 0 when all agree, 1 with
a report otherwise, 77 (skipped) without the conformance folder or the npm
peers.

usage: tpcds.py LAKEHOUSE [SCALE]      (SCALE multiplies the row counts, 1)
"""
import os
import re
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

QUERIES = ["12", "20", "36", "44", "47", "49", "51", "53", "57", "63", "67",
           "70", "86", "89", "98"]

# table: (column prefix, rows at scale 1)
TABLES = {
    "date_dim": ("d_", 0),  # the calendar: one row a day
    "item": ("i_", 400),
    "store": ("s_", 12),
    "call_center": ("cc_", 6),
    "store_sales": ("ss_", 40000),
    "store_returns": ("sr_", 4000),
    "catalog_sales": ("cs_", 20000),
    "catalog_returns": ("cr_", 2000),
    "web_sales": ("ws_", 20000),
    "web_returns": ("wr_", 2000),
}
DIMS = ("item", "store", "call_center")
FIRST_DAY = 2450815  # d_date_sk of 1998-01-01
DAYS = 6 * 365 + 1

# what a *_sk column of a fact table refers to
REFS = [("date_sk", "date_dim"), ("item_sk", "item"), ("store_sk", "store"),
        ("call_center_sk", "call_center")]

MONEY = ("price", "amt", "amount", "profit", "cost", "paid", "tax", "charge", "credit",
         "fee", "cash", "loss")
INTS = ("quantity", "_id", "_year", "_moy", "_qoy", "_dom", "_seq",
        "_number", "_count", "_dow")


def columns(texts):
    """table -> sorted column names the queries use."""
    words = set(re.findall(r"\b[a-z]+_[a-z_0-9]+\b", "\n".join(texts).lower()))
    by = {t: set() for t in TABLES}
    prefixes = sorted(((p, t) for t, (p, _) in TABLES.items()),
                      key=lambda x: -len(x[0]))
    for w in words:
        if w in TABLES:
            continue
        for p, t in prefixes:
            if w.startswith(p):
                by[t].add(w)
                break
    for t, (p, _) in TABLES.items():
        if t == "date_dim":
            by[t] |= {"d_date_sk", "d_date", "d_year", "d_moy", "d_qoy",
                      "d_dom", "d_month_seq", "d_week_seq"}
        elif t in DIMS:
            by[t].add(cols_key(t))
    return {t: sorted(c) for t, c in by.items()}


def col_type(c):
    if c.endswith("_sk"):
        return "INTEGER"
    if c.endswith("_date") or c == "d_date":
        return "DATE"
    if any(m in c for m in MONEY):
        return "DECIMAL(7,2)"
    if any(c.endswith(m) or m in c for m in INTS) and not c.endswith("_id") \
            or c in ("i_manufact_id", "i_brand_id", "i_class_id",
                     "i_category_id", "i_manager_id", "s_company_id",
                     "s_market_id"):
        return "INTEGER"
    return "VARCHAR"


def literals(texts):
    """column -> the string and integer literals the queries compare it
    with (=, <>, IN (...), LIKE)."""
    out = {}
    text = "\n".join(texts)
    for m in re.finditer(r"\b([a-z]+_[a-z_0-9]+)\s*(?:=|<>|!=|\blike\b)\s*"
                         r"('(?:[^']*)'|\d+)", text, re.I):
        out.setdefault(m.group(1).lower(), set()).add(m.group(2))
    for m in re.finditer(r"\b([a-z]+_[a-z_0-9]+)\s+(?:not\s+)?in\s*\(([^()]*)\)",
                         text, re.I):
        for v in re.findall(r"'[^']*'|\b\d+\b", m.group(2)):
            out.setdefault(m.group(1).lower(), set()).add(v)
    return out


def gen_sql(cols, lits, scale, data):
    """DuckDB statements writing every table as Parquet."""
    stmts = []
    for t, (p, rows) in TABLES.items():
        exprs = []
        if t == "date_dim":
            n = DAYS
        else:
            n = max(1, int(rows * scale))
        for k, c in enumerate(cols[t]):
            ty = col_type(c)
            h = "hash(i, %d)" % (k + 1)
            own = t in DIMS and c == cols_key(t)
            if t == "date_dim":
                e = date_col(c, ty, h)
            elif own:
                e = "i + 1"
            elif ty == "INTEGER" and c.endswith("_sk"):
                ref = next((d for s, d in REFS if c.endswith(s)), None)
                if ref == "date_dim":
                    e = "%d + (%s %% %d)::INTEGER" % (FIRST_DAY, h, DAYS)
                elif ref:
                    e = "1 + (%s %% %d)::INTEGER" % (h, dim_rows(ref, scale))
                else:
                    e = "1 + (%s %% 50)::INTEGER" % h
                e = "CASE WHEN %s %% 50 = 0 THEN NULL ELSE %s END" % (
                    "hash(i, %d)" % (k + 101), e)
            elif ty == "DATE":
                e = "DATE '1998-01-01' + (%s %% %d)::INTEGER" % (h, DAYS)
            elif ty == "DECIMAL(7,2)":
                e = "((%s %% 3000000)::INTEGER / 100.0)::DECIMAL(7,2)" % h
            elif ty == "INTEGER":
                vals = sorted(int(v) for v in lits.get(c, ())
                              if not v.startswith("'"))
                if vals:
                    e = "[%s][1 + (%s %% %d)::INTEGER]" % (
                        ", ".join(str(v) for v in vals + [vals[-1] + 1]), h,
                        len(vals) + 1)
                else:
                    e = "1 + (%s %% 100)::INTEGER" % h
            else:
                vals = sorted(v for v in lits.get(c, ()) if v.startswith("'"))
                vals = [v for v in vals if "%" not in v]
                vals += ["'%s-%d'" % (c, j) for j in range(3)]
                e = "[%s][1 + (%s %% %d)::INTEGER]" % (", ".join(vals), h,
                                                      len(vals))
            if t != "date_dim" and not own and not c.endswith("_sk"):
                e = "CASE WHEN hash(i, %d) %% 40 = 0 THEN NULL ELSE %s END" % (
                    k + 201, e)
            exprs.append("(%s)::%s AS %s" % (e, ty, c))
        stmts.append("COPY (SELECT %s FROM range(%d) r(i)) TO '%s/%s.parquet' "
                     "(FORMAT parquet)" % (", ".join(exprs), n, data, t))
    return stmts


def cols_key(t):
    return "cc_call_center_sk" if t == "call_center" else \
        TABLES[t][0] + t.split("_")[0] + "_sk"


def dim_rows(t, scale):
    return DAYS if t == "date_dim" else max(1, int(TABLES[t][1] * scale))


def date_col(c, ty, h):
    d = "(DATE '1998-01-01' + i::INTEGER)"
    return {
        "d_date_sk": "%d + i" % FIRST_DAY,
        "d_date": d,
        "d_year": "year(%s)" % d,
        "d_moy": "month(%s)" % d,
        "d_qoy": "quarter(%s)" % d,
        "d_dom": "day(%s)" % d,
        # TPC-DS: month 1200 is January 2000, week 1 starts 1900-01-01
        "d_month_seq": "(year(%s) - 1900) * 12 + month(%s) - 1" % (d, d),
        "d_week_seq": "(%d + i) // 7 - 345450" % (FIRST_DAY - 2415021),
    }.get(c, "NULL" if ty != "VARCHAR" else "'x'")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    lakehouse = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) == 3 else 1.0
    qdir = os.path.join(peer.SHARED, "conformance", "tpcds", "queries")
    if not os.path.isdir(qdir):
        peer.skip("%s is absent" % qdir)
    peer.need_duckdb()
    texts = [open(os.path.join(qdir, q + ".sql")).read() for q in QUERIES]
    cols = columns(texts)
    lits = literals(texts)
    failures = []
    with tempfile.TemporaryDirectory(prefix="lh_tpcds_") as tmp:
        keep = os.environ.get("LH_TPCDS_KEEP")  # a directory to keep it in
        if keep:
            tmp = keep
        data = os.path.join(tmp, "data")
        os.makedirs(data, exist_ok=True)
        made = peer.duck_batch([";\n".join(gen_sql(cols, lits, scale, data))
                                + "; SELECT 1"], tmp)[0]
        if isinstance(made, str):
            print("DuckDB could not write the tables: " + made)
            return 1
        db = peer.init_db(lakehouse, tmp)
        if db.startswith("lakehouse init failed"):
            print(db)
            return 1
        views = peer.parquet_views(data, TABLES)
        duck_setup = views + "SET default_null_order = " \
                             "'nulls_last_on_asc_first_on_desc'; "
        theirs = peer.duck_batch([duck_setup] + [t.strip().rstrip(";")
                                                 for t in texts], tmp)[1:]
        for q, text, t in zip(QUERIES, texts, theirs):
            mine = peer.ours(lakehouse, db, views + text.strip().rstrip(";"))
            d = peer.compare(mine, t, True)
            if d is None and not isinstance(mine, str) and len(mine) == 0:
                d = "no rows on either side (the data misses the filters)"
            print("q%s: %s" % (q, "agrees (%d rows)" % len(mine)
                                if d is None else d))
            if d is not None:
                failures.append(q)
    print("tpcds windows: %d of %d queries agree with DuckDB"
          % (len(QUERIES) - len(failures), len(QUERIES)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
