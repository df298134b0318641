/*
 * tpch_gen.c: the TPC-H tables as Parquet (tpch_gen.h).
 */
#include "tpch_gen.h"

#include <stdio.h>
#include <string.h>

#include "column/batch.h"
#include "format/parquet/writer.h"

const char *const lh_tpch_tables[8] = {"region",   "nation",  "supplier",
                                       "customer", "part",    "partsupp",
                                       "orders",   "lineitem"};

/* ---- random streams ------------------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t
rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t
rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- a table being written ------------------------------------------------
 */

#define MAXCOLS 16

typedef struct table {
    const char *name;
    lh_pq_writer *w;
    lh_arena a;
    lh_batch b;
    lh_vector cols[MAXCOLS];
    lh_type types[MAXCOLS];
    uint32_t ncols;
    uint32_t col; /* next column of the current row */
    char path[4096];
} table;

static lh_type
ty(lh_type_id id)
{
    return (lh_type){.id = id};
}

static lh_type
money(void)
{
    return (lh_type){.id = LH_T_DECIMAL, .precision = 15, .scale = 2};
}

static lh_rc
start_batch(table *t, lh_err *err)
{
    lh_arena_reset(&t->a);
    for (uint32_t c = 0; c < t->ncols; c++) {
        lh_rc rc = lh_vector_alloc(&t->cols[c], t->types[c], LH_BATCH_ROWS,
                                   false, &t->a, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    t->b = (lh_batch){.count = 0, .ncols = t->ncols, .cols = t->cols};
    t->col = 0;
    return LH_OK;
}

static lh_rc
table_open(table *t, const char *dir, const char *name,
           const char *const *names, const lh_type *types, uint32_t ncols,
           uint64_t rg_rows, lh_err *err)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->ncols = ncols;
    lh_arena_init(&t->a, 0);
    lh_pq_wcolumn wc[MAXCOLS];
    memset(wc, 0, sizeof wc);
    for (uint32_t c = 0; c < ncols; c++) {
        t->types[c] = types[c];
        wc[c].name = names[c];
        wc[c].type = types[c];
    }
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.threads = 1;
    if (rg_rows) {
        o.row_group_rows = rg_rows;
    }
    snprintf(t->path, sizeof t->path, "%s/%s.parquet", dir, name);
    lh_rc rc = lh_pq_writer_open_path(t->path, wc, ncols, &o, &t->w, err);
    if (rc == LH_OK) {
        rc = start_batch(t, err);
    }
    return rc;
}

static lh_rc
table_flush(table *t, lh_err *err)
{
    if (t->b.count == 0) {
        return LH_OK;
    }
    lh_rc rc = lh_pq_writer_write(t->w, &t->b, err);
    return rc == LH_OK ? start_batch(t, err) : rc;
}

/* Ends the current row (every column given). */
static lh_rc
row_end(table *t, lh_err *err)
{
    t->col = 0;
    if (++t->b.count == LH_BATCH_ROWS) {
        return table_flush(t, err);
    }
    return LH_OK;
}

static void
put_i64(table *t, int64_t v)
{
    lh_vector *c = &t->cols[t->col++];
    ((int64_t *)c->data)[t->b.count] = v; /* BIGINT, DECIMAL(15,2) */
}

static void
put_i32(table *t, int32_t v)
{
    lh_vector *c = &t->cols[t->col++];
    ((int32_t *)c->data)[t->b.count] = v; /* INTEGER, DATE */
}

static void
put_str(table *t, const char *s, size_t n)
{
    lh_vector *c = &t->cols[t->col++];
    char *p = lh_arena_alloc(&t->a, n ? n : 1);
    if (p == NULL) {
        n = 0; /* the writer's arena failing shows as an empty string;
                  lh_arena_alloc has no budget here, so it cannot */
    } else {
        memcpy(p, s, n);
    }
    ((lh_str *)c->data)[t->b.count] = lh_str_make(p, (uint32_t)n);
}

static void
put_cstr(table *t, const char *s)
{
    put_str(t, s, strlen(s));
}

static lh_rc
table_close(table *t, lh_rc rc, lh_err *err)
{
    if (rc == LH_OK) {
        rc = table_flush(t, err);
    }
    if (rc == LH_OK) {
        rc = lh_pq_writer_close(t->w, err);
    } else {
        lh_pq_writer_abort(t->w);
    }
    lh_arena_release(&t->a);
    return rc;
}

/* ---- the specification's word lists ----------------------------------------
 */

static const char *const colors[] = {
    "almond",    "antique",   "aquamarine", "azure",      "beige",
    "bisque",    "black",     "blanched",   "blue",       "blush",
    "brown",     "burlywood", "burnished",  "chartreuse", "chiffon",
    "chocolate", "coral",     "cornflower", "cornsilk",   "cream",
    "cyan",      "dark",      "deep",       "dim",        "dodger",
    "drab",      "firebrick", "floral",     "forest",     "frosted",
    "gainsboro", "ghost",     "goldenrod",  "green",      "grey",
    "honeydew",  "hot",       "indian",     "ivory",      "khaki",
    "lace",      "lavender",  "lawn",       "lemon",      "light",
    "lime",      "linen",     "magenta",    "maroon",     "medium",
    "metallic",  "midnight",  "mint",       "misty",      "moccasin",
    "navajo",    "navy",      "olive",      "orange",     "orchid",
    "pale",      "papaya",    "peach",      "peru",       "pink",
    "plum",      "powder",    "puff",       "purple",     "red",
    "rose",      "rosy",      "royal",      "saddle",     "salmon",
    "sandy",     "seashell",  "sienna",     "sky",        "slate",
    "smoke",     "snow",      "spring",     "steel",      "tan",
    "thistle",   "tomato",    "turquoise",  "violet",     "wheat",
    "white",     "yellow"};
#define NCOLORS (sizeof colors / sizeof colors[0])

static const char *const type_s1[] = {"STANDARD", "SMALL",   "MEDIUM",
                                      "LARGE",    "ECONOMY", "PROMO"};
static const char *const type_s2[] = {"ANODIZED", "BURNISHED", "PLATED",
                                      "POLISHED", "BRUSHED"};
static const char *const type_s3[] = {"TIN", "NICKEL", "BRASS", "STEEL",
                                      "COPPER"};
static const char *const cont_s1[] = {"SM", "LG", "MED", "JUMBO", "WRAP"};
static const char *const cont_s2[] = {"CASE", "BOX",  "BAG", "JAR",
                                      "PKG",  "PACK", "CAN", "DRUM"};
static const char *const segments[] = {"AUTOMOBILE", "BUILDING", "FURNITURE",
                                       "MACHINERY", "HOUSEHOLD"};
static const char *const priorities[] = {"1-URGENT", "2-HIGH", "3-MEDIUM",
                                         "4-NOT SPECIFIED", "5-LOW"};
static const char *const instructs[] = {"DELIVER IN PERSON", "COLLECT COD",
                                        "NONE", "TAKE BACK RETURN"};
static const char *const modes[] = {"REG AIR", "AIR",  "RAIL", "SHIP",
                                    "TRUCK",   "MAIL", "FOB"};
static const char *const regions[] = {"AFRICA", "AMERICA", "ASIA", "EUROPE",
                                      "MIDDLE EAST"};
static const struct {
    const char *name;
    int region;
} nations[25] = {
    {"ALGERIA", 0},      {"ARGENTINA", 1}, {"BRAZIL", 1}, {"CANADA", 1},
    {"EGYPT", 4},        {"ETHIOPIA", 0},  {"FRANCE", 3}, {"GERMANY", 3},
    {"INDIA", 2},        {"INDONESIA", 2}, {"IRAN", 4},   {"IRAQ", 4},
    {"JAPAN", 2},        {"JORDAN", 4},    {"KENYA", 0},  {"MOROCCO", 0},
    {"MOZAMBIQUE", 0},   {"PERU", 1},      {"CHINA", 2},  {"ROMANIA", 3},
    {"SAUDI ARABIA", 4}, {"VIETNAM", 2},   {"RUSSIA", 3}, {"UNITED KINGDOM", 3},
    {"UNITED STATES", 1}};
/* Comment words (a short list in the spirit of the spec's grammar). */
static const char *const words[] = {
    "furiously", "quickly",   "carefully",  "blithely",     "slyly",
    "ironic",    "final",     "regular",    "express",      "pending",
    "bold",      "even",      "silent",     "special",      "unusual",
    "packages",  "requests",  "deposits",   "accounts",     "theodolites",
    "pinto",     "beans",     "foxes",      "instructions", "dependencies",
    "excuses",   "platelets", "asymptotes", "courts",       "dolphins",
    "ideas",     "sleep",     "wake",       "are",          "haggle",
    "nag",       "use",       "boost",      "affix",        "detect",
    "integrate", "cajole",    "among",      "across",       "above",
    "against",   "along",     "the"};
#define NWORDS (sizeof words / sizeof words[0])

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Random words, lo..hi characters (cut at a word boundary). */
static size_t
comment(rng *r, char *buf, size_t lo, size_t hi)
{
    size_t target = (size_t)rng_range(r, (int64_t)lo, (int64_t)hi), n = 0;
    while (n < target) {
        const char *w = words[rng_next(r) % NWORDS];
        size_t wl = strlen(w);
        if (n + wl + 1 > hi) {
            break;
        }
        if (n) {
            buf[n++] = ' ';
        }
        memcpy(buf + n, w, wl);
        n += wl;
    }
    buf[n] = 0;
    return n;
}

/* The spec's V-string: random alphanumerics, lo..hi long. */
static size_t
vstring(rng *r, char *buf, size_t lo, size_t hi)
{
    static const char an[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,. ";
    size_t n = (size_t)rng_range(r, (int64_t)lo, (int64_t)hi);
    for (size_t i = 0; i < n; i++) {
        buf[i] = an[rng_next(r) % (sizeof an - 1)];
    }
    buf[n] = 0;
    return n;
}

static size_t
phone(rng *r, int nation, char *buf)
{
    return (size_t)snprintf(buf, 32, "%02d-%03d-%03d-%04d", nation + 10,
                            (int)rng_range(r, 100, 999),
                            (int)rng_range(r, 100, 999),
                            (int)rng_range(r, 1000, 9999));
}

/* p_retailprice in cents (the spec's formula). */
static int64_t
retail_cents(int64_t partkey)
{
    return 90000 + ((partkey / 10) % 20001) + 100 * (partkey % 1000);
}

/* The spec's supplier of part p's i-th partsupp row (i in 0..3). */
static int64_t
ps_supp(int64_t p, int i, int64_t nsupp)
{
    return (p + (i * ((nsupp / 4) + (p - 1) / nsupp))) % nsupp + 1;
}

/* ---- the tables ------------------------------------------------------------
 */

static lh_rc
gen_region(const char *dir, uint64_t rg, lh_err *err)
{
    static const char *const nm[] = {"r_regionkey", "r_name", "r_comment"};
    const lh_type tp[] = {ty(LH_T_INTEGER), ty(LH_T_VARCHAR), ty(LH_T_VARCHAR)};
    table t;
    rng r = {1};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "region", nm, tp, 3, rg, err);
    for (int i = 0; i < 5 && rc == LH_OK; i++) {
        put_i32(&t, i);
        put_cstr(&t, regions[i]);
        put_str(&t, buf, comment(&r, buf, 31, 115));
        rc = row_end(&t, err);
    }
    return table_close(&t, rc, err);
}

static lh_rc
gen_nation(const char *dir, uint64_t rg, lh_err *err)
{
    static const char *const nm[] = {"n_nationkey", "n_name", "n_regionkey",
                                     "n_comment"};
    const lh_type tp[] = {ty(LH_T_INTEGER), ty(LH_T_VARCHAR), ty(LH_T_INTEGER),
                          ty(LH_T_VARCHAR)};
    table t;
    rng r = {2};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "nation", nm, tp, 4, rg, err);
    for (int i = 0; i < 25 && rc == LH_OK; i++) {
        put_i32(&t, i);
        put_cstr(&t, nations[i].name);
        put_i32(&t, nations[i].region);
        put_str(&t, buf, comment(&r, buf, 31, 114));
        rc = row_end(&t, err);
    }
    return table_close(&t, rc, err);
}

