#!/usr/bin/env node
// hyparquet and hyparquet-writer (pure JavaScript, pinned in
// tests/peers/package.json) as a second, independent test peer.
//
//   node tests/peers/hyp.mjs cat FILE.parquet [--columns a,b]
//   node tests/peers/hyp.mjs write OUT.parquet --from FILE.ndjson
//        [--codec snappy|gzip|brotli|zstd|uncompressed] [--row-group-rows N]
//        [--types name=TYPE,...]
//   node tests/peers/hyp.mjs pages FILE.parquet   (one NDJSON line per page
//        header: row group, column, codec, page type, encoding, counts,
//        sizes, whether it has a CRC)
//
// cat prints hyparquet's reading as NDJSON by the same rules as duck.mjs
// (render.mjs), typing each column the way DuckDB does so that the two
// peers print the same text for the same file:
//   - the renderer walks hyparquet's rows together with the file's own
//     schema (hyparquet's metadata), and takes the logical type from there;
//   - conversions that lose information in hyparquet are switched off in the
//     schema handed to hyparquet and done here from the physical value:
//     DECIMAL (hyparquet divides into a double) from the unscaled integer or
//     bytes; MAP (hyparquet builds a JS object: keys become strings and
//     integer-like keys reorder) from the key/value entries; INTERVAL and
//     BSON (hyparquet throws) from their bytes; timestamps and dates (Date
//     objects, ms precision) through custom parsers that keep the integer;
//     JSON (parsed) kept as text; byte arrays stay bytes (utf8: false) unless
//     annotated STRING/UTF8/ENUM;
//   - as DuckDB: TIMESTAMP with isAdjustedToUTC (logical type) prints as
//     TIMESTAMPTZ ("+00"), converted-type-only TIMESTAMP_MILLIS/MICROS and
//     INT96 as TIMESTAMP; TIME with isAdjustedToUTC gets "+00"; FLOAT16 as
//     REAL; unannotated BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY as BLOB; DECIMAL of
//     precision > 38 as DOUBLE.
// The list/struct assembly (Dremel levels) is hyparquet's own; codecs other
// than SNAPPY come from hyparquet-compressors (gzip, brotli, zstd, LZ4 with
// and without Hadoop framing, LZ4_RAW; pure JS).
//
// write builds columns from NDJSON and writes them with hyparquet-writer.
// It always writes DATA_PAGE_V2 pages (hyparquet-writer has no v1 page
// writer), RLE_DICTIONARY when a dictionary at least halves a column chunk,
// else PLAIN (RLE for booleans); statistics and an offset index are on.
// Codecs: SNAPPY (built in), GZIP and BROTLI (node:zlib), ZSTD only where
// node:zlib has it (Node >= 22.15); LZ4 has no compressor here.
// Column types are inferred from the values: integers -> INT64 (DuckDB's
// read_json_auto also says BIGINT), other numbers -> DOUBLE, booleans ->
// BOOLEAN, strings -> STRING (DuckDB would detect dates and timestamps),
// objects/arrays -> JSON (DuckDB: STRUCT/LIST); --types overrides per
// column with one of (DuckDB's names BIGINT, INTEGER, VARCHAR, REAL also)
//   BOOLEAN INT32 INT64 FLOAT DOUBLE STRING BLOB (from "\\x.." hex) JSON UUID
//   DATE TIMESTAMP TIMESTAMPTZ (µs; from "YYYY-MM-DD HH:MM:SS[.ffffff]",
//   ISO with T/Z also read) DECIMAL(p,s)
// Numbers keep their source text: INT64 and DECIMAL are exact. JSON
// columns are the exception: hyparquet-writer re-serializes them with
// JSON.stringify (1.50 -> 1.5, integers past 2^53 rounded, integer-like keys
// first).
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import {
    bigintFromBytes, blobJson, dateText, decimalJson, die, doubleJson, embeddedJson,
    floatJson, intJson, intervalText, jsonString, nanosToMicros, Out, parseArgs, peerImport,
    timeText, timestampText,
} from './render.mjs';

const PROG = 'hyp';
const utf8 = new TextDecoder();

// ---- reading ----------------------------------------------------------------

/** Schema elements to tree, as hyparquet's schemaTree does. */
function schemaTree(schema, index = 0) {
    const element = schema[index];
    const node = { element, index, children: [], count: 1 };
    while (node.children.length < (element.num_children || 0)) {
        const child = schemaTree(schema, index + node.count);
        node.count += child.count;
        node.children.push(child);
    }
    return node;
}

