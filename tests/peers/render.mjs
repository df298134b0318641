// Values as JSON text by lakehouse's output rules
// (shared/design/output-formats.md, section JSON), for the test peers
// duck.mjs and hyp.mjs. Every function returns JSON *text*, never a JS value
// to stringify: JSON.stringify would lose integer digits past 2^53, print
// floats its own way and reorder integer-like object keys.
//
// The layouts copy src/column/number.c, text.c and temporal.c so that a test
// can compare our `parquet cat --format ndjson` with a peer byte for byte:
//   double   shortest digits that read back (15, 16 or 17 significant digits
//            tried in turn, as number.c does; 1 up for subnormals), fixed
//            notation for decimal exponents -4..14, else 1e+300 / 1.5e-07;
//            integral values without ".0"; -0 stays "-0"
//   float32  the same with 6..9 digits and fixed notation for exponents
//            -4..5 (PostgreSQL's float4out: 1e+06, 0.1, 123456)
//   NaN / Infinity / -Infinity as JSON strings
//   DECIMAL  exactly `scale` fraction digits, as a JSON number
//   DATE "YYYY-MM-DD", TIME "HH:MM:SS[.ffffff]", TIMESTAMP "YYYY-MM-DD
//   HH:MM:SS[.ffffff]" (trailing fraction zeros dropped), TIMESTAMPTZ the
//   same in UTC then "+00"; years before 1 as PostgreSQL: "0001-12-31 BC"
//   INTERVAL PostgreSQL's style ("1 year 2 mons 3 days 04:05:06")
//   BLOB "\\x" + lowercase hex; strings JSON-escaped as src/util/text.c does
//   (only ", \ and control characters; UTF-8 kept as is)
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---- loading the peers from .npm-peers/ ------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
/** The folder scripts/peers.sh installs into (LH_PEERS_DIR overrides). */
export const peersDir = process.env.LH_PEERS_DIR ||
    path.resolve(here, '..', '..', '.npm-peers');

function peersMissing(name) {
    return new Error(`test peer "${name}" is not installed in ${peersDir}: ` +
        'run scripts/peers.sh (or make test)');
}

const peerRequire = createRequire(path.join(peersDir, 'package.json'));

/** require() of a CommonJS peer (e.g. @duckdb/node-api). */
export function requirePeer(name) {
    try {
        return peerRequire(name);
    } catch (e) {
        if (e.code === 'MODULE_NOT_FOUND') throw peersMissing(name);
        throw e;
    }
}

/** import() of a peer, ES module or CommonJS, resolved inside .npm-peers/
 * whatever the current directory (ESM ignores NODE_PATH). */
export async function peerImport(name) {
    let file;
    try {
        file = peerRequire.resolve(name);
    } catch {
        // ESM-only packages export "." with an "import" condition only
        const dir = path.join(peersDir, 'node_modules', name);
        if (!existsSync(path.join(dir, 'package.json'))) throw peersMissing(name);
        const pj = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
        let exp = pj.exports && (pj.exports['.'] ?? pj.exports);
        while (exp && typeof exp === 'object') exp = exp.node ?? exp.import ?? exp.default;
        file = path.join(dir, exp || pj.main || 'index.js');
    }
    return import(pathToFileURL(file).href);
}

// ---- output -----------------------------------------------------------------

// a reader that stops early (| head) is not an error
process.stdout.on('error', e => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
});

/** Buffered stdout that waits for the pipe to drain (large files). */
export class Out {
    constructor() { this.parts = []; this.size = 0; }
    async line(s) {
        this.parts.push(s, '\n');
        this.size += s.length + 1;
        if (this.size >= 1 << 20) await this.flush();
    }
    async flush() {
        if (!this.parts.length) return;
        const text = this.parts.join('');
        this.parts = []; this.size = 0;
        if (!process.stdout.write(text)) {
            await new Promise(resolve => process.stdout.once('drain', resolve));
        }
    }
}

/** Prints "peer: message" and exits 1 (2 for usage errors). */
export function die(prog, msg, code = 1) {
    process.stderr.write(`${prog}: ${msg}\n`);
    process.exit(code);
}

/** Options (--name value or --name=value, anywhere) and positionals;
 * unknown options are usage errors. */
export function parseArgs(prog, argv, spec) {
    const opts = {};
    const pos = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a.startsWith('--')) {
            const eq = a.indexOf('=');
            const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
            if (!spec.includes(name)) die(prog, `unknown option "${a}"`, 2);
            if (eq > 0) opts[name] = a.slice(eq + 1);
            else if (i + 1 < argv.length) opts[name] = argv[++i];
            else die(prog, `option "${a}" needs a value`, 2);
        } else {
            pos.push(a);
        }
    }
    return { opts, pos };
}

// ---- strings, blobs ---------------------------------------------------------

/** A JSON string literal, escaped as src/util/text.c escapes. */
export function jsonString(s) {
    return JSON.stringify(String(s));
}

