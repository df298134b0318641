/*
 * fuzz_parquet_file: the whole Parquet reader (format/parquet/parquet.h) on
 * a file in memory: open (footer, schema mapping), then a scan of every
 * column, every row rendered as JSON, once with page CRCs checked and once
 * without (so mutated pages reach the decoders), then a scan with a
 * predicate on the first primitive column (statistics, bloom filters).
 *
 * Whatever happens, it is LH_OK or an error with a message; a scan that
 * succeeds returns no more rows than its row groups claim.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
scan(lh_pq_file *f, const lh_pq_scan_opts *o)
{
    lh_err err;
    lh_pq_scan *s = NULL;
    int64_t claimed = 0;
    for (uint32_t g = 0; g < lh_pq_meta(f)->n_row_groups; g++) {
        claimed += lh_pq_meta(f)->row_groups[g].num_rows;
    }
    if (lh_pq_scan_open(f, o, &s, &err) != LH_OK) {
        if (err.msg[0] == 0) {
            abort();
        }
        return;
    }
    lh_buf b;
    lh_buf_init(&b);
    int64_t rows = 0;
    for (;;) {
        lh_batch batch;
        lh_rc rc = lh_pq_scan_next(s, &batch, &err);
        if (rc != LH_OK) {
            if (err.msg[0] == 0) {
                fprintf(stderr, "fuzz_parquet_file: %s without a message\n",
                        lh_rc_name(rc));
                abort();
            }
            break;
        }
        if (batch.count == 0) {
            break;
        }
        rows += batch.count;
        for (uint32_t c = 0; c < batch.ncols; c++) {
            for (uint32_t r = 0; r < batch.count; r++) {
                lh_buf_reset(&b);
                lh_vector_to_json(&batch.cols[c], r, &b);
            }
        }
    }
    if (rows > claimed) {
        fprintf(stderr,
                "fuzz_parquet_file: %lld rows from row groups of "
                "%lld\n",
                (long long)rows, (long long)claimed);
        abort();
    }
    lh_buf_release(&b);
    lh_pq_scan_close(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_err err;
    lh_pq_file *f = NULL;
    if (lh_pq_open_mem(data, size, "fuzz", &f, &err) != LH_OK) {
        if (err.msg[0] == 0) {
            abort();
        }
        return 0;
    }
    lh_pq_scan_opts o = {.batch_rows = 0};
    scan(f, &o);
    o.skip_crc = true;
    o.batch_rows = 7; /* batches that cut rows across pages */
    o.keep_dict = true;
    scan(f, &o);
    for (uint32_t i = 0; i < lh_pq_ncolumns(f); i++) {
        const lh_pq_node *n = lh_pq_column(f, i);
        if (n->leaf < 0) {
            continue;
        }
        lh_value v;
        memset(&v, 0, sizeof v);
        v.type = n->type;
        v.u.s.p = "x";
        v.u.s.len = 1;
        lh_pq_pred p = {
            .column = i, .op = LH_PQ_EQ, .values = &v, .nvalues = 1};
        lh_pq_scan_opts po = {.preds = &p, .npreds = 1, .skip_crc = true};
        scan(f, &po);
        break;
    }
    lh_pq_close(f);
    return 0;
}