// hyparquet's isListLike / isMapLike (src/schema.js), on our tree
function isListLike(node) {
    if (node.element.converted_type !== 'LIST' || node.children.length > 1) return false;
    const first = node.children[0];
    return first && first.children.length <= 1 && first.element.repetition_type === 'REPEATED';
}

function isMapLike(node) {
    if (node.element.converted_type !== 'MAP' || node.children.length > 1) return false;
    const kv = node.children[0];
    if (!kv || kv.children.length !== 2 || kv.element.repetition_type !== 'REPEATED') return false;
    const key = kv.children.find(c => c.element.name === 'key');
    const value = kv.children.find(c => c.element.name === 'value');
    return key?.element.repetition_type !== 'REPEATED' &&
        value?.element.repetition_type !== 'REPEATED';
}

function isDecimal(e) {
    return e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
}

/** The schema handed to hyparquet: conversions we do ourselves removed. */
function patchSchema(schema, tree) {
    const patched = schema.map(e => ({ ...e }));
    const walk = node => {
        const e = patched[node.index];
        if (isDecimal(e) || e.converted_type === 'INTERVAL' || e.converted_type === 'BSON' ||
            e.logical_type?.type === 'BSON') {
            delete e.converted_type;
            delete e.logical_type;
        }
        if (isMapLike(node)) {
            node.isMap = true; // assembled by hyparquet as a struct of a repeated key/value group
            delete e.converted_type;
            delete e.logical_type;
        }
        node.children.forEach(walk);
    };
    walk(tree);
    return patched;
}

const parsers = {
    timestampFromMilliseconds: v => ({ $us: BigInt(v) * 1000n }),
    timestampFromMicroseconds: v => ({ $us: BigInt(v) }),
    timestampFromNanoseconds: v => ({ $us: nanosToMicros(v) }),
    dateFromDays: v => ({ $days: v }),
    jsonFromBytes: b => b && { $json: utf8.decode(b) },
    geometryFromBytes: b => b,
    geographyFromBytes: b => b,
};

function timeUnitMicros(e, v) {
    const unit = e.logical_type?.type === 'TIME' ? e.logical_type.unit
        : e.converted_type === 'TIME_MILLIS' ? 'MILLIS' : 'MICROS';
    if (unit === 'MILLIS') return BigInt(v) * 1000n;
    if (unit === 'NANOS') return nanosToMicros(v);
    return BigInt(v);
}

/** JSON text of one leaf value, typed by its (original) schema element. */
function renderLeaf(e, v) {
    const lt = e.logical_type;
    const ct = e.converted_type;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'object' && '$us' in v) {
        return jsonString(timestampText(v.$us, lt?.type === 'TIMESTAMP' && lt.isAdjustedToUTC));
    }
    if (typeof v === 'object' && '$days' in v) return jsonString(dateText(v.$days));
    if (typeof v === 'object' && '$json' in v) return embeddedJson(v.$json);
    if (isDecimal(e)) {
        const scale = lt?.type === 'DECIMAL' ? lt.scale : e.scale || 0;
        const precision = lt?.type === 'DECIMAL' ? lt.precision : e.precision;
        const unscaled = v instanceof Uint8Array ? bigintFromBytes(v) : BigInt(v);
        const text = decimalJson(unscaled, scale);
        return precision > 38 ? doubleJson(Number(text)) : text;
    }
    if (ct === 'INTERVAL') {
        const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
        return jsonString(intervalText(dv.getUint32(0, true), dv.getUint32(4, true),
            BigInt(dv.getUint32(8, true)) * 1000n));
    }
    if (lt?.type === 'TIME' || ct === 'TIME_MILLIS' || ct === 'TIME_MICROS') {
        return jsonString(timeText(timeUnitMicros(e, v)) +
            (lt?.type === 'TIME' && lt.isAdjustedToUTC ? '+00' : ''));
    }
    if (lt?.type === 'JSON' && v instanceof Uint8Array) return embeddedJson(utf8.decode(v));
    if ((ct === 'ENUM' || lt?.type === 'ENUM') && v instanceof Uint8Array) {
        return jsonString(utf8.decode(v));
    }
    if (lt?.type === 'FLOAT16') return floatJson(v);
    switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': return intJson(v);
    case 'string': return jsonString(v);
    case 'number':
        if (e.type === 'FLOAT') return floatJson(v);
        if (e.type === 'DOUBLE') return doubleJson(v);
        return intJson(v);
    default:
        if (v instanceof Uint8Array) return blobJson(v);
        return genericJson(v);
    }
}

