// pg_answers.mjs: fills a draft .test file (records whose answers are
// missing or stale) with PostgreSQL's answers, for our own sqllogictest
// files (tests/sql/slt/*.test run in `slt --mode lakehouse`):
//
//   PGHOST=/tmp/pgsock PGPORT=5432 node tests/sql/pg_answers.mjs draft.test > tests/sql/slt/x.test
//
// The records run in order in a fresh schema `slt` of the server (with
// TimeZone UTC). Values are rendered as the runner renders ours: I as an
// integer (booleans 1/0), R as %.3f, T as text (booleans true/false,
// '' as (empty)), NULL as NULL; rowsort/valuesort sorted the same way.
// A `statement error` keeps the expected text given after "----" (or
// takes PostgreSQL's message); differences are reported on stderr.
// Uses the `pg` package of the test peers (scripts/peers.sh).
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath } from 'url';
import fs from 'fs';
const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.LH_PEERS_DIR || path.join(here, '..', '..', '.npm-peers');
const require = createRequire(path.join(peers, 'node_modules') + '/');
const pg = require('pg');
if (process.argv.length < 3) {
  process.stderr.write('usage: node pg_answers.mjs DRAFT.test > OUT.test\n');
  process.exit(2);
}
const text = fs.readFileSync(process.argv[2], 'utf8');
const c = new pg.Client({ host: process.env.PGHOST || '/var/run/postgresql',
  port: Number(process.env.PGPORT || 5432), user: process.env.PGUSER || 'postgres',
  database: process.env.PGDATABASE || 'postgres',
  types: { getTypeParser: () => (v) => v } });
await c.connect();
await c.query('DROP SCHEMA IF EXISTS slt CASCADE; CREATE SCHEMA slt; SET search_path = slt; SET TIME ZONE UTC; SET IntervalStyle = postgres');
const lines = text.split('\n');
let out = [];
let i = 0;
function render(v, letter, oid) {
  if (v === null) return 'NULL';
  if (oid === 16) v = v === 't' ? 'true' : 'false';
  if (letter === 'I') {
    if (v === 'true') return '1';
    if (v === 'false') return '0';
    const n = Number(v);
    if (Number.isNaN(n)) return '0';
    return (typeof BigInt !== 'undefined' && /^-?\d+$/.test(v)) ? v : String(Math.trunc(n));
  }
  if (letter === 'R') return Number(v).toFixed(3);
  if (v === '') return '(empty)';
  return v;
}
while (i < lines.length) {
  const line = lines[i];
  if (line.startsWith('statement') || line.startsWith('query')) {
    const head = line;
    let j = i + 1;
    const sql = [];
    while (j < lines.length && lines[j].trim() !== '' && lines[j] !== '----') sql.push(lines[j++]);
    let given = [];
    if (j < lines.length && lines[j] === '----') {
      j++;
      while (j < lines.length && lines[j].trim() !== '') given.push(lines[j++]);
    }
    const q = sql.join('\n');
    let res = null, err = null;
    try { res = await c.query({ text: q, rowMode: 'array' }); } catch (e) { err = e; }
    if (head.startsWith('statement')) {
      const wantOk = head.startsWith('statement ok');
      if (wantOk && err) { process.stderr.write(`line ${i+1}: PG error: ${err.message}\n${q}\n`); }
      if (!wantOk && !err) { process.stderr.write(`line ${i+1}: PG ran what should fail\n${q}\n`); }
      out.push(head, ...sql);
      if (!wantOk) {
        out.push('----', given.length ? given[0] : (err ? err.message : ''));
        if (err) process.stderr.write(`  (PG says: ${err.message})\n`);
      }
    } else {
      const types = head.split(/\s+/)[1];
      out.push(head, ...sql, '----');
      if (err) { process.stderr.write(`line ${i+1}: PG error: ${err.message}\n${q}\n`); out.push('ERROR ' + err.message); }
      else {
        const r = Array.isArray(res) ? res[res.length - 1] : res;
        if (r.fields.length !== types.length) process.stderr.write(`line ${i+1}: ${r.fields.length} columns, record says ${types}\n`);
        let vals = [];
        for (const row of r.rows) r.fields.forEach((f, k) => vals.push(render(row[k], types[k] || 'T', f.dataTypeID)));
        // rowsort: sort rows by strcmp of values
        if (/rowsort/.test(head)) {
          const n = r.fields.length; const rows = [];
          for (let k = 0; k < vals.length; k += n) rows.push(vals.slice(k, k + n));
          rows.sort((a, b) => { for (let k = 0; k < n; k++) { if (a[k] < b[k]) return -1; if (a[k] > b[k]) return 1; } return 0; });
          vals = rows.flat();
        } else if (/valuesort/.test(head)) vals.sort();
        out.push(...vals);
      }
    }
    i = j;
    continue;
  }
  out.push(line);
  i++;
}
await c.end();
process.stdout.write(out.join('\n'));
