#!/usr/bin/env node
// DuckDB (@duckdb/node-api, pinned in tests/peers/package.json) as a test
// peer for lakehouse's Parquet reader and writer.
//
//   node tests/peers/duck.mjs cat FILE.parquet [--columns a,b]
//   node tests/peers/duck.mjs write OUT.parquet --from FILE.ndjson|FILE.csv
//        [--codec zstd|snappy|gzip|brotli|lz4|uncompressed] [--version v1|v2]
//        [--row-group-rows N] [--types "a=BIGINT,p=DECIMAL(10,2),b=BLOB"]
//        [--select "a::INTEGER AS a, b"]
//   node tests/peers/duck.mjs sql "SELECT ..."      (several statements: the
//        last one's rows are printed)
//   node tests/peers/duck.mjs sqlfile SCRIPTS.ndjson (one JSON string of SQL
//        a line, all on one connection; {"#":i} before script i's rows)
//
// Rows print as NDJSON, one object per row, keys = column names in order,
// values by lakehouse's output rules (render.mjs; output-formats.md, JSON).
// Works from any directory: the packages load from .npm-peers/ beside
// tests/ (or $LH_PEERS_DIR). Nothing is downloaded: DuckDB's parquet, json
// and icu extensions are built into the node bindings, and extension
// auto-install is switched off.
//
// How the types are read: every result carries its column types
// (DuckDBResult.columnTypes(), DuckDBType objects with typeId and, for
// nested and DECIMAL types, their parts: valueType, entryNames/entryTypes,
// keyType/valueType, width/scale; JSON is VARCHAR with alias "JSON"). The
// renderer walks value and type together; the values come typed from the
// node-api (numbers, bigints, DuckDB*Value objects), never through DuckDB's
// own text forms.
//
// DuckDB type                       -> JSON text
//   BOOLEAN                         true / false
//   TINYINT..INTEGER, UTINYINT..UINTEGER (number), BIGINT, UBIGINT, HUGEINT,
//   UHUGEINT, BIGNUM (bigint)       integer, all digits
//   FLOAT                           float32 shortest form (0.1), "NaN"...
//   DOUBLE                          shortest form (0.1, 3, 1e+300)
//   DECIMAL(w,s)                    number with exactly s fraction digits
//   VARCHAR, ENUM                   string
//   VARCHAR alias JSON              the JSON text embedded
//   BLOB                            "\\x00ff"
//   UUID                            "xxxxxxxx-xxxx-..." lowercase
//   DATE                            "YYYY-MM-DD" ("infinity", "-infinity")
//   TIME / TIME_NS                  "HH:MM:SS[.ffffff]" (ns cut to µs)
//   TIME_TZ                         "HH:MM:SS[.ffffff]+HH[:MM[:SS]]" (PG's
//                                   timetz; lakehouse has no such type)
//   TIMESTAMP, _S, _MS, _NS         "YYYY-MM-DD HH:MM:SS[.ffffff]" (ns cut)
//   TIMESTAMP_TZ                    the same in UTC + "+00"
//   INTERVAL                        "1 year 2 mons 3 days 04:05:06"
//   LIST, ARRAY                     array
//   STRUCT                          object (fields in order)
//   MAP                             object when the key type is VARCHAR,
//                                   else [{"key":..,"value":..}, ...]
//   UNION                           the member's value
//   BIT, GEOMETRY, VARIANT, others  DuckDB's text of the value as a string
//                                   (no lakehouse type to compare with)
// How DuckDB 1.5 types Parquet: INT96 -> TIMESTAMP; TIMESTAMP with
// isAdjustedToUTC (logical type) -> TIMESTAMP_TZ, converted-type-only
// TIMESTAMP_MILLIS/MICROS -> TIMESTAMP; TIME isAdjustedToUTC -> TIME_TZ;
// FLOAT16 -> FLOAT; unannotated BYTE_ARRAY and FLBA -> BLOB; JSON only by
// converted type (a logical-type-only JSON column reads as BLOB); DECIMAL
// with precision > 38 -> DOUBLE; INT32 without INT_8/INT_16 annotation
// (Impala) -> INTEGER. DuckDB writes its infinities as int32/int64 max;
// they print "infinity" / "-infinity" (render.mjs).
import {
    blobJson, dateText, decimalJson, die, doubleJson, embeddedJson, floatJson, intJson,
    intervalText, jsonString, nanosToMicros, Out, parseArgs, requirePeer, timeText, timestampText,
    uuidText,
} from './render.mjs';