const HEX = '0123456789abcdef';
/** BLOB text "\x00ff" as a JSON string ("\\x00ff"). */
export function blobJson(bytes) {
    let s = '\\x';
    for (const b of bytes) s += HEX[b >> 4] + HEX[b & 15];
    return JSON.stringify(s);
}

// ---- numbers ----------------------------------------------------------------

function special(d) {
    if (Number.isNaN(d)) return '"NaN"';
    if (d === Infinity) return '"Infinity"';
    if (d === -Infinity) return '"-Infinity"';
    if (d === 0) return Object.is(d, -0) ? '-0' : '0';
    return null;
}

// The exact decimal value of a finite non-zero double: digits (no leading
// zeros) and the decimal exponent of the first digit.
const f64 = new DataView(new ArrayBuffer(8));
function exactDigits(d) {
    f64.setFloat64(0, Math.abs(d));
    const bits = f64.getBigUint64(0);
    const e = Number(bits >> 52n);
    const frac = bits & ((1n << 52n) - 1n);
    const m = e === 0 ? frac : frac | (1n << 52n);
    const exp2 = (e === 0 ? 1 : e) - 1075;
    if (exp2 >= 0) {
        const digits = (m << BigInt(exp2)).toString();
        return { digits, exp: digits.length - 1 };
    }
    const digits = (m * 5n ** BigInt(-exp2)).toString(); // value = digits / 10^-exp2
    return { digits, exp: digits.length - 1 + exp2 };
}

// The exact value rounded to `prec` significant digits, ties to even, as
// glibc's printf("%.*e") rounds (number.c gets its digits from there).
// Trailing zeros dropped.
function roundDigits(x, prec) {
    let { digits, exp } = x;
    if (digits.length > prec) {
        const rest = digits.slice(prec);
        let kept = digits.slice(0, prec);
        const first = rest.charCodeAt(0) - 48;
        const up = first > 5 || (first === 5 && (/[1-9]/.test(rest.slice(1)) ||
            (kept.charCodeAt(prec - 1) - 48) % 2 === 1));
        if (up) {
            const bumped = (BigInt(kept) + 1n).toString();
            if (bumped.length > kept.length) exp++;
            kept = bumped.slice(0, prec);
        }
        digits = kept;
    }
    return { digits: digits.replace(/(?<=.)0+$/, ''), exp };
}

const sciText = (r, neg) => (neg ? '-' : '') + r.digits[0] + '.' + (r.digits.slice(1) || '0') + 'e' + r.exp;

// number.c's layout(): fixed for -4 <= exp < fixedMax, else d.ddde+XX
function layout(neg, d, exp, fixedMax) {
    let o = neg ? '-' : '';
    const n = d.length;
    if (exp >= -4 && exp < fixedMax) {
        if (exp < 0) o += '0.' + '0'.repeat(-exp - 1) + d;
        else if (n <= exp + 1) o += d + '0'.repeat(exp + 1 - n);
        else o += d.slice(0, exp + 1) + '.' + d.slice(exp + 1);
    } else {
        o += d[0] + (n > 1 ? '.' + d.slice(1) : '') + 'e' + (exp < 0 ? '-' : '+') +
            String(Math.abs(exp)).padStart(2, '0');
    }
    return o;
}

const DBL_MIN = 2.2250738585072014e-308;
const FLT_MIN = 1.1754943508222875e-38;

/** DOUBLE as JSON text: 0.1, 3, 1e+300, 1.5e-07, "NaN". */
export function doubleJson(d) {
    const s = special(d);
    if (s !== null) return s;
    const x = exactDigits(d);
    let r;
    for (let prec = Math.abs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        r = roundDigits(x, prec);
        if (Number(sciText(r, d < 0)) === d) break;
    }
    return layout(d < 0, r.digits, r.exp, 15);
}

/** REAL (float32; f is its exact value as a JS number) as JSON text: 0.1,
 * not 0.10000000149011612. Read-back is checked as Math.fround(Number(t)),
 * which can differ from C's strtof only for a decimal within 2^-53 of a
 * float32 rounding midpoint without being on it. */
export function floatJson(f) {
    f = Math.fround(f);
    const s = special(f);
    if (s !== null) return s;
    const x = exactDigits(f);
    let r;
    for (let prec = Math.abs(f) < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        r = roundDigits(x, prec);
        if (Math.fround(Number(sciText(r, f < 0))) === f) break;
    }
    return layout(f < 0, r.digits, r.exp, 6);
}

/** Any integer (number or bigint) with all its digits. */
export function intJson(v) {
    return typeof v === 'bigint' ? v.toString() : String(v);
}

/** DECIMAL: unscaled value (bigint) with exactly `scale` fraction digits. */
export function decimalJson(unscaled, scale) {
    let v = BigInt(unscaled);
    const neg = v < 0n;
    if (neg) v = -v;
    let digits = v.toString();
    if (scale <= 0) return (neg ? '-' : '') + digits;
    if (digits.length <= scale) digits = '0'.repeat(scale + 1 - digits.length) + digits;
    return (neg ? '-' : '') + digits.slice(0, -scale) + '.' + digits.slice(-scale);
}

