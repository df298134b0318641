#!/usr/bin/env python3
"""The PostgreSQL protocol with real clients: Debian's psql 15 (libpq) and
the `pg` package from npm (tests/peers), against `lakehouse serve`.

What it proves, per scenario:
- without tokens, any user and database name connects (psql, node pg);
- with tokens, SCRAM-SHA-256 (the default) and cleartext (pg_auth=password)
  accept exactly the token as the password, and refuse others with 28P01;
- SSLRequest: 'N' without TLS (sslmode=require fails, prefer falls back),
  TLS with tls_cert/tls_key (psql reports an SSL connection, node pg
  connects with ssl);
- SQL runs through the engine: psql prints rows, errors show the SQLSTATE
  and position; node pg gets typed rows, parameters, named statements and
  error codes; and the same statements (tests/server/pg_compare.json) give
  what a real PostgreSQL 15 gives on the wire: field names, type OIDs,
  values in text and in binary, tags, SQLSTATEs and positions, and psql
  prints the same tables;
- SIGTERM ends sessions with 57P01 and the server exits 0;
- psql's \\dt, \\d, \\d NAME, \\dt PATTERN and \\dn, and the introspection
  queries of BI tools (information_schema.tables / columns, pg_class joined
  to pg_attribute, pg_type and pg_namespace, pg_tables, current_database(),
  SHOW), print exactly what they print against a real PostgreSQL 15
  (Debian's, started here with initdb) holding the same tables, when that
  server is installed.

Usage: pg_clients.py LAKEHOUSE_CLI. Exits 77 (skipped) without psql.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.environ.get("LH_PEERS_DIR") or os.path.join(ROOT, ".npm-peers")
NODE_SCRIPT = os.path.join(ROOT, "tests", "server", "pg_node.mjs")

failures = []


def check(cond, what, detail=""):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what + ("\n     " + detail.replace("\n", "\n     ") if detail else ""))
        failures.append(what)


class Server:
    def __init__(self, cli, root, name, args=(), env=None):
        self.dir = os.path.join(root, name)
        self.cli = cli
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None

    def start(self):
        sj = os.path.join(self.dir, "server.json")
        if os.path.exists(sj):
            os.unlink(sj)
        self.proc = subprocess.Popen(
            [self.cli, "serve", self.dir, "--http", "off", "--pg", "127.0.0.1:0"] + self.args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        for _ in range(200):
            if os.path.exists(sj):
                with open(sj) as f:
                    info = json.load(f)
                self.port = int(info["pg"].rsplit(":", 1)[1])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited: " + self.proc.stderr.read().decode())
            time.sleep(0.05)
        raise RuntimeError("serve did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "hang"
        return code


def psql(port, sql, user="anyone", db="anydb", password=None, extra=None, conninfo=None):
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    env["PGCONNECT_TIMEOUT"] = "10"
    if password is not None:
        env["PGPASSWORD"] = password
    dsn = conninfo or "host=127.0.0.1 port=%d user=%s dbname=%s" % (port, user, db)
    cmd = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=0", dsn] + (extra or []) + ["-c", sql]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)
    return r.returncode, r.stdout, r.stderr


def node(port, mode, password="", ssl="0"):
    r = subprocess.run(["node", NODE_SCRIPT, str(port), mode, password, ssl],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LH_PEERS_DIR=PEERS))
    return r.returncode, r.stdout + r.stderr


def token(cli, d, name, role):
    r = subprocess.run([cli, "token", "create", d, "--name", name, "--role", role],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip().splitlines()[-1]


def make_cert(root):
    key = os.path.join(root, "key.pem")
    crt = os.path.join(root, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", crt],
                   capture_output=True, check=True)
    return crt, key


PG_BIN = "/usr/lib/postgresql/15/bin"


def real_postgres(root):
    """A PostgreSQL 15 on a loopback port (as the postgres user when we are
    root, which PostgreSQL refuses to run as), or None."""
    if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
        return None
    d = os.path.join(root, "pg")
    os.makedirs(d)
    as_pg = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(d, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = 20000 + os.getpid() % 20000
    r = subprocess.run(as_pg + [os.path.join(PG_BIN, "initdb"), "-D", d + "/data", "-A", "trust",
                                "-U", "tester", "--no-sync"], capture_output=True)
    if r.returncode != 0:
        return None
    r = subprocess.run(as_pg + [os.path.join(PG_BIN, "pg_ctl"), "-D", d + "/data", "-w", "-l",
                                d + "/log", "-o", "-p %d -k %s -c listen_addresses=127.0.0.1" % (port, d),
                                "start"], capture_output=True)
    if r.returncode != 0:
        return None
    return (port, as_pg, d)


def stop_postgres(pg):
    port, as_pg, d = pg
    subprocess.run(as_pg + [os.path.join(PG_BIN, "pg_ctl"), "-D", d + "/data", "-m", "fast", "stop"],
                   capture_output=True)


def catalog_like_postgres(cli, root, pg):
    """psql's describing commands against lakehouse and against PostgreSQL
    15 holding the same table: the same output."""
    if pg is None:
        print("note: the comparison with PostgreSQL is skipped (no PostgreSQL 15 server)")
        return
    schema = {"name": "orders", "columns": [
        {"name": "tenant_id", "type": "VARCHAR(64)", "nullable": False},
        {"name": "product_id", "type": "BIGINT", "nullable": False},
        {"name": "qty", "type": "INTEGER"}, {"name": "price", "type": "DECIMAL(10,2)"},
        {"name": "flag", "type": "BOOLEAN"}, {"name": "at", "type": "TIMESTAMPTZ"},
        {"name": "day", "type": "DATE"}, {"name": "id", "type": "UUID"},
        {"name": "doc", "type": "JSON"}, {"name": "raw", "type": "BLOB"},
        {"name": "ratio", "type": "DOUBLE"}, {"name": "note", "type": "VARCHAR"}]}
    sql = ("CREATE TABLE orders (tenant_id varchar(64) NOT NULL, product_id bigint NOT NULL, "
           "qty integer, price numeric(10,2), flag boolean, at timestamptz, day date, id uuid, "
           "doc json, raw bytea, ratio double precision, note varchar);"
           "CREATE TABLE order_lines (n bigint)")
    r = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(pg[0]), "-U", "tester",
                        "postgres", "-c", sql], capture_output=True, text=True)
    check(r.returncode == 0, "PostgreSQL: the same tables", r.stderr)
    d = os.path.join(root, "cat")
    subprocess.run([cli, "init", d], check=True, capture_output=True)
    for t in (schema, {"name": "order_lines", "columns": [{"name": "n", "type": "BIGINT"}]}):
        f = os.path.join(root, t["name"] + ".json")
        with open(f, "w") as fh:
            json.dump(t, fh)
        subprocess.run([cli, "table", "create", d, "--schema", f], check=True, capture_output=True)
    s = Server(cli, root, "cat").start()
    for cmd in ["\\dt", "\\d", "\\d orders", "\\d order_lines", "\\dt order*", "\\dt nothing",
                "\\dn",
                # what BI tools and drivers ask (information_schema and
                # pg_catalog as session tables; server functions)
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = 'public' ORDER BY table_name",
                "SELECT table_name, column_name, is_nullable, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
                "SELECT c.relname, a.attname, t.typname, a.attnum, a.attnotnull FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
                "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 ORDER BY c.relname, a.attnum",
                "SELECT schemaname, tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY 2",
                "SELECT current_database()", "SHOW search_path", "SHOW server_encoding"]:
        ours = psql(s.port, cmd, user="tester", db="postgres")
        theirs = psql(pg[0], cmd, user="tester", db="postgres")
        check(ours[1] == theirs[1] and ours[0] == theirs[0],
              "psql %s prints what it prints against PostgreSQL" % cmd,
              "ours:\n%s%s\ntheirs:\n%s%s" % (ours[1], ours[2], theirs[1], theirs[2]))
    s.stop()


def sql_like_postgres(cli, root, pg):
    """The same statements against lakehouse and PostgreSQL 15: what node pg
    and a raw client see on the wire (pg_compare.mjs), and what psql prints."""
    if pg is None:
        print("note: the SQL comparison with PostgreSQL is skipped (no PostgreSQL 15 server)")
        return
    s = Server(cli, root, "sqlcmp").start()
    have_node = shutil.which("node") is not None and os.path.isdir(
        os.path.join(PEERS, "node_modules", "pg"))
    if have_node:
        r = subprocess.run(["node", os.path.join(ROOT, "tests", "server", "pg_compare.mjs"),
                            str(s.port), str(pg[0]), os.path.join(ROOT, "tests", "server", "pg_compare.json")],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, LH_PEERS_DIR=PEERS))
        check(r.returncode == 0, "node pg and a raw client: the wire as PostgreSQL's",
              r.stdout + r.stderr)
    for q in ["SELECT 1 AS a, 'x' AS b, 2.5::float8 AS c, true AS t, NULL::int AS n",
              "SELECT n, n * 2 AS m, 'row ' || n AS label FROM (VALUES (1), (2), (3)) t(n) ORDER BY n",
              "SELECT 1.50::numeric(10,2) AS p, DATE '2026-01-02' AS d, -7::smallint AS s",
              "SELECT nosuch FROM (VALUES (1)) t(a)",
              "SELECT 1/0"]:
        ours = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(s.port), "-U", "tester",
                               "postgres", "-c", q], capture_output=True, text=True, timeout=30)
        theirs = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(pg[0]), "-U", "tester",
                                 "postgres", "-c", q], capture_output=True, text=True, timeout=30)
        same = (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
        check(same, "psql -c %r prints what it prints against PostgreSQL" % q,
              "ours:\n%s%s\ntheirs:\n%s%s" % (ours.stdout, ours.stderr, theirs.stdout, theirs.stderr))
    s.stop()


def main():
    if len(sys.argv) != 2:
        print("usage: pg_clients.py LAKEHOUSE_CLI", file=sys.stderr)
        return 2
    cli = sys.argv[1]
    if shutil.which("psql") is None:
        print("skipped: no psql (Debian's postgresql-client)")
        return 77
    have_node = shutil.which("node") is not None and os.path.isdir(
        os.path.join(PEERS, "node_modules", "pg"))
    if not have_node:
        print("note: the node pg scenarios are skipped (run scripts/peers.sh)")
    root = tempfile.mkdtemp(prefix="lh-pg-")
    try:
        # -- no tokens: anyone
        s = Server(cli, root, "open").start()
        code, out, err = psql(s.port, "\\conninfo")
        check(code == 0 and 'as user "anyone"' in out and 'database "anydb"' in out,
              "psql connects without a token, any user and database", out + err)
        code, out, err = psql(s.port, "SELECT 1 AS one, 'x' AS s")
        check(code == 0 and out == "1|x\n", "psql: a query's rows", out + err)
        code, out, err = psql(s.port, "SELECT nosuch", extra=["-v", "VERBOSITY=verbose"])
        check(code == 1 and "42703" in err and "column \"nosuch\" does not exist" in err,
              "psql shows the error and its SQLSTATE", err)
        code, out, err = psql(s.port, "", conninfo="host=127.0.0.1 port=%d user=u sslmode=require" % s.port)
        check(code != 0 and "server does not support SSL" in err,
              "sslmode=require without TLS: the server answers N", err)
        code, out, err = psql(s.port, "\\conninfo", conninfo="host=127.0.0.1 port=%d user=u sslmode=prefer" % s.port)
        check(code == 0 and "SSL" not in out, "sslmode=prefer falls back to plain", out + err)
        if have_node:
            code, out = node(s.port, "open")
            check(code == 0, "node pg: connect, queries, errors, parameters", out)
        code = s.stop()
        check(code == 0, "SIGTERM: serve exits 0", str(code))

        # -- tokens, SCRAM
        d = os.path.join(root, "scram")
        subprocess.run([cli, "init", d], check=True, capture_output=True)
        tok = token(cli, d, "ops", "admin")
        s = Server(cli, root, "scram").start()
        code, out, err = psql(s.port, "\\conninfo", user="whoever", password=tok)
        check(code == 0 and "connected" in out, "SCRAM-SHA-256 with the token as the password", out + err)
        code, out, err = psql(s.port, "\\conninfo", password="lh_" + "0" * 64)
        check(code == 2 and "password authentication failed" in err,
              "SCRAM: a wrong token is refused (28P01)", err)
        code, out, err = psql(s.port, "\\conninfo", extra=["-w"])
        check(code == 2 and ("password" in err), "no password: refused", err)
        if have_node:
            code, out = node(s.port, "auth", tok)
            check(code == 0, "node pg: SCRAM with the token; a wrong one gets 28P01", out)
        s.stop()

        # -- tokens, cleartext, TLS
        crt, key = make_cert(root)
        d = os.path.join(root, "tls")
        subprocess.run([cli, "init", d], check=True, capture_output=True)
        tok = token(cli, d, "bi", "reader")
        s = Server(cli, root, "tls", ["--pg-auth", "password", "--tls-cert", crt, "--tls-key", key]).start()
        code, out, err = psql(s.port, "\\conninfo", password=tok,
                              conninfo="host=127.0.0.1 port=%d user=bi sslmode=require" % s.port)
        check(code == 0 and "SSL connection" in out, "TLS after SSLRequest, cleartext password inside", out + err)
        code, out, err = psql(s.port, "\\conninfo", password="nope",
                              conninfo="host=127.0.0.1 port=%d user=bi sslmode=require" % s.port)
        check(code == 2 and "password authentication failed" in err, "cleartext: a wrong password is refused", err)
        code, out, err = psql(s.port, "\\conninfo", password=tok,
                              conninfo="host=127.0.0.1 port=%d user=bi sslmode=disable" % s.port)
        check(code == 0 and "SSL" not in out, "plain connections still work beside TLS", out + err)
        if have_node:
            code, out = node(s.port, "auth", tok, "1")
            check(code == 0, "node pg over TLS", out)
        # A session open when the server stops gets 57P01.
        p = subprocess.Popen(["psql", "-X", "-At", "host=127.0.0.1 port=%d user=bi sslmode=disable" % s.port],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=dict(os.environ, PGPASSWORD=tok))
        p.stdin.write("\\conninfo\n")
        p.stdin.flush()
        time.sleep(1.0)
        code = s.stop()
        out, err = p.communicate(input="SELECT 1;\n", timeout=20)
        check(code == 0, "SIGTERM with a session open: serve exits 0", str(code))
        check("terminating connection due to administrator command" in err or
              "server closed the connection" in err,
              "the open session is told (57P01)", err)

        # -- SCRAM inside TLS: libpq then sends the gs2 header "y,," (it
        # could bind the channel, the server offers no -PLUS).
        s = Server(cli, root, "tls", ["--tls-cert", crt, "--tls-key", key]).start()
        code, out, err = psql(s.port, "\\conninfo", password=tok,
                              conninfo="host=127.0.0.1 port=%d user=bi sslmode=require" % s.port)
        check(code == 0 and "SSL connection" in out, "SCRAM-SHA-256 over TLS", out + err)
        code, out, err = psql(s.port, "\\conninfo", password=tok,
                              conninfo="host=127.0.0.1 port=%d user=bi sslmode=require channel_binding=require" % s.port)
        check(code == 2 and "channel binding" in err,
              "channel_binding=require is refused by the client (no -PLUS offered)", err)
        s.stop()

        pg = real_postgres(root)
        try:
            catalog_like_postgres(cli, root, pg)
            sql_like_postgres(cli, root, pg)
        finally:
            if pg is not None:
                stop_postgres(pg)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