static lh_rc
gen_supplier(const char *dir, int64_t n, uint64_t rg, lh_err *err)
{
    static const char *const nm[] = {"s_suppkey",   "s_name",  "s_address",
                                     "s_nationkey", "s_phone", "s_acctbal",
                                     "s_comment"};
    const lh_type tp[] = {ty(LH_T_BIGINT),  ty(LH_T_VARCHAR), ty(LH_T_VARCHAR),
                          ty(LH_T_INTEGER), ty(LH_T_VARCHAR), money(),
                          ty(LH_T_VARCHAR)};
    table t;
    rng r = {3};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "supplier", nm, tp, 7, rg, err);
    for (int64_t k = 1; k <= n && rc == LH_OK; k++) {
        int nation = (int)rng_range(&r, 0, 24);
        put_i64(&t, k);
        snprintf(buf, sizeof buf, "Supplier#%09lld", (long long)k);
        put_cstr(&t, buf);
        put_str(&t, buf, vstring(&r, buf, 10, 40));
        put_i32(&t, nation);
        put_str(&t, buf, phone(&r, nation, buf));
        put_i64(&t, rng_range(&r, -99999, 999999));
        size_t cl = comment(&r, buf, 25, 100);
        if (k % 20 == 7) { /* the spec's 5 per 10,000 BBB complaints,
                              more often so that q16 sees some */
            cl = (size_t)snprintf(buf, sizeof buf,
                                  "%s Customer slyly Complaints %s",
                                  words[k % NWORDS], words[(k / 3) % NWORDS]);
        }
        put_str(&t, buf, cl);
        rc = row_end(&t, err);
    }
    return table_close(&t, rc, err);
}

