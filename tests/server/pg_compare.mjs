// The same statements through node pg (tests/peers) against lakehouse and
// against a real PostgreSQL 15: node pg_compare.mjs OURS_PORT PG_PORT CASES.
//
// CASES is a JSON file of {sql, params?, binary?}. Each runs as a simple
// query (no params) or an extended one (params: Parse, Bind, Describe,
// Execute), with results in text or binary (binary: true). What is
// compared is what a driver sees on the wire: each field's name, type OID
// and format, each value's bytes (text as sent, binary as hex, NULL as
// null), the command tag and row count, and for an error its SQLSTATE and
// position. Prints every case; exits 1 when any differs.
import { readFileSync } from "node:fs";
import net from "node:net";
import { requirePeer } from "../peers/render.mjs";

const pg = requirePeer("pg");

const [ours, theirs, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, "utf8"));

// Binary results through a minimal client of our own (node pg decodes
// every value as UTF-8, which would hide a wrong byte): startup (both
// servers trust the connection), then Parse, Bind with result format 1,
// Describe, Execute, Sync; what comes back is returned like run()'s.
function rawBinary(port, sql, params) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), "127.0.0.1");
    let buf = Buffer.alloc(0);
    let ready = 0;
    const out = { fields: [], rows: [] };
    const msg = (type, body) => {
      const head = Buffer.alloc(5);
      head.write(type, 0, "latin1");
      head.writeInt32BE(body.length + 4, 1);
      return Buffer.concat([head, body]);
    };
    const cstr = (s) => Buffer.from(s + "\0", "utf8");
    const i16 = (v) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; };
    const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
    const startup = Buffer.concat([i32(196608), cstr("user"), cstr("tester"),
                                   cstr("database"), cstr("postgres"), Buffer.from([0])]);
    sock.write(Buffer.concat([i32(startup.length + 4), startup]));
    const send = () => {
      const ps = params.map((p) => (p === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(p)), Buffer.from(p)])));
      sock.write(Buffer.concat([
        msg("P", Buffer.concat([cstr(""), cstr(sql), i16(0)])),
        msg("B", Buffer.concat([cstr(""), cstr(""), i16(0), i16(params.length), ...ps, i16(1), i16(1)])),
        msg("D", Buffer.concat([Buffer.from("P"), cstr("")])),
        msg("E", Buffer.concat([cstr(""), i32(0)])),
        msg("S", Buffer.alloc(0)),
      ]));
    };
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const type = String.fromCharCode(buf[0]);
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        if (type === "Z" && ready++ === 0) {
          send();
        } else if (type === "Z") {
          sock.end();
          resolve(out);
        } else if (type === "T") {
          let o = 2;
          for (let i = 0; i < body.readInt16BE(0); i++) {
            const e = body.indexOf(0, o);
            const name = body.toString("utf8", o, e);
            o = e + 1;
            out.fields.push([name, body.readInt32BE(o + 6), body.readInt16BE(o + 16)]);
            o += 18;
          }
        } else if (type === "D") {
          const row = [];
          let o = 2;
          for (let i = 0; i < body.readInt16BE(0); i++) {
            const n = body.readInt32BE(o);
            o += 4;
            row.push(n < 0 ? null : body.toString("hex", o, o + n));
            o += Math.max(n, 0);
          }
          out.rows.push(row);
        } else if (type === "C") {
          out.command = body.toString("utf8", 0, body.length - 1);
        } else if (type === "E") {
          const f = {};
          for (let o = 0; body[o] !== 0;) {
            const e = body.indexOf(0, o + 1);
            f[String.fromCharCode(body[o])] = body.toString("utf8", o + 1, e);
            o = e + 1;
          }
          out.error = f.C;
          out.position = f.P ?? null;
        }
      }
    });
    sock.on("error", reject);
  });
}

// Values as they came: no parsing.
const raw = { getTypeParser: () => (v) => v };

async function client(port) {
  const c = new pg.Client({
    host: "127.0.0.1",
    port: Number(port),
    user: "tester",
    database: "postgres",
    types: raw,
  });
  await c.connect();
  return c;
}

async function run(c, k) {
  try {
    const q = { text: k.sql, rowMode: "array" };
    if (k.params) q.values = k.params;
    const r = await c.query(q);
    return {
      fields: r.fields.map((f) => [f.name, f.dataTypeID, f.format]),
      rows: r.rows,
      command: r.command,
      rowCount: r.rowCount,
    };
  } catch (e) {
    if (e.code === undefined) throw e;
    return { error: e.code, position: e.position ?? null };
  }
}

const conns = { false: [await client(ours), await client(theirs)] };
let bad = 0;
for (const k of cases) {
  const [a, b] = conns[false];
  const x = JSON.stringify(k.binary ? await rawBinary(ours, k.sql, k.params ?? []) : await run(a, k));
  const y = JSON.stringify(k.binary ? await rawBinary(theirs, k.sql, k.params ?? []) : await run(b, k));
  const what = `${k.binary ? "binary " : ""}${k.params ? "extended " : ""}${k.sql}`;
  if (x === y) {
    console.log(`ok   ${what}: ${x}`);
  } else {
    bad++;
    console.log(`FAIL ${what}\n     ours:       ${x}\n     PostgreSQL: ${y}`);
  }
}
for (const c of conns[false]) await c.end();
process.exit(bad ? 1 : 0);