/** Two's complement big-endian bytes (FIXED_LEN_BYTE_ARRAY / BYTE_ARRAY
 * decimals) to a bigint. */
export function bigintFromBytes(bytes) {
    let v = 0n;
    for (const b of bytes) v = (v << 8n) | BigInt(b);
    if (bytes.length && bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8);
    return v;
}

// ---- dates and times --------------------------------------------------------

export const US_PER_SEC = 1000000n;
export const US_PER_DAY = 86400n * US_PER_SEC;

function floorDiv(a, b) {
    const q = a / b;
    return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

// Howard Hinnant's civil_from_days (as lh_civil_from_days)
function civil(days) {
    const z = BigInt(days) + 719468n;
    const era = floorDiv(z, 146097n);
    const doe = z - era * 146097n;
    const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
    const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
    const mp = (5n * doy + 2n) / 153n;
    const d = doy - (153n * mp + 2n) / 5n + 1n;
    const m = mp < 10n ? mp + 3n : mp - 9n;
    const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
    return { y, m: Number(m), d: Number(d) };
}

const p2 = n => String(n).padStart(2, '0');

// "YYYY-MM-DD" and whether the year is BC (year <= 0 is 1 - year BC)
function ymd(days) {
    const { y, m, d } = civil(days);
    const bc = y <= 0n;
    const year = bc ? 1n - y : y;
    return { text: year.toString().padStart(4, '0') + '-' + p2(m) + '-' + p2(d), bc };
}

function frac(us) {
    if (us === 0n) return '';
    return '.' + us.toString().padStart(6, '0').replace(/0+$/, '');
}

// "HH:MM:SS[.ffffff]" of a non-negative µs count (hours may pass 24)
function hms(us) {
    const secs = us / US_PER_SEC;
    return p2(secs / 3600n) + ':' + p2(secs / 60n % 60n) + ':' + p2(secs % 60n) +
        frac(us % US_PER_SEC);
}

// DuckDB's infinities (also what it writes to Parquet for them):
// DATE ±(2^31 - 1) days, TIMESTAMP ±(2^63 - 1) µs; printed as PostgreSQL
// prints its infinities
const DATE_INF = 2 ** 31 - 1;
const TS_INF = 2n ** 63n - 1n;

/** DATE text from days since 1970-01-01. */
export function dateText(days) {
    if (Math.abs(Number(days)) === DATE_INF) return days > 0 ? 'infinity' : '-infinity';
    const { text, bc } = ymd(days);
    return bc ? text + ' BC' : text;
}

/** TIME text from µs since midnight. */
export function timeText(us) {
    us = BigInt(us);
    return us < 0n ? '-' + hms(-us) : hms(us);
}

/** TIMESTAMP[TZ] text from µs since the epoch (UTC). */
export function timestampText(us, tz) {
    us = BigInt(us);
    if (us === TS_INF || us === -TS_INF) return us > 0n ? 'infinity' : '-infinity';
    const days = floorDiv(us, US_PER_DAY);
    const tod = us - days * US_PER_DAY;
    const { text, bc } = ymd(days);
    return text + ' ' + hms(tod) + (tz ? '+00' : '') + (bc ? ' BC' : '');
}

/** Nanoseconds to µs, dropping the sub-µs digits (floor: the printed
 * digits are cut, also before 1970). */
export function nanosToMicros(ns) {
    return floorDiv(BigInt(ns), 1000n);
}

// PostgreSQL's AddPostgresIntPart
function intervalPart(st, v, unit) {
    if (v === 0n) return;
    st.out += (st.zero ? '' : ' ') + (st.before && v > 0n ? '+' : '') + v.toString() + ' ' +
        unit + (v !== 1n ? 's' : '');
    st.before = v < 0n;
    st.zero = false;
}

/** INTERVAL text (IntervalStyle postgres) from months, days, µs. */
export function intervalText(months, days, micros) {
    months = BigInt(months); days = BigInt(days); micros = BigInt(micros);
    const st = { out: '', zero: true, before: false };
    intervalPart(st, months / 12n, 'year');
    intervalPart(st, months % 12n, 'mon');
    intervalPart(st, days, 'day');
    if (st.zero || micros !== 0n) {
        const minus = micros < 0n;
        st.out += (st.zero ? '' : ' ') + (minus ? '-' : (st.before ? '+' : '')) +
            hms(minus ? -micros : micros);
    }
    return st.out;
}

/** UUID text from its 16 bytes or a 128-bit unsigned bigint. */
export function uuidText(v) {
    let hex;
    if (typeof v === 'bigint') hex = v.toString(16).padStart(32, '0');
    else hex = Array.from(v, b => HEX[b >> 4] + HEX[b & 15]).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** JSON-typed column text embedded as is (an empty text prints null). */
export function embeddedJson(text) {
    return text.length === 0 ? 'null' : text;
}
