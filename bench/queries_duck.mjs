// bench/queries_duck.mjs: the DuckDB side of bench_queries (bench/queries.c
// runs it; node and the npm peers from scripts/peers.sh).
//   probe                          -> {"ok":true,"version":"v1.5.6"}
//   run QUERIES.json THREADS RUNS  -> QUERIES.json is {"setup": "...",
//                                    "queries": [{"name","sql"}...]}; the
//                                    setup (views over the Parquet files)
//                                    runs once, then each query RUNS times;
//                                    one line per query: {"name","ms"} with
//                                    the best run's wall-clock milliseconds
//                                    around the statement only.
import { readFileSync } from 'node:fs';
import { requirePeer } from '../tests/peers/render.mjs';

const duckdb = requirePeer('@duckdb/node-api');

async function connect(threads) {
    const inst = await duckdb.DuckDBInstance.create(':memory:', {
        autoinstall_known_extensions: 'false',
        threads: String(threads),
    });
    const conn = await inst.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return conn;
}

const [cmd, file, threads, runs] = process.argv.slice(2);
if (cmd === 'probe') {
    const conn = await connect(1);
    const r = await conn.runAndReadAll('SELECT version() AS v');
    console.log(JSON.stringify({ ok: true, version: r.getRowObjects()[0].v }));
} else if (cmd === 'run') {
    const spec = JSON.parse(readFileSync(file, 'utf8'));
    const conn = await connect(Number(threads));
    for (const stmt of spec.setup.split(';').filter((s) => s.trim())) await conn.run(stmt);
    for (const q of spec.queries) {
        let best = Infinity;
        for (let i = 0; i < Number(runs); i++) {
            const t0 = performance.now();
            await conn.runAndReadAll(q.sql);
            best = Math.min(best, performance.now() - t0);
        }
        console.log(JSON.stringify({ name: q.name, ms: best }));
    }
} else {
    console.error('usage: queries_duck.mjs probe | run QUERIES.json THREADS RUNS');
    process.exit(2);
}
