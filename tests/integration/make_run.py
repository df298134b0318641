#!/usr/bin/env python3
"""`make run` (scripts/run.sh) as a user runs it: the first time it creates
the data directory with sample data, prints what to try and serves; every
command it prints (the curl append, the curl query, psql -c) is then run
exactly as printed, through a shell, and must work; `lakehouse sql --server
URL` prints what `lakehouse sql DIR` prints; SIGTERM stops it with
exit 0; the second time it serves the same directory without creating
anything.

Usage: make_run.py LAKEHOUSE_CLI. Exits 77 (skipped) without curl or psql.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond or not detail else "\n     " + detail))
    if not cond:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cli, data, http, pg):
    env = dict(os.environ, LH=cli, LAKEHOUSE_HTTP="127.0.0.1:%d" % http,
               LAKEHOUSE_PG="127.0.0.1:%d" % pg)
    env.pop("PGPASSWORD", None)
    p = subprocess.Popen(["sh", os.path.join(ROOT, "scripts", "run.sh"), data], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        out.append(line)
        if "PostgreSQL  postgresql://" in line:
            return p, "".join(out)
    p.kill()
    raise RuntimeError("run.sh did not start:\n" + "".join(out))


def printed(text, prefix):
    """The printed command lines starting with prefix (a trailing backslash
    joins the next line)."""
    lines = text.splitlines()
    cmds = []
    for i, l in enumerate(lines):
        if l.strip().startswith(prefix):
            cmd = l.strip()
            j = i
            while cmd.endswith("\\") and j + 1 < len(lines):
                j += 1
                cmd = cmd[:-1] + " " + lines[j].strip()
            cmds.append(cmd.split("  #")[0])
    return cmds


def sh(cmd):
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PGCONNECT_TIMEOUT="10"))


def main():
    if len(sys.argv) != 2:
        print("usage: make_run.py LAKEHOUSE_CLI", file=sys.stderr)
        return 2
    cli = os.path.abspath(sys.argv[1])
    for tool in ("curl", "psql"):
        if shutil.which(tool) is None:
            print("skipped: no " + tool)
            return 77
    root = tempfile.mkdtemp(prefix="lh-run-")
    data = os.path.join(root, "data")
    try:
        http, pg = free_port(), free_port()
        p, text = start(cli, data, http, pg)
        check("created " in text, "the first run creates the data directory", text)
        check(os.path.exists(os.path.join(data, "lakehouse.json")), "a data directory is there")
        appends = printed(text, "curl -s http://127.0.0.1:%d/v1/tables/orders/events" % http)
        check(len(appends) == 1, "it prints a curl append", text)
        for c in appends:
            r = sh(c)
            check(r.returncode == 0 and '"acks"' in r.stdout, "the printed append works: " + c,
                  r.stdout + r.stderr)
        queries = printed(text, "curl -s http://127.0.0.1:%d/v1/query" % http)
        check(len(queries) == 1, "it prints a curl query", text)
        for c in queries:
            r = sh(c)
            ok = False
            try:
                ok = r.returncode == 0 and isinstance(json.loads(r.stdout), list) and json.loads(r.stdout)
            except ValueError:
                pass
            check(ok, "the printed query answers rows: " + c, r.stdout + r.stderr)
        for c in printed(text, "curl -s http://127.0.0.1:%d/v1/tables/orders/streams" % http):
            r = sh(c)
            check(r.returncode == 0 and '"events"' in r.stdout, "the printed stream read works",
                  r.stdout + r.stderr)
        psqls = [c for c in printed(text, "psql -h 127.0.0.1 -p %d" % pg) if " -c " in c]
        check(len(psqls) == 1, "it prints a psql command", text)
        for c in psqls:
            r = sh(c)
            check(r.returncode == 0 and "row" in r.stdout, "the printed psql command works: " + c,
                  r.stdout + r.stderr)
        # lakehouse sql --server URL prints what lakehouse sql DIR prints
        url = "http://127.0.0.1:%d" % http
        for args in (["-c", "SELECT n, 'r' || n AS s FROM generate_series(1, 3) AS g(n)"],
                     ["-c", "SELECT 1 AS a, NULL AS b", "--format", "csv"],
                     ["-c", "SELECT 1 AS one; SELECT 2 AS two", "--format", "json"],
                     ["-c", "SELECT 1,\n  nosuch"]):
            remote = subprocess.run([cli, "sql", "--server", url] + args, capture_output=True, text=True)
            local = subprocess.run([cli, "sql", data] + args, capture_output=True, text=True)
            check((remote.returncode, remote.stdout, remote.stderr) ==
                  (local.returncode, local.stdout, local.stderr),
                  "lakehouse sql --server prints what lakehouse sql DIR prints: %r" % args,
                  "remote %d:\n%s%s\nlocal %d:\n%s%s" % (remote.returncode, remote.stdout, remote.stderr,
                                                       local.returncode, local.stdout, local.stderr))
        p.send_signal(signal.SIGTERM)
        check(p.wait(15) == 0, "SIGTERM: exit 0")
        p, text = start(cli, data, http, pg)
        check("created " not in text, "the second run serves the same directory", text)
        p.send_signal(signal.SIGTERM)
        check(p.wait(15) == 0, "SIGTERM again: exit 0")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
