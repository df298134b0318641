// The `pg` package (node-postgres, tests/peers) against the PostgreSQL
// protocol of `lakehouse serve`: node pg PORT MODE [PASSWORD] [SSL].
//   open: no tokens: connect as anyone; simple and extended (parameterized,
//         named prepared) queries return typed rows (node pg's parsers on
//         our OIDs: numbers, booleans, dates, NULL); SQL errors carry their
//         SQLSTATE and position and the session stays usable; an empty
//         query completes.
//   auth: the token as the password connects; another password gets 28P01.
// Prints what it checked; exits 1 on the first difference.
import { requirePeer } from "../peers/render.mjs";

const pg = requirePeer("pg");

const [port, mode, password, ssl] = process.argv.slice(2);
const base = {
  host: "127.0.0.1",
  port: Number(port),
  user: "node_user",
  database: "some_db",
  ssl: ssl === "1" ? { rejectUnauthorized: false } : false,
  connectionTimeoutMillis: 10000,
};

function fail(what, detail) {
  console.log(`FAIL ${what}: ${detail}`);
  process.exit(1);
}

async function expectCode(client, what, q, params, code) {
  try {
    await client.query(q, params);
  } catch (e) {
    if (e.code !== code) fail(what, `code ${e.code} (${e.message}), want ${code}`);
    console.log(`ok   ${what}: ${e.code} ${e.message}`);
    return;
  }
  fail(what, "no error");
}

async function expectRows(client, what, q, params, want) {
  const r = await client.query(q, params);
  const got = JSON.stringify(r.rows);
  if (got !== JSON.stringify(want)) fail(what, `rows ${got}, want ${JSON.stringify(want)}`);
  console.log(`ok   ${what}: ${got}`);
  return r;
}

if (mode === "open") {
  const c = new pg.Client(base);
  await c.connect();
  const r = await expectRows(c, "simple query", "SELECT 1 AS one, 'x' AS s, true AS t, NULL::int AS n",
                             undefined, [{ one: 1, s: "x", t: true, n: null }]);
  if (r.fields.map((f) => f.dataTypeID).join() !== "23,25,16,23") fail("type OIDs", JSON.stringify(r.fields));
  await expectRows(c, "extended query with parameters", "SELECT $1::int + $2::int AS sum, $3::text AS t",
                   [40, "2", "hi"], [{ sum: 42, t: "hi" }]);
  await expectRows(c, "named prepared statement, twice",
                   { name: "p1", text: "SELECT $1::bigint * 2 AS d", values: [21] }, undefined, [{ d: "42" }]);
  await expectRows(c, "named prepared statement, again",
                   { name: "p1", text: "SELECT $1::bigint * 2 AS d", values: [5] }, undefined, [{ d: "10" }]);
  const d = await c.query("SELECT DATE '2026-01-02' AS d, 2.5::float8 AS f, 1.25::numeric(5,2) AS p");
  if (!(d.rows[0].d instanceof Date) || d.rows[0].f !== 2.5 || d.rows[0].p !== "1.25") {
    fail("typed values", JSON.stringify(d.rows));
  }
  console.log(`ok   typed values: ${JSON.stringify(d.rows)}`);
  await expectCode(c, "an unknown column", "SELECT nosuch", undefined, "42703");
  await expectCode(c, "an error in an extended query", "SELECT $1::int / 0 AS x", [1], "22012");
  await expectCode(c, "a syntax error", "SELEC 1", undefined, "42601");
  const e = await c.query("");
  console.log(`ok   empty query: ${JSON.stringify(e.rows)}`);
  await expectRows(c, "the session is still usable", "SELECT 2 AS two", undefined, [{ two: 2 }]);
  await c.end();
  console.log("ok   end");
} else if (mode === "auth") {
  const c = new pg.Client({ ...base, password });
  await c.connect();
  await expectRows(c, "authenticated session", "SELECT 1 AS one", undefined, [{ one: 1 }]);
  await c.end();
  const bad = new pg.Client({ ...base, password: "lh_wrong" });
  try {
    await bad.connect();
    fail("wrong password", "connected");
  } catch (e) {
    if (e.code !== "28P01") fail("wrong password", `${e.code} ${e.message}`);
    console.log(`ok   wrong password: ${e.code} ${e.message}`);
  }
} else {
  fail("usage", mode);
}