static lh_rc
gen_customer(const char *dir, int64_t n, uint64_t rg, lh_err *err)
{
    static const char *const nm[] = {"c_custkey",    "c_name",   "c_address",
                                     "c_nationkey",  "c_phone",  "c_acctbal",
                                     "c_mktsegment", "c_comment"};
    const lh_type tp[] = {ty(LH_T_BIGINT),  ty(LH_T_VARCHAR), ty(LH_T_VARCHAR),
                          ty(LH_T_INTEGER), ty(LH_T_VARCHAR), money(),
                          ty(LH_T_VARCHAR), ty(LH_T_VARCHAR)};
    table t;
    rng r = {4};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "customer", nm, tp, 8, rg, err);
    for (int64_t k = 1; k <= n && rc == LH_OK; k++) {
        int nation = (int)rng_range(&r, 0, 24);
        put_i64(&t, k);
        snprintf(buf, sizeof buf, "Customer#%09lld", (long long)k);
        put_cstr(&t, buf);
        put_str(&t, buf, vstring(&r, buf, 10, 40));
        put_i32(&t, nation);
        put_str(&t, buf, phone(&r, nation, buf));
        put_i64(&t, rng_range(&r, -99999, 999999));
        put_cstr(&t, segments[rng_next(&r) % N(segments)]);
        put_str(&t, buf, comment(&r, buf, 29, 116));
        rc = row_end(&t, err);
    }
    return table_close(&t, rc, err);
}

