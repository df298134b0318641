#!/usr/bin/env python3
"""Differential test: random queries over generated tables, run by
`lakehouse sql` and by DuckDB 1.5 (tests/peers/duck.mjs) on the same
Parquet files, compared row for row (peer.py: numbers within a relative
1e-9, rows in order when the query orders them completely, as multisets
otherwise).

The generator only makes constructs where PostgreSQL's semantics (ours) and
DuckDB's agree, or writes them so that they do: integer division is `/`
for us and `//` for DuckDB; every ORDER BY key says NULLS FIRST or LAST
(the engines' defaults differ); divisors are non-zero constants; string
comparisons are on ASCII data (same collation). Covered: projections with
arithmetic, CASE, COALESCE, NULLIF, string functions, casts; WHERE with
AND/OR/NOT, comparisons, BETWEEN, IN lists, LIKE, IS [NOT] NULL; inner,
left and cross joins; GROUP BY with count, count(DISTINCT), sum, min, max,
avg and HAVING; uncorrelated IN, correlated EXISTS / NOT EXISTS and scalar
aggregate subqueries; UNION [ALL], INTERSECT, EXCEPT; DISTINCT; ORDER BY
with LIMIT / OFFSET; window functions (ranking, ntile, lag / lead, the
value functions and aggregates) with PARTITION BY, ORDER BY and ROWS /
RANGE frames (offsets, intervals, EXCLUDE), and QUALIFY.

A query both engines reject is not counted; one rejected by only one side
is a difference. Exit 0 when every query agrees, 1 with the differing
queries (and a seed to rerun them) otherwise, 77 (skipped) without the npm
peers.

usage: differential.py LAKEHOUSE [QUERIES [SEED]]    (default 400, 1)
"""
import os
import random
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

WORDS = ["apple", "Banana", "cherry", "date", "elder", "fig", "grape", "kiwi",
         "lemon", "mango", "", "a b", "Zed", "x%y", "under_score"]


def gen_data(rng):
    """(name, columns, rows) of the tables; values as SQL literals."""
    t1, t2 = [], []
    for i in range(300):
        def maybe(v, p=0.1):
            return "NULL" if rng.random() < p else v
        t1.append([
            str(i),                                          # id
            maybe(str(rng.randint(-20, 20))),                # a INTEGER
            maybe(str(rng.randint(-10**6, 10**6))),          # b BIGINT
            maybe(str(rng.randint(-400, 400) / 4)),          # c DOUBLE
            maybe("'%s'" % rng.choice(WORDS).replace("'", "''")),  # s
            maybe("%d.%02d" % (rng.randint(-999, 999), rng.randint(0, 99))),  # e
            maybe("DATE '2024-%02d-%02d'" % (rng.randint(1, 12),
                                           rng.randint(1, 28))),  # d
            maybe(rng.choice(["true", "false"])),            # g BOOLEAN
        ])
    for i in range(60):
        t2.append([
            str(rng.randint(-20, 20)),                       # k INTEGER
            "NULL" if rng.random() < 0.1 else str(rng.randint(0, 100)),  # x
            "'%s'" % rng.choice(WORDS),                      # w
        ])
    return [
        ("t1", [("id", "INTEGER"), ("a", "INTEGER"), ("b", "BIGINT"),
                ("c", "DOUBLE"), ("s", "VARCHAR"), ("e", "DECIMAL(10,2)"),
                ("d", "DATE"), ("g", "BOOLEAN")], t1),
        ("t2", [("k", "INTEGER"), ("x", "INTEGER"), ("w", "VARCHAR")], t2),
    ]