/** Values hyparquet builds that have no schema leaf (VARIANT). */
function genericJson(v) {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return doubleJson(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return jsonString(v);
    if (v instanceof Uint8Array) return blobJson(v);
    if (v instanceof Date) return jsonString(timestampText(BigInt(v.getTime()) * 1000n, true));
    if (Array.isArray(v)) return '[' + v.map(genericJson).join(',') + ']';
    return '{' + Object.keys(v).map(k => jsonString(k) + ':' + genericJson(v[k])).join(',') + '}';
}

/** JSON text of the value hyparquet assembled for schema node `node`. */
function renderNode(node, v, asElement = false) {
    if (v === null || v === undefined) return 'null';
    if (!asElement && node.element.repetition_type === 'REPEATED') {
        // an unannotated repeated field: hyparquet gives an array
        return '[' + v.map(x => renderNode(node, x, true)).join(',') + ']';
    }
    if (isListLike(node)) {
        let el = node.children[0];
        if (el.children.length === 1) el = el.children[0]; // 3-level list
        return '[' + v.map(x => renderNode(el, x, true)).join(',') + ']';
    }
    if (node.isMap) {
        const kv = node.children[0];
        const key = kv.children.find(c => c.element.name === 'key');
        const value = kv.children.find(c => c.element.name === 'value');
        const entries = v[kv.element.name] || [];
        const keyIsString = !key.children.length && key.element.type === 'BYTE_ARRAY' &&
            (key.element.converted_type === 'UTF8' || key.element.logical_type?.type === 'STRING');
        if (keyIsString) {
            return '{' + entries.map(en => jsonString(en.key) + ':' +
                renderNode(value, en.value, true)).join(',') + '}';
        }
        return '[' + entries.map(en => '{"key":' + renderNode(key, en.key, true) +
            ',"value":' + renderNode(value, en.value, true) + '}').join(',') + ']';
    }
    if (node.children.length) {
        if (node.element.logical_type?.type === 'VARIANT') return genericJson(v);
        return '{' + node.children.map(c =>
            jsonString(c.element.name) + ':' + renderNode(c, v[c.element.name])).join(',') + '}';
    }
    return renderLeaf(node.element, v);
}

async function cmdCat(argv) {
    const { opts, pos } = parseArgs(PROG, argv, ['columns']);
    if (pos.length !== 1) die(PROG, 'usage: hyp.mjs cat FILE.parquet [--columns a,b]', 2);
    const hp = await peerImport('hyparquet');
    const { compressors: decompressors } = await peerImport('hyparquet-compressors');
    const file = await hp.asyncBufferFromFile(pos[0]);
    const metadata = await hp.parquetMetadataAsync(file);
    const tree = schemaTree(metadata.schema);
    const patched = { ...metadata, schema: patchSchema(metadata.schema, tree) };
    let top = tree.children;
    if (opts.columns) {
        top = opts.columns.split(',').map(name => {
            const node = tree.children.find(c => c.element.name === name);
            if (!node) die(PROG, `no column "${name}" in "${pos[0]}"`);
            return node;
        });
    }
    const rows = await hp.parquetReadObjects({
        file, metadata: patched, columns: top.map(c => c.element.name),
        utf8: false, parsers, geoparquet: false, compressors: decompressors,
    });
    const names = top.map(c => jsonString(c.element.name));
    const out = new Out();
    for (const row of rows) {
        await out.line('{' + top.map((c, i) =>
            names[i] + ':' + renderNode(c, row[c.element.name])).join(',') + '}');
    }
    await out.flush();
}

// ---- page headers -------------------------------------------------------------

/** One NDJSON line per page: row group, column path, page type, encoding,
 * value count, sizes, CRC presence (hyparquet's page header parser). */
async function cmdPages(argv) {
    const { pos } = parseArgs(PROG, argv, []);
    if (pos.length !== 1) die(PROG, 'usage: hyp.mjs pages FILE.parquet', 2);
    const hp = await peerImport('hyparquet');
    const { parquetHeader } = await peerImport('hyparquet/src/column.js');
    const buf = readFileSync(pos[0]);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const metadata = hp.parquetMetadata(ab);
    const out = new Out();
    for (const [rg, group] of metadata.row_groups.entries()) {
        for (const chunk of group.columns) {
            const md = chunk.meta_data;
            const start = Number(md.dictionary_page_offset || md.data_page_offset);
            const end = start + Number(md.total_compressed_size);
            const reader = { view: new DataView(ab), offset: start };
            while (reader.offset < end) {
                const h = parquetHeader(reader);
                const d = h.data_page_header || h.data_page_header_v2 || h.dictionary_page_header || {};
                await out.line(JSON.stringify({
                    row_group: rg, column: md.path_in_schema.join('.'), codec: md.codec,
                    type: h.type, encoding: d.encoding ?? null, num_values: d.num_values ?? null,
                    num_nulls: h.data_page_header_v2?.num_nulls ?? null,
                    compressed_size: h.compressed_page_size,
                    uncompressed_size: h.uncompressed_page_size, crc: h.crc !== undefined,
                }));
                reader.offset += h.compressed_page_size;
            }
        }
    }
    await out.flush();
}

// ---- writing ----------------------------------------------------------------

/** A JSON number kept as its source text. */
class JNum {
    constructor(text) { this.text = text; }
    get isInteger() { return /^-?\d+$/.test(this.text); }
}

/** JSON.parse that keeps numbers as JNum (exact digits) and key order. */
function parseJson(text) {
    let i = 0;
    const ws = () => { while (/\s/.test(text[i] || '')) i++; };
    const fail = what => { throw new Error(`bad JSON at offset ${i}: ${what}`); };
    const value = () => {
        ws();
        const c = text[i];
        if (c === '{') {
            i++; const obj = new Map(); ws();
            if (text[i] === '}') { i++; return obj; }
            for (;;) {
                ws(); if (text[i] !== '"') fail('expected a key');
                const k = str(); ws();
                if (text[i++] !== ':') fail('expected ":"');
                obj.set(k, value()); ws();
                if (text[i] === ',') { i++; continue; }
                if (text[i] === '}') { i++; return obj; }
                fail('expected "," or "}"');
            }
        }
        if (c === '[') {
            i++; const arr = []; ws();
            if (text[i] === ']') { i++; return arr; }
            for (;;) {
                arr.push(value()); ws();
                if (text[i] === ',') { i++; continue; }
                if (text[i] === ']') { i++; return arr; }
                fail('expected "," or "]"');
            }
        }
        if (c === '"') return str();
        const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
        if (!m) fail('unexpected character');
        i += m[0].length;
        if (m[0] === 'true') return true;
        if (m[0] === 'false') return false;
        if (m[0] === 'null') return null;
        return new JNum(m[0]);
    };
    const str = () => {
        const start = i++;
        while (text[i] !== '"') {
            if (i >= text.length) fail('unterminated string');
            i += text[i] === '\\' ? 2 : 1;
        }
        i++;
        return JSON.parse(text.slice(start, i));
    };
    const v = value(); ws();
    if (i !== text.length) fail('trailing characters');
    return v;
}

/** Compact JSON text of a parsed value (numbers exactly as written). */
function toJsonText(v) {
    if (v === null) return 'null';
    if (v instanceof JNum) return v.text;
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'string') return JSON.stringify(v);
    if (Array.isArray(v)) return '[' + v.map(toJsonText).join(',') + ']';
    return '{' + [...v].map(([k, x]) => JSON.stringify(k) + ':' + toJsonText(x)).join(',') + '}';
}