static lh_rc
gen_part(const char *dir, int64_t n, uint64_t rg, lh_err *err)
{
    static const char *const nm[] = {
        "p_partkey", "p_name",      "p_mfgr",        "p_brand",  "p_type",
        "p_size",    "p_container", "p_retailprice", "p_comment"};
    const lh_type tp[] = {ty(LH_T_BIGINT),  ty(LH_T_VARCHAR), ty(LH_T_VARCHAR),
                          ty(LH_T_VARCHAR), ty(LH_T_VARCHAR), ty(LH_T_INTEGER),
                          ty(LH_T_VARCHAR), money(),          ty(LH_T_VARCHAR)};
    table t;
    rng r = {5};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "part", nm, tp, 9, rg, err);
    for (int64_t k = 1; k <= n && rc == LH_OK; k++) {
        put_i64(&t, k);
        /* five distinct colours */
        size_t bl = 0;
        int used[5];
        for (int i = 0; i < 5; i++) {
            int c;
            bool again;
            do {
                c = (int)(rng_next(&r) % NCOLORS);
                again = false;
                for (int j = 0; j < i; j++) {
                    again |= used[j] == c;
                }
            } while (again);
            used[i] = c;
            bl += (size_t)snprintf(buf + bl, sizeof buf - bl, "%s%s",
                                   i ? " " : "", colors[c]);
        }
        put_str(&t, buf, bl);
        int m = (int)rng_range(&r, 1, 5);
        snprintf(buf, sizeof buf, "Manufacturer#%d", m);
        put_cstr(&t, buf);
        snprintf(buf, sizeof buf, "Brand#%d%d", m, (int)rng_range(&r, 1, 5));
        put_cstr(&t, buf);
        snprintf(buf, sizeof buf, "%s %s %s", type_s1[rng_next(&r) % 6],
                 type_s2[rng_next(&r) % 5], type_s3[rng_next(&r) % 5]);
        put_cstr(&t, buf);
        put_i32(&t, (int32_t)rng_range(&r, 1, 50));
        snprintf(buf, sizeof buf, "%s %s", cont_s1[rng_next(&r) % 5],
                 cont_s2[rng_next(&r) % 8]);
        put_cstr(&t, buf);
        put_i64(&t, retail_cents(k));
        put_str(&t, buf, comment(&r, buf, 5, 22));
        rc = row_end(&t, err);
    }
    return table_close(&t, rc, err);
}

