// bench/parquet_duck.mjs: the DuckDB side of bench_parquet (bench/parquet.c
// runs it; node and the npm peers from scripts/peers.sh). One JSON line out:
//   probe                        -> {"ok":true,"version":"v1.5.6"}
//   write SRC.parquet OUT THREADS -> loads SRC into a table in memory, then
//                                   times COPY t TO OUT (ZSTD): {"ms":..}
//   scan FILE THREADS revenue|all -> best of 3: sum(revenue), or sums over
//                                   every column (numbers, string lengths,
//                                   the same work bench_parquet does)
// Times are wall clock around the statement only (no process start).
import { requirePeer } from '../tests/peers/render.mjs';

const duckdb = requirePeer('@duckdb/node-api');

async function connect(threads) {
    const inst = await duckdb.DuckDBInstance.create(':memory:', {
        autoinstall_known_extensions: 'false',
        threads: String(threads),
    });
    return inst.connect();
}

function q(s) {
    return "'" + s.replaceAll("'", "''") + "'";
}

async function timed(conn, sql) {
    const t0 = performance.now();
    const r = await conn.runAndReadAll(sql);
    return [performance.now() - t0, r.getRowObjects()];
}

const [cmd, a1, a2, a3] = process.argv.slice(2);
if (cmd === 'probe') {
    const conn = await connect(1);
    const [, rows] = await timed(conn, 'SELECT version() AS v');
    console.log(JSON.stringify({ ok: true, version: rows[0].v }));
} else if (cmd === 'write') {
    const conn = await connect(Number(a3));
    await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(a1)})`);
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
        const [ms] = await timed(conn,
            `COPY t TO ${q(a2)} (FORMAT parquet, COMPRESSION zstd)`);
        best = Math.min(best, ms);
    }
    console.log(JSON.stringify({ ms: best }));
} else if (cmd === 'scan') {
    const conn = await connect(Number(a2));
    const f = `read_parquet(${q(a1)})`;
    const sql = a3 === 'all'
        ? `SELECT sum(length(event_id)) a, sum(length(stream)) b, sum(version) c,
             sum(length(type)) d, sum(epoch_us(ts)) e, sum(length(tenant)) f,
             sum(product) g, sum(user_id) h, (sum(revenue) * 100)::BIGINT revenue,
             sum(quantity) j, sum(length(region)) k, sum(length(payload::VARCHAR)) l
           FROM ${f}`
        : `SELECT (sum(revenue) * 100)::BIGINT revenue FROM ${f}`;
    let best = Infinity;
    let rows;
    for (let i = 0; i < 3; i++) {
        const [ms, r] = await timed(conn, sql);
        best = Math.min(best, ms);
        rows = r;
    }
    // revenue as an unscaled integer, as bench_parquet sums it
    const rev = Number(rows[0].revenue);
    console.log(JSON.stringify({ ms: best, revenue: rev }));
} else {
    console.error('usage: parquet_duck.mjs probe | write SRC OUT THREADS | scan FILE THREADS revenue|all');
    process.exit(2);
}