/** A parsed value as plain JS for hyparquet-writer's JSON columns (big
 * integers as BigInt, which it turns into Numbers). */
function toJsValue(v) {
    if (v instanceof JNum) {
        const n = Number(v.text);
        return v.isInteger && !Number.isSafeInteger(n) ? BigInt(v.text) : n;
    }
    if (Array.isArray(v)) return v.map(toJsValue);
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, toJsValue(x)]));
    return v;
}

function inferType(values) {
    let type = null;
    for (const v of values) {
        if (v === null) continue;
        let t;
        if (typeof v === 'boolean') t = 'BOOLEAN';
        else if (v instanceof JNum) t = v.isInteger ? 'INT64' : 'DOUBLE';
        else if (typeof v === 'string') t = 'STRING';
        else t = 'JSON';
        if (type === null || type === t) type = t;
        else if ((type === 'INT64' && t === 'DOUBLE') || (type === 'DOUBLE' && t === 'INT64')) type = 'DOUBLE';
        else throw new Error(`mixed types ${type} and ${t}: pass --types`);
    }
    return type || 'STRING';
}

// "2026-01-02 03:04:05.123456", "2026-01-02T03:04:05Z", "+02:00" offsets
function parseTimestampMicros(s) {
    const m = /^(-?\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(s);
    if (!m) throw new Error(`bad timestamp "${s}"`);
    const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
    let us = BigInt(days) * 86400000000n +
        BigInt(((Number(m[4] || 0) * 60) + Number(m[5] || 0)) * 60 + Number(m[6] || 0)) * 1000000n +
        BigInt((m[7] || '').padEnd(9, '0').slice(0, 6) || '0');
    if (m[8] && m[8] !== 'Z') {
        const sign = m[8][0] === '-' ? -1n : 1n;
        const digits = m[8].slice(1).replace(':', '');
        const off = BigInt(Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60);
        us -= sign * off * 1000000n;
    }
    return us;
}

function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    const era = Math.floor(y / 400);
    const yoe = y - era * 400;
    const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
}