const PROG = 'duck';
let duckdb; // @duckdb/node-api, loaded by main
let T; // its DuckDBTypeId enum

function tzOffsetText(offset) {
    const sign = offset < 0 ? '-' : '+';
    let s = Math.abs(offset);
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    let t = sign + String(h).padStart(2, '0');
    if (m || s) t += ':' + String(m).padStart(2, '0');
    if (s) t += ':' + String(s).padStart(2, '0');
    return t;
}

const infinity = n => (n > 0n ? 'infinity' : '-infinity');

/** JSON text of a DuckDB value of the given DuckDBType. */
function render(v, type) {
    if (v === null || v === undefined) return 'null';
    switch (type.typeId) {
    case T.BOOLEAN:
        return v ? 'true' : 'false';
    case T.TINYINT: case T.SMALLINT: case T.INTEGER: case T.BIGINT:
    case T.UTINYINT: case T.USMALLINT: case T.UINTEGER: case T.UBIGINT:
    case T.HUGEINT: case T.UHUGEINT: case T.BIGNUM:
        return intJson(v);
    case T.FLOAT:
        return floatJson(v);
    case T.DOUBLE:
        return doubleJson(v);
    case T.DECIMAL:
        return decimalJson(v.value, v.scale);
    case T.VARCHAR:
        return type.alias === 'JSON' ? embeddedJson(v) : jsonString(v);
    case T.ENUM:
        return jsonString(v);
    case T.BLOB:
        return blobJson(v.bytes);
    case T.UUID:
        return jsonString(uuidText(v.toUint128()));
    case T.DATE:
        return jsonString(dateText(v.days));
    case T.TIME:
        return jsonString(timeText(v.micros));
    case T.TIME_NS:
        return jsonString(timeText(nanosToMicros(v.nanos)));
    case T.TIME_TZ:
        return jsonString(timeText(v.micros) + tzOffsetText(v.offset));
    case T.TIMESTAMP:
        return jsonString(timestampText(v.micros, false));
    case T.TIMESTAMP_TZ:
        return jsonString(timestampText(v.micros, true));
    case T.TIMESTAMP_S:
        return jsonString(v.isFinite ? timestampText(v.seconds * 1000000n, false) : infinity(v.seconds));
    case T.TIMESTAMP_MS:
        return jsonString(v.isFinite ? timestampText(v.millis * 1000n, false) : infinity(v.millis));
    case T.TIMESTAMP_NS:
        return jsonString(v.isFinite ? timestampText(nanosToMicros(v.nanos), false) : infinity(v.nanos));
    case T.INTERVAL:
        return jsonString(intervalText(v.months, v.days, v.micros));
    case T.LIST:
    case T.ARRAY:
        return '[' + v.items.map(x => render(x, type.valueType)).join(',') + ']';
    case T.STRUCT:
        return '{' + type.entryNames.map((name, i) =>
            jsonString(name) + ':' + render(v.entries[name], type.entryTypes[i])).join(',') + '}';
    case T.MAP:
        if (type.keyType.typeId === T.VARCHAR) {
            return '{' + v.entries.map(e =>
                jsonString(e.key) + ':' + render(e.value, type.valueType)).join(',') + '}';
        }
        return '[' + v.entries.map(e => '{"key":' + render(e.key, type.keyType) +
            ',"value":' + render(e.value, type.valueType) + '}').join(',') + ']';
    case T.UNION: {
        const i = type.memberTags.indexOf(v.tag);
        return render(v.value, type.memberTypes[i]);
    }
    case T.SQLNULL:
        return 'null';
    default:
        return jsonString(String(v));
    }
}