static lh_rc
gen_partsupp(const char *dir, int64_t nparts, int64_t nsupp, uint64_t rg,
             lh_err *err)
{
    static const char *const nm[] = {"ps_partkey", "ps_suppkey", "ps_availqty",
                                     "ps_supplycost", "ps_comment"};
    const lh_type tp[] = {ty(LH_T_BIGINT), ty(LH_T_BIGINT), ty(LH_T_BIGINT),
                          money(), ty(LH_T_VARCHAR)};
    table t;
    rng r = {6};
    char buf[256];
    lh_rc rc = table_open(&t, dir, "partsupp", nm, tp, 5, rg, err);
    for (int64_t p = 1; p <= nparts && rc == LH_OK; p++) {
        for (int i = 0; i < 4 && rc == LH_OK; i++) {
            put_i64(&t, p);
            put_i64(&t, ps_supp(p, i, nsupp));
            put_i64(&t, rng_range(&r, 1, 9999));
            put_i64(&t, rng_range(&r, 100, 100000));
            put_str(&t, buf, comment(&r, buf, 49, 198));
            rc = row_end(&t, err);
        }
    }
    return table_close(&t, rc, err);
}

/* Orders and their lines, together (the order's status and total come
 * from its lines). */
static lh_rc
gen_orders(const char *dir, int64_t norders, int64_t ncust, int64_t nparts,
           int64_t nsupp, double sf, uint64_t rg, lh_err *err)
{
    static const char *const onm[] = {
        "o_orderkey",   "o_custkey",      "o_orderstatus",
        "o_totalprice", "o_orderdate",    "o_orderpriority",
        "o_clerk",      "o_shippriority", "o_comment"};
    const lh_type otp[] = {
        ty(LH_T_BIGINT),  ty(LH_T_BIGINT),  ty(LH_T_VARCHAR),
        money(),          ty(LH_T_DATE),    ty(LH_T_VARCHAR),
        ty(LH_T_VARCHAR), ty(LH_T_INTEGER), ty(LH_T_VARCHAR)};
    static const char *const lnm[] = {
        "l_orderkey",    "l_partkey",       "l_suppkey",  "l_linenumber",
        "l_quantity",    "l_extendedprice", "l_discount", "l_tax",
        "l_returnflag",  "l_linestatus",    "l_shipdate", "l_commitdate",
        "l_receiptdate", "l_shipinstruct",  "l_shipmode", "l_comment"};
    const lh_type ltp[] = {
        ty(LH_T_BIGINT),  ty(LH_T_BIGINT),  ty(LH_T_BIGINT),  ty(LH_T_BIGINT),
        money(),          money(),          money(),          money(),
        ty(LH_T_VARCHAR), ty(LH_T_VARCHAR), ty(LH_T_DATE),    ty(LH_T_DATE),
        ty(LH_T_DATE),    ty(LH_T_VARCHAR), ty(LH_T_VARCHAR), ty(LH_T_VARCHAR)};
    table o, l;
    lh_rc rc = table_open(&o, dir, "orders", onm, otp, 9, rg, err);
    if (rc != LH_OK) {
        return table_close(&o, rc, err);
    }
    rc = table_open(&l, dir, "lineitem", lnm, ltp, 16, rg, err);
    if (rc != LH_OK) {
        table_close(&l, rc, err);
        return table_close(&o, rc, err);
    }
    rng r = {7};
    const int32_t start = (int32_t)lh_days_from_civil(1992, 1, 1);
    const int32_t end = (int32_t)lh_days_from_civil(1998, 12, 31) - 151;
    const int32_t current = (int32_t)lh_days_from_civil(1995, 6, 17);
    int64_t nclerks = (int64_t)(sf * 1000) > 0 ? (int64_t)(sf * 1000) : 1;
    char buf[256];
    for (int64_t i = 1; i <= norders && rc == LH_OK; i++) {
        int64_t key = ((i - 1) / 8) * 32 + (i - 1) % 8 + 1;
        int64_t cust;
        do {
            cust = rng_range(&r, 1, ncust);
        } while (cust % 3 == 0 && ncust > 2);
        int32_t odate = (int32_t)rng_range(&r, start, end);
        int nlines = (int)rng_range(&r, 1, 7);
        int64_t total = 0; /* cents * 10^4 (price, discount and tax) */
        int nf = 0;
        for (int ln = 1; ln <= nlines && rc == LH_OK; ln++) {
            int64_t part = rng_range(&r, 1, nparts);
            int64_t supp = ps_supp(part, (int)rng_range(&r, 0, 3), nsupp);
            int64_t qty = rng_range(&r, 1, 50);
            int64_t ext = qty * retail_cents(part);
            int64_t disc = rng_range(&r, 0, 10), tax = rng_range(&r, 0, 8);
            int32_t ship = odate + (int32_t)rng_range(&r, 1, 121);
            int32_t commit = odate + (int32_t)rng_range(&r, 30, 90);
            int32_t receipt = ship + (int32_t)rng_range(&r, 1, 30);
            total += ext * (100 - disc) * (100 + tax);
            put_i64(&l, key);
            put_i64(&l, part);
            put_i64(&l, supp);
            put_i64(&l, ln);
            put_i64(&l, qty * 100);
            put_i64(&l, ext);
            put_i64(&l, disc);
            put_i64(&l, tax);
            put_cstr(&l,
                     receipt <= current ? (rng_next(&r) & 1 ? "R" : "A") : "N");
            bool f = ship <= current;
            nf += f;
            put_cstr(&l, f ? "F" : "O");
            put_i32(&l, ship);
            put_i32(&l, commit);
            put_i32(&l, receipt);
            put_cstr(&l, instructs[rng_next(&r) % N(instructs)]);
            put_cstr(&l, modes[rng_next(&r) % N(modes)]);
            put_str(&l, buf, comment(&r, buf, 10, 43));
            rc = row_end(&l, err);
        }
        if (rc != LH_OK) {
            break;
        }
        put_i64(&o, key);
        put_i64(&o, cust);
        put_cstr(&o, nf == nlines ? "F" : nf == 0 ? "O" : "P");
        put_i64(&o, (total + 5000) / 10000);
        put_i32(&o, odate);
        put_cstr(&o, priorities[rng_next(&r) % N(priorities)]);
        snprintf(buf, sizeof buf, "Clerk#%09lld",
                 (long long)rng_range(&r, 1, nclerks));
        put_cstr(&o, buf);
        put_i32(&o, 0);
        size_t cl = comment(&r, buf, 19, 78);
        put_str(&o, buf, cl);
        rc = row_end(&o, err);
    }
    lh_rc rc2 = table_close(&l, rc, err);
    return table_close(&o, rc == LH_OK ? rc2 : rc, err);
}