function decimalUnscaled(text, scale) {
    const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (!m) throw new Error(`bad decimal "${text}"`);
    let digits = (m[2] || '') + (m[3] || '');
    let exp = Number(m[4] || 0) - (m[3] || '').length + scale;
    if (exp < 0) {
        const cut = digits.slice(digits.length + exp);
        if (/[^0]/.test(cut)) throw new Error(`decimal "${text}" has more than ${scale} fraction digits`);
        digits = digits.slice(0, digits.length + exp);
        exp = 0;
    }
    const v = BigInt((digits || '0') + '0'.repeat(exp));
    return m[1] ? -v : v;
}

function blobFrom(v) {
    if (typeof v !== 'string') throw new Error('BLOB values must be strings');
    if (v.startsWith('\\x')) return Uint8Array.from(Buffer.from(v.slice(2), 'hex'));
    return new TextEncoder().encode(v);
}

// --types names: ours, plus DuckDB's spellings (duck.mjs takes the same)
const TYPE_ALIASES = {
    BIGINT: 'INT64', INTEGER: 'INT32', INT: 'INT32', VARCHAR: 'STRING', TEXT: 'STRING',
    REAL: 'FLOAT', BOOL: 'BOOLEAN', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

/** Schema element and value converter for a column type name. */
function columnSpec(name, type) {
    const repetition_type = 'OPTIONAL';
    const num = v => {
        if (!(v instanceof JNum)) throw new Error(`expected a number, found ${toJsonText(v)}`);
        return v;
    };
    const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
    if (dec) {
        const precision = Number(dec[1]);
        const scale = Number(dec[2]);
        const element = {
            name, repetition_type, converted_type: 'DECIMAL', precision, scale,
            logical_type: { type: 'DECIMAL', precision, scale },
        };
        if (precision <= 9) element.type = 'INT32';
        else if (precision <= 18) element.type = 'INT64';
        else {
            element.type = 'FIXED_LEN_BYTE_ARRAY';
            element.type_length = Math.ceil((precision * Math.log2(10) + 1) / 8);
        }
        return { element, conv: v => decimalUnscaled(v instanceof JNum ? v.text : String(v), scale) };
    }
    switch (TYPE_ALIASES[type.toUpperCase()] || type.toUpperCase()) {
    case 'BOOLEAN':
        return { element: { name, type: 'BOOLEAN', repetition_type }, conv: v => {
            if (typeof v !== 'boolean') throw new Error(`expected a boolean, found ${toJsonText(v)}`);
            return v;
        } };
    case 'INT32':
        return { element: { name, type: 'INT32', repetition_type }, conv: v => Number(BigInt(num(v).text)) };
    case 'INT64':
        return { element: { name, type: 'INT64', repetition_type }, conv: v => BigInt(num(v).text) };
    case 'FLOAT':
        return { element: { name, type: 'FLOAT', repetition_type }, conv: v => Number(num(v).text) };
    case 'DOUBLE':
        return { element: { name, type: 'DOUBLE', repetition_type },
            conv: v => typeof v === 'string' ? Number(v) : Number(num(v).text) };
    case 'STRING':
        return { element: { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type },
            conv: v => typeof v === 'string' ? v : toJsonText(v) };
    case 'BLOB':
        return { element: { name, type: 'BYTE_ARRAY', repetition_type }, conv: blobFrom };
    case 'JSON':
        // DuckDB reads JSON only by its converted type; with it set,
        // hyparquet-writer serializes JS values itself (JSON.stringify)
        return { element: { name, type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' }, repetition_type },
            conv: toJsValue };
    case 'UUID':
        return { element: { name, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' }, repetition_type },
            conv: v => String(v) };
    case 'DATE':
        return { element: { name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type },
            conv: v => Number(parseTimestampMicros(String(v)) / 86400000000n) };
    case 'TIMESTAMP':
        return { element: { name, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type },
            conv: v => parseTimestampMicros(String(v)) };
    case 'TIMESTAMPTZ':
        return { element: { name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type },
            conv: v => parseTimestampMicros(String(v)) };
    default:
        throw new Error(`unknown type "${type}" for column "${name}"`);
    }
}

function compressors() {
    const c = {
        GZIP: b => new Uint8Array(zlib.gzipSync(b)),
        BROTLI: b => new Uint8Array(zlib.brotliCompressSync(b)),
    };
    if (zlib.zstdCompressSync) c.ZSTD = b => new Uint8Array(zlib.zstdCompressSync(b));
    return c;
}

async function cmdWrite(argv) {
    const { opts, pos } = parseArgs(PROG, argv, ['from', 'codec', 'row-group-rows', 'types']);
    if (pos.length !== 1 || !opts.from) {
        die(PROG, 'usage: hyp.mjs write OUT.parquet --from FILE.ndjson [--codec C] ' +
            '[--row-group-rows N] [--types name=TYPE,...]', 2);
    }
    const hw = await peerImport('hyparquet-writer');
    const names = [];
    const rows = [];
    readFileSync(opts.from, 'utf8').split('\n').forEach((line, n) => {
        if (!line.trim()) return;
        let obj;
        try {
            obj = parseJson(line);
        } catch (e) {
            die(PROG, `"${opts.from}" line ${n + 1}: ${e.message}`, 2);
        }
        if (!(obj instanceof Map)) die(PROG, `"${opts.from}" line ${n + 1}: not a JSON object`, 2);
        for (const k of obj.keys()) if (!names.includes(k)) names.push(k);
        rows.push(obj);
    });
    const types = {};
    for (const part of (opts.types || '').split(/,(?![^(]*\))/).filter(Boolean)) {
        const eq = part.indexOf('=');
        if (eq < 1) die(PROG, `bad --types entry "${part}" (name=TYPE)`, 2);
        types[part.slice(0, eq)] = part.slice(eq + 1);
    }
    const columnData = [];
    const schema = [{ name: 'root', num_children: names.length }];
    for (const name of names) {
        const raw = rows.map(r => (r.has(name) ? r.get(name) : null));
        let spec;
        try {
            spec = columnSpec(name, types[name] || inferType(raw));
        } catch (e) {
            die(PROG, `column "${name}": ${e.message}`, 2);
        }
        const data = raw.map((v, i) => {
            if (v === null) return null;
            try {
                return spec.conv(v);
            } catch (e) {
                die(PROG, `"${opts.from}" row ${i + 1}, column "${name}": ${e.message}`, 2);
            }
        });
        schema.push(spec.element);
        columnData.push({ name, data });
    }
    const codec = (opts.codec || 'snappy').toUpperCase();
    const comp = compressors();
    if (codec !== 'UNCOMPRESSED' && codec !== 'SNAPPY' && !comp[codec]) {
        die(PROG, `no ${codec} compressor for hyparquet-writer here (snappy, gzip, brotli, ` +
            `uncompressed${comp.ZSTD ? ', zstd' : ''})`, 2);
    }
    const options = { filename: pos[0], columnData, schema, codec, compressors: comp };
    if (opts['row-group-rows']) {
        const n = Number(opts['row-group-rows']);
        if (!Number.isInteger(n) || n <= 0) die(PROG, `bad --row-group-rows "${opts['row-group-rows']}"`, 2);
        options.rowGroupSize = n;
    }
    hw.parquetWriteFile(options);
}

// ---- main -------------------------------------------------------------------

const [cmd, ...rest] = process.argv.slice(2);
const cmds = { cat: cmdCat, write: cmdWrite, pages: cmdPages };
if (!cmds[cmd]) die(PROG, 'usage: hyp.mjs cat|write|pages ... (see the top of tests/peers/hyp.mjs)', 2);
try {
    await cmds[cmd](rest);
} catch (e) {
    die(PROG, (e && e.message) || String(e));
}
