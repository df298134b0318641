/*
 * events.c: the events data set of the benchmarks (events.h).
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_event_names[BENCH_EVENT_COLS] = {
    "event_id", "stream",  "version", "type",     "ts",     "tenant",
    "product",  "user_id", "revenue", "quantity", "region", "payload"};

uint64_t
bench_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static lh_type
T(lh_type_id id)
{
    return (lh_type){.id = id};
}

void
bench_events_batch(uint64_t start, uint32_t n, lh_arena *a, lh_batch *b)
{
    static const char *const types[4] = {"placed", "paid", "shipped",
                                         "delivered"};
    static const char *const regions[12] = {
        "us-east",    "us-west",    "eu-west",      "eu-central",
        "ap-south",   "ap-east",    "sa-east",      "af-south",
        "me-central", "ca-central", "ap-southeast", "eu-north"};
    lh_type ts[BENCH_EVENT_COLS] = {
        T(LH_T_VARCHAR),
        T(LH_T_VARCHAR),
        T(LH_T_BIGINT),
        T(LH_T_VARCHAR),
        T(LH_T_TIMESTAMPTZ),
        T(LH_T_VARCHAR),
        T(LH_T_BIGINT),
        T(LH_T_BIGINT),
        (lh_type){.id = LH_T_DECIMAL, .precision = 12, .scale = 2},
        T(LH_T_INTEGER),
        T(LH_T_VARCHAR),
        T(LH_T_JSON)};
    lh_err err;
    b->count = n;
    b->sel = NULL;
    b->ncols = BENCH_EVENT_COLS;
    b->cols = lh_arena_calloc(a, BENCH_EVENT_COLS * sizeof(lh_vector));
    for (int c = 0; c < BENCH_EVENT_COLS; c++) {
        if (lh_vector_alloc(&b->cols[c], ts[c], n, c == 11, a, &err) != LH_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
    }
    lh_str *eid = b->cols[0].data, *stream = b->cols[1].data;
    int64_t *ver = b->cols[2].data;
    lh_str *type = b->cols[3].data;
    int64_t *tsv = b->cols[4].data;
    lh_str *tenant = b->cols[5].data;
    int64_t *prod = b->cols[6].data, *user = b->cols[7].data,
            *rev = b->cols[8].data;
    int32_t *qty = b->cols[9].data;
    lh_str *region = b->cols[10].data, *payload = b->cols[11].data;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t row = start + i;
        uint64_t h = bench_mix(row + 1), h2 = bench_mix(h);
        uint64_t order = row / 4;
        char *s = lh_arena_alloc(a, 37);
        snprintf(s, 37, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(h >> 32),
                 (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
                 (unsigned)(h2 >> 52),
                 (unsigned long long)(h2 & 0xffffffffffffull));
        eid[i] = lh_str_make(s, 36);
        char *st = lh_arena_alloc(a, 16);
        int sl = snprintf(st, 16, "order-%08llu", (unsigned long long)order);
        stream[i] = lh_str_make(st, (uint32_t)sl);
        ver[i] = (int64_t)(row % 4) + 1;
        type[i] = lh_str_make(types[row % 4], (uint32_t)strlen(types[row % 4]));
        tsv[i] = 1767225600000000ll + (int64_t)row * 30000000 +
                 (int64_t)(h % 997) * 1000;
        char *tn = lh_arena_alloc(a, 12);
        int tl =
            snprintf(tn, 12, "tenant-%03u", (unsigned)(bench_mix(order) % 100));
        tenant[i] = lh_str_make(tn, (uint32_t)tl);
        prod[i] = (int64_t)(bench_mix(order + 7) % 10000);
        user[i] = (int64_t)(bench_mix(order + 13) % 100000);
        qty[i] = (int32_t)(h2 % 10) + 1;
        rev[i] = (int64_t)(h % 50000) * qty[i];
        const char *r = regions[bench_mix(order + 3) % 12];
        region[i] = lh_str_make(r, (uint32_t)strlen(r));
        if (h % 20 == 0) {
            lh_bit_set(b->cols[11].validity, i, false);
            payload[i] = lh_str_make("", 0);
        } else {
            char *p = lh_arena_alloc(a, 96);
            int pl = snprintf(p, 96,
                              "{\"sku\":\"SKU-%05u\",\"coupon\":%s,"
                              "\"channel\":\"%s\"}",
                              (unsigned)prod[i], h % 3 ? "null" : "\"SAVE10\"",
                              h2 % 2 ? "web" : "app");
            payload[i] = lh_str_make(p, (uint32_t)pl);
        }
    }
}