function sqlString(s) {
    return "'" + String(s).replaceAll("'", "''") + "'";
}

function sqlIdent(s) {
    return '"' + String(s).replaceAll('"', '""') + '"';
}

async function connect() {
    // no extension downloads, ever; UTC for anything DuckDB itself prints
    const inst = await duckdb.DuckDBInstance.create(':memory:', {
        autoinstall_known_extensions: 'false',
    });
    const conn = await inst.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return conn;
}

/** Runs every statement of `sql`, printing the last one's rows as NDJSON. */
async function printQuery(conn, sql) {
    const stmts = await conn.extractStatements(sql);
    if (stmts.count === 0) throw new Error('no SQL statement given');
    for (let i = 0; i < stmts.count - 1; i++) await (await stmts.prepare(i)).run();
    const result = await (await stmts.prepare(stmts.count - 1)).stream();
    const names = result.columnNames().map(jsonString);
    const types = result.columnTypes();
    const out = new Out();
    for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.getRows()) {
            let line = '{';
            for (let c = 0; c < row.length; c++) {
                if (c) line += ',';
                line += names[c] + ':' + render(row[c], types[c]);
            }
            await out.line(line + '}');
        }
    }
    await out.flush();
}

const CODECS = ['zstd', 'snappy', 'gzip', 'brotli', 'lz4', 'lz4_raw', 'uncompressed'];

async function cmdCat(argv) {
    const { opts, pos } = parseArgs(PROG, argv, ['columns']);
    if (pos.length !== 1) die(PROG, 'usage: duck.mjs cat FILE.parquet [--columns a,b]', 2);
    const cols = opts.columns ? opts.columns.split(',').map(sqlIdent).join(', ') : '*';
    const conn = await connect();
    await printQuery(conn, `SELECT ${cols} FROM read_parquet(${sqlString(pos[0])})`);
}

// --types names: DuckDB's, plus hyp.mjs's spellings
const TYPE_ALIASES = { INT64: 'BIGINT', INT32: 'INTEGER', STRING: 'VARCHAR' };

/** "a=BIGINT,b=DECIMAL(10,2)" -> Map name -> DuckDB type */
function parseTypes(spec) {
    const types = new Map();
    for (const part of (spec || '').split(/,(?![^(]*\))/).filter(Boolean)) {
        const eq = part.indexOf('=');
        if (eq < 1) die(PROG, `bad --types entry "${part}" (name=TYPE)`, 2);
        const t = part.slice(eq + 1).trim();
        types.set(part.slice(0, eq), TYPE_ALIASES[t.toUpperCase()] || t);
    }
    return types;
}