lh_rc
lh_tpch_generate(const char *dir, double sf, uint64_t rg, lh_err *err)
{
    if (!(sf > 0) || sf > 1000) {
        return lh_err_set(err, LH_EINVAL,
                          "TPC-H scale factor %g is out of range (0, 1000]",
                          sf);
    }
    int64_t nsupp = (int64_t)(sf * 10000), ncust = (int64_t)(sf * 150000),
            nparts = (int64_t)(sf * 200000), norders = (int64_t)(sf * 1500000);
    nsupp = nsupp < 4 ? 4 : nsupp;
    ncust = ncust < 3 ? 3 : ncust;
    nparts = nparts < 1 ? 1 : nparts;
    norders = norders < 1 ? 1 : norders;
    lh_rc rc = gen_region(dir, rg, err);
    if (rc == LH_OK) {
        rc = gen_nation(dir, rg, err);
    }
    if (rc == LH_OK) {
        rc = gen_supplier(dir, nsupp, rg, err);
    }
    if (rc == LH_OK) {
        rc = gen_customer(dir, ncust, rg, err);
    }
    if (rc == LH_OK) {
        rc = gen_part(dir, nparts, rg, err);
    }
    if (rc == LH_OK) {
        rc = gen_partsupp(dir, nparts, nsupp, rg, err);
    }
    if (rc == LH_OK) {
        rc = gen_orders(dir, norders, ncust, nparts, nsupp, sf, rg, err);
    }
    return rc;
}