class Gen:
    """Random queries; each expression is a pair (ours, duckdb) of texts
    and a type: int, num (DECIMAL), dbl, str, date, bool."""

    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return self.r.choice(xs)

    def col(self, cols, typ):
        c = [n for n, t in cols if t == typ]
        return (c and self.pick(c)) or None

    def int_expr(self, cols, depth):
        r = self.r.random()
        c = self.col(cols, "int")
        if depth <= 0 or r < 0.35:
            if c and r < 0.8 * 0.35:
                return (c, c)
            v = str(self.r.randint(-5, 9))
            return (v, v)
        a = self.int_expr(cols, depth - 1)
        b = self.int_expr(cols, depth - 1)
        op = self.pick(["+", "-", "*", "/", "%", "abs", "case", "coalesce",
                        "nullif"])
        if op in "+-*":
            return ("(%s %s %s)" % (a[0], op, b[0]),
                    "(%s %s %s)" % (a[1], op, b[1]))
        if op in ("/", "%"):
            k = str(self.pick([2, 3, 7, -4]))
            return ("(%s %s %s)" % (a[0], op, k),
                    "(%s %s %s)" % (a[1], "//" if op == "/" else op, k))
        if op == "abs":
            return ("abs(%s)" % a[0], "abs(%s)" % a[1])
        if op == "case":
            p = self.bool_expr(cols, depth - 1)
            return ("CASE WHEN %s THEN %s ELSE %s END" % (p[0], a[0], b[0]),
                    "CASE WHEN %s THEN %s ELSE %s END" % (p[1], a[1], b[1]))
        if op == "coalesce":
            return ("coalesce(%s, %s)" % (a[0], b[0]),
                    "coalesce(%s, %s)" % (a[1], b[1]))
        return ("nullif(%s, %s)" % (a[0], b[0]),
                "nullif(%s, %s)" % (a[1], b[1]))

    def str_expr(self, cols, depth):
        c = self.col(cols, "str")
        r = self.r.random()
        if depth <= 0 or r < 0.4 or not c:
            if c and r < 0.3:
                return (c, c)
            w = "'%s'" % self.pick(WORDS)
            return (w, w)
        a = self.str_expr(cols, depth - 1)
        op = self.pick(["lower", "upper", "concat", "substr", "coalesce",
                        "replace", "trim"])
        if op in ("lower", "upper"):
            return ("%s(%s)" % (op, a[0]), "%s(%s)" % (op, a[1]))
        if op == "concat":
            b = self.str_expr(cols, depth - 1)
            return ("(%s || %s)" % (a[0], b[0]), "(%s || %s)" % (a[1], b[1]))
        if op == "substr":
            i, n = self.r.randint(1, 3), self.r.randint(0, 4)
            return ("substr(%s, %d, %d)" % (a[0], i, n),
                    "substr(%s, %d, %d)" % (a[1], i, n))
        if op == "coalesce":
            b = self.str_expr(cols, depth - 1)
            return ("coalesce(%s, %s)" % (a[0], b[0]),
                    "coalesce(%s, %s)" % (a[1], b[1]))
        if op == "replace":
            return ("replace(%s, 'a', 'A')" % a[0], "replace(%s, 'a', 'A')" % a[1])
        return ("trim(%s)" % a[0], "trim(%s)" % a[1])

    def num_expr(self, cols, depth):
        c = self.col(cols, "num")
        r = self.r.random()
        if depth <= 0 or r < 0.5 or not c:
            if c and r < 0.4:
                return (c, c)
            v = "%d.%d" % (self.r.randint(-9, 9), self.r.randint(0, 9))
            return (v, v)
        a = self.num_expr(cols, depth - 1)
        b = self.num_expr(cols, depth - 1)
        op = self.pick(["+", "-", "*"])
        return ("(%s %s %s)" % (a[0], op, b[0]), "(%s %s %s)" % (a[1], op, b[1]))

    def cmp(self, a, b):
        op = self.pick(["=", "<>", "<", "<=", ">", ">="])
        return ("%s %s %s" % (a[0], op, b[0]), "%s %s %s" % (a[1], op, b[1]))

    def bool_expr(self, cols, depth):
        r = self.r.random()
        if depth <= 0 or r < 0.5:
            kind = self.pick(["icmp", "icmp", "scmp", "ncmp", "between", "in",
                              "like", "null", "bool", "dcmp"])
            if kind == "icmp":
                return self.cmp(self.int_expr(cols, 1), self.int_expr(cols, 1))
            if kind == "scmp":
                return self.cmp(self.str_expr(cols, 1), self.str_expr(cols, 0))
            if kind == "ncmp":
                return self.cmp(self.num_expr(cols, 1), self.num_expr(cols, 0))
            if kind == "dcmp" and self.col(cols, "date"):
                d = self.col(cols, "date")
                lit = "DATE '2024-%02d-15'" % self.r.randint(1, 12)
                return self.cmp((d, d), (lit, lit))
            if kind == "between":
                a = self.int_expr(cols, 1)
                lo = self.r.randint(-10, 5)
                hi = lo + self.r.randint(0, 10)
                neg = self.pick(["", "NOT "])
                return ("%s %sBETWEEN %d AND %d" % (a[0], neg, lo, hi),
                        "%s %sBETWEEN %d AND %d" % (a[1], neg, lo, hi))
            if kind == "in":
                a = self.int_expr(cols, 1)
                vals = ", ".join(str(self.r.randint(-6, 6))
                                 for _ in range(self.r.randint(1, 4)))
                if self.r.random() < 0.2:
                    vals += ", NULL"
                neg = self.pick(["", "NOT "])
                return ("%s %sIN (%s)" % (a[0], neg, vals),
                        "%s %sIN (%s)" % (a[1], neg, vals))
            if kind == "like":
                a = self.str_expr(cols, 1)
                p = self.pick(["'%a%'", "'_a%'", "'%e'", "'B%'", "'%'"])
                op = self.pick(["LIKE", "NOT LIKE", "ILIKE"])
                return ("%s %s %s" % (a[0], op, p), "%s %s %s" % (a[1], op, p))
            if kind == "null":
                c = self.pick([n for n, _ in cols])
                neg = self.pick(["", "NOT "])
                return ("%s IS %sNULL" % (c, neg), "%s IS %sNULL" % (c, neg))
            c = self.col(cols, "bool")
            if c:
                return (c, c)
            return self.cmp(self.int_expr(cols, 0), self.int_expr(cols, 0))
        a = self.bool_expr(cols, depth - 1)
        op = self.pick(["AND", "OR", "NOT"])
        if op == "NOT":
            return ("NOT (%s)" % a[0], "NOT (%s)" % a[1])
        b = self.bool_expr(cols, depth - 1)
        return ("(%s %s %s)" % (a[0], op, b[0]), "(%s %s %s)" % (a[1], op, b[1]))

    def scalar(self, cols, depth):
        t = self.pick(["int", "int", "str", "num", "bool"])
        if t == "int":
            return self.int_expr(cols, depth), "int"
        if t == "str":
            return self.str_expr(cols, depth), "str"
        if t == "num":
            return self.num_expr(cols, depth), "num"
        return self.bool_expr(cols, depth), "bool"

    def query(self):
        """(ours, duckdb, ordered)"""
        r = self.r
        t1 = [("t1.id", "int"), ("t1.a", "int"), ("t1.b", "int"),
              ("t1.s", "str"), ("t1.e", "num"), ("t1.d", "date"),
              ("t1.g", "bool")]
        t2 = [("t2.k", "int"), ("t2.x", "int"), ("t2.w", "str")]
        frm = "t1"
        cols = list(t1)
        j = r.random()
        if j < 0.2:
            frm = "t1 JOIN t2 ON t1.a = t2.k"
            cols += t2
        elif j < 0.3:
            frm = "t1 LEFT JOIN t2 ON t1.a = t2.k AND t2.x > %d" % r.randint(0, 80)
            cols += t2
        elif j < 0.35:
            frm = "t1 CROSS JOIN (SELECT * FROM t2 WHERE x < 10) t2"
            cols += t2
        where = None
        if r.random() < 0.8:
            where = self.bool_expr(cols, 2)
            s = r.random()
            if s < 0.1:
                sub = self.bool_expr([("t2.k", "int"), ("t2.x", "int"),
                                      ("t2.w", "str")], 1)
                neg = self.pick(["", "NOT "])
                where = ("(%s AND t1.a %sIN (SELECT k FROM t2 WHERE %s))"
                         % (where[0], neg, sub[0]),
                         "(%s AND t1.a %sIN (SELECT k FROM t2 WHERE %s))"
                         % (where[1], neg, sub[1]))
            elif s < 0.2:
                neg = self.pick(["", "NOT "])
                lim = r.randint(0, 100)
                q = ("%sEXISTS (SELECT 1 FROM t2 u WHERE u.k = t1.a AND u.x > %d)"
                     % (neg, lim))
                where = ("(%s AND %s)" % (where[0], q),
                         "(%s AND %s)" % (where[1], q))
            elif s < 0.3:
                q = ("t1.b > (SELECT 1000 * max(u.x) FROM t2 u WHERE u.k = t1.a)")
                where = ("(%s OR %s)" % (where[0], q), "(%s OR %s)" % (where[1], q))
        grouped = r.random() < 0.35
        sel, sel_d = [], []
        if grouped:
            nkeys = r.randint(1, 2)
            keys = []
            for _ in range(nkeys):
                c = self.pick([n for n, t in cols if t in ("int", "str", "date", "bool")])
                if c not in [k for k in keys]:
                    keys.append(c)
            for k in keys:
                sel.append(k)
                sel_d.append(k)
            for _ in range(r.randint(1, 3)):
                f = self.pick(["count(*)", "count(%s)", "count(DISTINCT %s)",
                               "sum(%s)", "min(%s)", "max(%s)", "avg(%s)",
                               "sum(%n)", "min(%s_)", "max(%n)"])
                ie = self.int_expr(cols, 1)
                if "%n" in f:
                    ne = self.num_expr(cols, 1)
                    sel.append(f.replace("%n", ne[0]))
                    sel_d.append(f.replace("%n", ne[1]))
                elif "%s_" in f:
                    se = self.str_expr(cols, 1)
                    sel.append(f.replace("%s_", se[0]))
                    sel_d.append(f.replace("%s_", se[1]))
                else:
                    sel.append(f.replace("%s", ie[0]))
                    sel_d.append(f.replace("%s", ie[1]))
            group = " GROUP BY " + ", ".join(keys)
            having = ""
            if r.random() < 0.3:
                having = " HAVING count(*) > %d" % r.randint(0, 3)
            body_o = "SELECT %s FROM %s%s%s%s" % (
                ", ".join("%s AS c%d" % (e, i) for i, e in enumerate(sel)), frm,
                " WHERE " + where[0] if where else "", group, having)
            body_d = "SELECT %s FROM %s%s%s%s" % (
                ", ".join("%s AS c%d" % (e, i) for i, e in enumerate(sel_d)), frm,
                " WHERE " + where[1] if where else "", group, having)
        else:
            n = r.randint(1, 4)
            for _ in range(n):
                e, _t = self.scalar(cols, 2)
                sel.append(e[0])
                sel_d.append(e[1])
            distinct = "DISTINCT " if r.random() < 0.15 else ""
            body_o = "SELECT %s%s FROM %s%s" % (
                distinct, ", ".join("%s AS c%d" % (e, i) for i, e in enumerate(sel)),
                frm, " WHERE " + where[0] if where else "")
            body_d = "SELECT %s%s FROM %s%s" % (
                distinct, ", ".join("%s AS c%d" % (e, i) for i, e in enumerate(sel_d)),
                frm, " WHERE " + where[1] if where else "")
            if r.random() < 0.12 and not distinct:
                op = self.pick(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"])
                # the same shape again over another filter
                w2 = self.bool_expr(cols, 1)
                body_o = "%s %s SELECT %s FROM %s WHERE %s" % (
                    body_o, op, ", ".join(sel), frm, w2[0])
                body_d = "%s %s SELECT %s FROM %s WHERE %s" % (
                    body_d, op, ", ".join(sel_d), frm, w2[1])
                body_o = "SELECT * FROM (%s) q" % body_o
                body_d = "SELECT * FROM (%s) q" % body_d
        ordered = False
        if r.random() < 0.4:
            keys = ", ".join("c%d %s NULLS %s" % (
                i, self.pick(["ASC", "DESC"]), self.pick(["FIRST", "LAST"]))
                for i in range(len(sel)))
            tail = " ORDER BY " + keys
            if r.random() < 0.5:
                tail += " LIMIT %d" % r.randint(0, 20)
                if r.random() < 0.3:
                    tail += " OFFSET %d" % r.randint(0, 5)
            if "q" not in body_o[-2:] and body_o.startswith("SELECT * FROM ("):
                pass
            body_o += tail
            body_d += tail
            ordered = True
        return body_o, body_d, ordered

    # ---- windows: every ORDER BY of a window names its NULLS order, and
    # the functions that depend on the order of peers (row_number, lag,
    # lead, the value functions, ROWS and GROUPS-free frames) get t1.id as
    # the last key, so that both engines see one order

    def frame(self, unit):
        r = self.r
        k = lambda: self.pick([0, 1, 2, 3, 5, 40, 100])  # noqa: E731
        kinds = ["UNBOUNDED PRECEDING", "P", "CURRENT ROW", "F",
                 "UNBOUNDED FOLLOWING"]
        i = r.randint(0, 3)
        j = r.randint(max(i, 1), 4)
        if i == 2 and j == 1:
            j = 2

        def bound(x):
            if x == "P":
                return "%s PRECEDING" % (self.range_off() if unit == "RANGE"
                                         else k())
            if x == "F":
                return "%s FOLLOWING" % (self.range_off() if unit == "RANGE"
                                         else k())
            return x
        f = " %s BETWEEN %s AND %s" % (unit, bound(kinds[i]), bound(kinds[j]))
        if r.random() < 0.2:
            f += " EXCLUDE " + self.pick(["CURRENT ROW", "GROUP", "TIES",
                                          "NO OTHERS"])
        return f

    def range_off(self):
        return self.off_text

    def window_query(self):
        """(ours, duckdb, ordered): one to three window calls over t1."""
        r = self.r
        part = self.pick(["", "", "t1.g", "t1.s", "(t1.a % 3)", "t1.d"])
        calls_o, calls_d = [], []
        for _ in range(r.randint(1, 3)):
            key, typ = self.pick([("t1.a", "int"), ("t1.b", "int"),
                                  ("t1.c", "dbl"), ("t1.d", "date"),
                                  ("t1.e", "num"), ("t1.s", "str")])
            nulls = " NULLS %s" % self.pick(["FIRST", "LAST"])
            dirn = self.pick(["ASC", "DESC"])
            fn = self.pick(["row_number()", "rank()", "dense_rank()",
                            "percent_rank()", "cume_dist()", "ntile(%d)",
                            "lag(%a)", "lag(%a, 2)", "lead(%a, 1, -1)",
                            "first_value(%a)", "last_value(%a)",
                            "nth_value(%a, 2)", "sum(%a)", "count(%a)",
                            "count(*)", "min(%a)", "max(%a)", "avg(%a)",
                            "sum(%a)", "max(%s)"])
            fn = fn.replace("%d", str(r.randint(1, 7)))
            arg = self.pick(["t1.a", "t1.b", "t1.id", "t1.e"])
            if "lead" in fn or "lag" in fn:
                arg = self.pick(["t1.a", "t1.id"])
            fn = fn.replace("%a", arg).replace("%s", "t1.s")
            peer_only = fn in ("rank()", "dense_rank()", "percent_rank()",
                               "cume_dist()")
            unit = None
            agg = fn.split("(")[0] in ("sum", "count", "min", "max", "avg")
            value = fn.split("(")[0] in ("first_value", "last_value",
                                         "nth_value")
            if agg or value:
                u = r.random()
                if u < 0.25:
                    unit = None  # the default frame
                elif u < 0.6:
                    unit = "ROWS"
                elif u < 0.85 and typ in ("int", "dbl", "date", "num"):
                    unit = "RANGE"
                    self.off_text = {
                        "int": str(self.pick([0, 1, 3, 50, 1000])),
                        "dbl": self.pick(["0.5", "2.25", "10"]),
                        "num": self.pick(["1.5", "100", "0"]),
                        "date": "INTERVAL '%d days'" % self.pick([0, 3, 20]),
                    }[typ]
                else:
                    unit = "RANGE"
                    self.off_text = None
            total = not peer_only and (unit != "RANGE" or value) and not (
                agg and unit is None and r.random() < 0.5)
            order = ""
            if peer_only or total or unit == "RANGE" or r.random() < 0.8:
                order = "%s %s%s" % (key, dirn, nulls)
                if total:
                    order += ", t1.id"
            if unit == "RANGE" and self.off_text is not None and total:
                unit = "ROWS"
            if unit == "RANGE" and self.off_text is None:
                fr = self.pick([" RANGE BETWEEN UNBOUNDED PRECEDING AND "
                                "CURRENT ROW", " RANGE BETWEEN CURRENT ROW "
                                "AND UNBOUNDED FOLLOWING"])
            elif unit:
                fr = self.frame(unit)
            else:
                fr = ""
            if fr and not order:
                order = "%s %s%s, t1.id" % (key, dirn, nulls)
            spec = " ".join(x for x in [
                "PARTITION BY " + part if part else "",
                "ORDER BY " + order if order else ""] if x) + fr
            calls_o.append("%s OVER (%s)" % (fn, spec))
            calls_d.append("%s OVER (%s)" % (fn, spec))
        where = ""
        if r.random() < 0.5:
            w = self.bool_expr([("t1.a", "int"), ("t1.b", "int"),
                                ("t1.s", "str"), ("t1.e", "num")], 1)
            where = (" WHERE " + w[0], " WHERE " + w[1])
        else:
            where = ("", "")
        sel_o = ", ".join("%s AS w%d" % (c, i) for i, c in enumerate(calls_o))
        sel_d = ", ".join("%s AS w%d" % (c, i) for i, c in enumerate(calls_d))
        qo = "SELECT t1.id, %s FROM t1%s" % (sel_o, where[0])
        qd = "SELECT t1.id, %s FROM t1%s" % (sel_d, where[1])
        if r.random() < 0.15 and not calls_o[0].startswith("max(t1.s)"):
            # the call itself, or its alias (both engines take either)
            q = " QUALIFY %s > %d" % (self.pick([calls_o[0], "w0"]),
                                       r.randint(0, 3))
            qo += q
            qd += q
        return qo, qd, False


def main():
    if len(sys.argv) < 2 or len(sys.argv) > 4:
        print(__doc__)
        return 2
    lakehouse = sys.argv[1]
    nq = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    peer.need_duckdb()
    rng = random.Random(seed)
    tables = gen_data(rng)
    g = Gen(rng)
    queries = [g.query() for _ in range(nq)]
    # window queries from their own stream (the others stay as they were)
    gw = Gen(random.Random(seed * 7919 + 1))
    queries += [gw.window_query() for _ in range(nq // 3)]
    keep = os.environ.get("LH_DIFF_KEEP")  # a directory to keep the files in
    with tempfile.TemporaryDirectory(prefix="lh_diff_") as tmp:
        if keep:
            os.makedirs(keep, exist_ok=True)
            tmp = keep
        make = []
        views = ""
        for name, cols, rows in tables:
            path = os.path.join(tmp, name + ".parquet")
            sel = ", ".join("CAST(%s AS %s) AS %s" % ("col%d" % i, t, n)
                            for i, (n, t) in enumerate(cols))
            vals = ", ".join("(%s)" % ", ".join(r) for r in rows)
            make.append("COPY (SELECT %s FROM (VALUES %s) v(%s)) TO '%s' "
                        "(FORMAT parquet)" % (
                            sel, vals, ", ".join("col%d" % i
                                                  for i in range(len(cols))),
                            path))
            views += ("CREATE VIEW %s AS SELECT * FROM read_parquet('%s'); "
                      % (name, path))
        made = peer.duck_batch([";\n".join(make) + "; SELECT 1"], tmp)
        if isinstance(made[0], str):
            print("could not write the tables with DuckDB: " + made[0])
            return 1
        db = os.path.join(tmp, "db")
        code, _, err = peer.run([lakehouse, "init", db])
        if code != 0:
            print("lakehouse init failed: " + err)
            return 1
        theirs = peer.duck_batch([views] + [q[1] for q in queries], tmp)[1:]
        agree = both_fail = 0
        diffs = []
        for i, ((qo, qd, ordered), t) in enumerate(zip(queries, theirs)):
            mine = peer.ours(lakehouse, db, views + qo)
            if isinstance(mine, str) and isinstance(t, str):
                both_fail += 1
                if os.environ.get("LH_DIFF_VERBOSE"):
                    print("both reject %d: %s\n  ours: %s\n  duckdb: %s"
                          % (i, qo, mine, t))
                continue
            d = peer.compare(mine, t, ordered)
            if d is None:
                agree += 1
            else:
                diffs.append((i, qo, qd, d))
    for i, qo, qd, d in diffs[:20]:
        print("query %d: %s\n  ours:   %s\n  duckdb: %s\n" % (i, d, qo, qd))
    print("differential (seed %d): %d queries, %d agree, %d differ, %d "
          "rejected by both" % (seed, len(queries), agree, len(diffs),
                                both_fail))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