async function cmdWrite(argv) {
    const { opts, pos } = parseArgs(PROG, argv,
        ['from', 'codec', 'version', 'row-group-rows', 'select', 'types']);
    if (pos.length !== 1 || !opts.from) {
        die(PROG, 'usage: duck.mjs write OUT.parquet --from FILE.ndjson|FILE.csv ' +
            '[--codec C] [--version v1|v2] [--row-group-rows N] [--types a=T,...] ' +
            '[--select EXPRS]', 2);
    }
    const from = opts.from;
    const types = parseTypes(opts.types);
    const conn = await connect();
    let reader;
    let csv = false;
    if (/\.csv$/i.test(from)) {
        csv = true;
        reader = `read_csv_auto(${sqlString(from)}`;
    } else if (/\.(ndjson|jsonl)$/i.test(from)) {
        reader = `read_json_auto(${sqlString(from)}, format = 'newline_delimited'`;
    } else if (/\.json$/i.test(from)) {
        reader = `read_json_auto(${sqlString(from)}`;
    } else {
        die(PROG, `cannot tell the format of "${from}": name it .ndjson, .jsonl, .json or .csv`, 2);
    }
    // the inferred columns, then --types over them; BLOB values arrive as
    // text in our "\x00ff" form and are decoded here
    const inferred = await (await conn.run(`DESCRIBE SELECT * FROM ${reader})`)).getRowObjects();
    for (const name of types.keys()) {
        if (!inferred.some(r => r.column_name === name)) die(PROG, `--types: no column "${name}" in "${from}"`, 2);
    }
    const cols = inferred.map(r => {
        const t = types.get(r.column_name) || r.column_type;
        const isBlob = t.toUpperCase() === 'BLOB' && types.has(r.column_name);
        return { name: r.column_name, readAs: isBlob ? 'VARCHAR' : t, isBlob };
    });
    if (types.size) {
        const spec = cols.map(c => `${sqlString(c.name)}: ${sqlString(c.readAs)}`).join(', ');
        reader += csv ? `, types = {${spec}})` : `, columns = {${spec}})`;
        if (!csv) reader = reader.replace('read_json_auto(', 'read_json(');
    } else {
        reader += ')';
    }
    let select = opts.select;
    if (!select) {
        select = cols.map(c => {
            const id = sqlIdent(c.name);
            if (!c.isBlob) return id;
            return `CASE WHEN starts_with(${id}, '\\x') THEN unhex(substr(${id}, 3)) ` +
                `ELSE encode(${id}) END AS ${id}`;
        }).join(', ');
    }

    const copy = ['FORMAT parquet'];
    if (opts.codec) {
        const c = opts.codec.toLowerCase();
        if (!CODECS.includes(c)) die(PROG, `unknown codec "${opts.codec}" (${CODECS.join(', ')})`, 2);
        copy.push(`COMPRESSION ${c}`);
    }
    if (opts.version) {
        const v = opts.version.toUpperCase();
        if (v !== 'V1' && v !== 'V2') die(PROG, `unknown version "${opts.version}" (v1, v2)`, 2);
        copy.push(`PARQUET_VERSION ${v}`);
    }
    if (opts['row-group-rows']) {
        const n = Number(opts['row-group-rows']);
        if (!Number.isInteger(n) || n <= 0) die(PROG, `bad --row-group-rows "${opts['row-group-rows']}"`, 2);
        copy.push(`ROW_GROUP_SIZE ${n}`);
    }
    await conn.run(`COPY (SELECT ${select} FROM ${reader}) TO ${sqlString(pos[0])} (${copy.join(', ')})`);
}

async function cmdSql(argv) {
    if (argv.length !== 1) die(PROG, 'usage: duck.mjs sql "SELECT ..."', 2);
    const conn = await connect();
    await printQuery(conn, argv[0]);
}

// sqlfile FILE: many scripts on one connection (tables and views persist
// from one to the next). FILE holds one JSON string a line, each a script
// of statements; for script i, a line {"#":i} then its last statement's
// rows, or {"#":i,"error":"..."} when it fails (the next one still runs).
async function cmdSqlFile(argv) {
    if (argv.length !== 1) die(PROG, 'usage: duck.mjs sqlfile FILE.ndjson', 2);
    const { readFileSync } = await import('node:fs');
    const scripts = readFileSync(argv[0], 'utf8').split('\n').filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l));
    const conn = await connect();
    const out = new Out();
    for (let i = 0; i < scripts.length; i++) {
        await out.line(`{"#":${i}}`);
        await out.flush();
        try {
            await printQuery(conn, scripts[i]);
        } catch (e) {
            await out.line(`{"#":${i},"error":${jsonString((e && e.message) || String(e))}}`);
        }
    }
    await out.flush();
}

const [cmd, ...rest] = process.argv.slice(2);
const cmds = { cat: cmdCat, write: cmdWrite, sql: cmdSql, sqlfile: cmdSqlFile };
if (!cmds[cmd]) die(PROG, 'usage: duck.mjs cat|write|sql|sqlfile ... (see the top of tests/peers/duck.mjs)', 2);
try {
    duckdb = requirePeer('@duckdb/node-api');
    T = duckdb.DuckDBTypeId;
    await cmds[cmd](rest);
} catch (e) {
    die(PROG, (e && e.message) || String(e));
}
