// The `pg` package (node-postgres, tests/peers) against the PostgreSQL
// protocol of `lakehouse serve`: node pg PORT MODE [PASSWORD] [SSL].
//   open: no tokens: connect as anyone; simple and extended (parameterized)
//         queries answer ErrorResponse 0A000 and the session stays usable;
//         an empty query completes.
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

if (mode === "open") {
  const c = new pg.Client(base);
  await c.connect();
  await expectCode(c, "simple query", "SELECT 1", undefined, "0A000");
  await expectCode(c, "extended query with parameters", "SELECT $1::int + $2",
                   [1, "two"], "0A000");
  await expectCode(c, "named prepared statement",
                   { name: "p1", text: "SELECT $1", values: [null] }, undefined,
                   "0A000");
  const r = await c.query("");
  console.log(`ok   empty query: ${JSON.stringify(r.rows)}`);
  await expectCode(c, "the session is still usable", "SELECT 2", undefined, "0A000");
  await c.end();
  console.log("ok   end");
} else if (mode === "auth") {
  const c = new pg.Client({ ...base, password });
  await c.connect();
  await expectCode(c, "authenticated session", "SELECT 1", undefined, "0A000");
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
