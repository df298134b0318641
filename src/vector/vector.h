/*
 * vector: vector *search* (column vectors are column/). Distance kernels,
 * the MRL-like data generator, HNSW (hot tier), k-means and IVF-PQ (warm
 * tier), the clustered scan (cold tier) and the tiered search that merges
 * them. The design and every file format, byte by byte, are at the top of
 * vector_int.h.
 *
 * Vectors are float32 arrays of `dim` values (1 <= dim <= LH_VEC_MAX_DIM),
 * borrowed for the length of a call unless a function says otherwise.
 *
 * ---- "the same answer" --------------------------------------------------
 * Every float32 kernel (scalar, AVX2, AVX-512) returns BITWISE the same
 * float for finite input. They all sum in one fixed order: element i goes
 * to lane i % 64 of 64 partial sums, each lane accumulates with a fused
 * multiply-add (fmaf in the scalar code, exactly rounded by IEEE 754, so
 * the same as the vfmadd instructions), and the 64 lanes are reduced by one
 * fixed tree (vector_int.h). float16 kernels convert exactly to float32 and
 * then do the same, so they equal the float32 kernel on the converted
 * vector. int8 kernels are exact integer arithmetic.
 * Non-finite input: a NaN anywhere gives NaN (payload unspecified);
 * infinities give what IEEE arithmetic gives in that order (inf or NaN).
 * Every implementation gives a result of the same class (the tests check
 * this with isnan/isinf). Indexes refuse non-finite vectors (LH_EINVAL), so
 * searches never see them.
 *
 * Cosine distance is 1 - a.b / (|a| |b|), clamped to [0, 2]; a zero vector
 * is at distance 1 from everything (also from another zero vector): never
 * NaN, so it sorts and the indexes stay ordered.
 *
 * Thread rules: kernels are pure functions. Index handles document their
 * own rules (hnsw: many searchers beside inserters, see lh_hnsw_new).
 */
#ifndef LH_VECTOR_H
#define LH_VECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Dimensions any kernel or index accepts (the hot tier's embedding limit);
 * int8 sums stay exact in int32 lanes up to this. */
#define LH_VEC_MAX_DIM 65536

typedef enum lh_vec_metric {
    LH_VEC_L2 = 0,  /* squared Euclidean distance (sqrtf gives pgvector <->) */
    LH_VEC_IP = 1,  /* negative inner product (pgvector <#>) */
    LH_VEC_COS = 2, /* cosine distance (pgvector <=>) */
} lh_vec_metric;

/* "l2", "ip", "cosine"; lh_vec_metric_parse returns LH_EINVAL naming the
 * text when it is none of them. */
const char *lh_vec_metric_name(lh_vec_metric m);
lh_rc lh_vec_metric_parse(const char *s, lh_vec_metric *out, lh_err *err);

/* ---- kernels ---- */

typedef enum lh_vec_isa {
    LH_VEC_ISA_SCALAR = 0,
    LH_VEC_ISA_AVX2 = 1,   /* AVX2 + FMA + F16C */
    LH_VEC_ISA_AVX512 = 2, /* AVX-512 F, BW, VL, DQ (+ FMA, F16C) */
    LH_VEC_ISA_COUNT = 3,
} lh_vec_isa;

/* One implementation of every kernel (a const table per instruction set,
 * like sqlite3_io_methods). Lengths are in elements. */
typedef struct lh_vec_kernels {
    const char *name; /* "scalar", "avx2", "avx512" */
    float (*l2sq)(const float *a, const float *b, size_t dim);
    float (*dot)(const float *a, const float *b, size_t dim);
    float (*cos_dist)(const float *a, const float *b, size_t dim);
    /* q float32, v float16 (IEEE binary16 bits) */
    float (*l2sq_f16)(const float *q, const uint16_t *v, size_t dim);
    float (*dot_f16)(const float *q, const uint16_t *v, size_t dim);
    float (*cos_dist_f16)(const float *q, const uint16_t *v, size_t dim);
    /* exact integer results */
    int64_t (*l2sq_i8)(const int8_t *a, const int8_t *b, size_t dim);
    int64_t (*dot_i8)(const int8_t *a, const int8_t *b, size_t dim);
    /* round to nearest even; NaN stays NaN (quieted), overflow gives inf */
    void (*f32_to_f16)(const float *in, size_t n, uint16_t *out);
    void (*f16_to_f32)(const uint16_t *in, size_t n, float *out);
    /* PQ asymmetric distance scan over n codes of m bytes in blocks of 16
     * (code byte j of code i at codes[(i / 16) * 16 * m + j * 16 + i % 16];
     * the last block padded to 16 codes, so the array holds
     * ceil(n / 16) * 16 * m bytes): out[i] = base + sum_j lut[j * 256 +
     * code_j], summed j = 0, 1, ... in order (every implementation agrees
     * bit for bit). */
    void (*pq_scan)(const float *lut, size_t m, const uint8_t *codes, size_t n,
                    float base, float *out);
    /* x against 16 vectors stored transposed (ct[d * 16 + c]):
     * out[c] = sum over d of (x[d] - ct[d * 16 + c])^2 (l2sq_x16) or
     * x[d] * ct[d * 16 + c] (dot_x16), accumulated by fmaf into four sums
     * by d % 4 and combined (s0 + s1) + (s2 + s3) (every table agrees).
     * k-means, coarse quantizers and PQ tables use these. */
    void (*l2sq_x16)(const float *x, const float *ct, size_t dim, float *out);
    void (*dot_x16)(const float *x, const float *ct, size_t dim, float *out);
} lh_vec_kernels;

/* True if this CPU runs isa (scalar always). */
bool lh_vec_isa_supported(lh_vec_isa isa);
/* The table of isa, or NULL if this build or CPU lacks it. */
const lh_vec_kernels *lh_vec_kernels_for(lh_vec_isa isa);
/* The best table this CPU runs; the environment variable LH_VEC_ISA
 * (scalar|avx2|avx512) may lower the choice (benchmarks, tests). */
const lh_vec_kernels *lh_vec_kernels_best(void);

/* Convenience calls through lh_vec_kernels_best(). */
float lh_vec_l2sq(const float *a, const float *b, size_t dim);
float lh_vec_dot(const float *a, const float *b, size_t dim);
float lh_vec_cos_dist(const float *a, const float *b, size_t dim);

/* The metric's distance (L2: squared; IP: -dot; COS: cosine distance)
 * through table k. */
float lh_vec_dist(const lh_vec_kernels *k, lh_vec_metric m, const float *a,
                  const float *b, size_t dim);
/* One query against n vectors at base + i * stride (stride in floats,
 * >= dim): out[i] = lh_vec_dist(k, m, q, base + i * stride, dim). */
void lh_vec_dist_many(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
                      const float *base, size_t n, size_t stride, size_t dim,
                      float *out);
/* The same over chosen rows: out[i] against base + rows[i] * stride. */
void lh_vec_dist_rows(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
                      const float *base, size_t stride, const uint32_t *rows,
                      size_t n, size_t dim, float *out);

/* float16 storage. */
uint16_t lh_vec_f32_to_f16_one(float x);
float lh_vec_f16_to_f32_one(uint16_t h);

/* int8 storage: x ~= scale * q with q in [-127, 127], scale = max|x| / 127
 * (0 for a zero vector). Distances from the exact integer kernels:
 * l2 ~= scale_a * scale_b ... see lh_vec_i8_l2sq. */
void lh_vec_i8_quantize(const float *x, size_t dim, int8_t *q, float *scale);
/* Approximate float distances between two int8-stored vectors. L2 is only
 * meaningful when both share one scale (quantize both with the larger). */
float lh_vec_i8_dot(const lh_vec_kernels *k, const int8_t *a, float sa,
                    const int8_t *b, float sb, size_t dim);
float lh_vec_i8_l2sq(const lh_vec_kernels *k, const int8_t *a, const int8_t *b,
                     float scale, size_t dim);

/* LH_OK if all dim values are finite and 1 <= dim <= LH_VEC_MAX_DIM;
 * LH_EINVAL saying which element is NaN or infinite ("what" names the
 * vector in the message, e.g. "query vector"). */
lh_rc lh_vec_check(const float *v, size_t dim, const char *what, lh_err *err);
/* In place: v / |v| (a zero vector stays zero). */
void lh_vec_normalize(const lh_vec_kernels *k, float *v, size_t dim);

/* ---- search results and filters ---- */

typedef struct lh_vec_hit {
    int64_t id; /* the caller's row id (label) */
    float dist; /* the metric's distance (L2: squared) */
} lh_vec_hit;

/* Which rows a search may return. Either or both of: a bitmap over ids
 * (bit id of bits[id / 64], ids >= nbits are refused when bits is set) and
 * a callback (true = allowed). `count`, when known (else 0), is how many
 * rows pass: searches use it to choose an exact scan of the allowed rows
 * over graph traversal when that is cheaper. A NULL filter allows all. */
typedef struct lh_vec_filter {
    const uint64_t *bits;
    uint64_t nbits;
    bool (*allow)(void *ctx, int64_t id);
    void *ctx;
    uint64_t count;
} lh_vec_filter;

bool lh_vec_filter_pass(const lh_vec_filter *f, int64_t id);

/* Sorts hits by (dist, id) ascending. */
void lh_vec_hits_sort(lh_vec_hit *h, size_t n);

/* ---- MRL-like data ---- */

/* Clustered vectors whose variance decays along the dimensions, so that
 * prefixes carry most of the signal (as in Matryoshka-trained models).
 * Deterministic from the seed. */
typedef struct lh_mrl_spec {
    size_t n;  /* base vectors */
    size_t nq; /* queries, from the same distribution */
    size_t dim;
    size_t clusters; /* mixture components */
    float decay;     /* std of dimension j: exp(-decay * j / dim) */
    float noise;     /* within-cluster std relative to the cluster spread */
    bool normalize;  /* unit vectors (cosine / inner product data) */
    uint64_t seed;
    unsigned threads; /* threads generating (0 = 1); not part of the data */
} lh_mrl_spec;

/* Defaults for n x dim: clusters = max(16, n / 1000), decay 4, noise 0.6,
 * not normalized, seed 42, one thread. */
void lh_mrl_spec_default(lh_mrl_spec *s, size_t n, size_t nq, size_t dim);

typedef struct lh_mrl_data {
    lh_mrl_spec spec;
    float *base;    /* n x dim, row-major */
    float *queries; /* nq x dim */
} lh_mrl_data;

/* Generates into *out (arrays from lh_malloc; lh_mrl_data_release frees).
 * LH_EINVAL on a bad spec, LH_ENOMEM. Row i depends only on the spec and
 * i, so the thread count does not change the data. */
lh_rc lh_mrl_generate(const lh_mrl_spec *s, lh_mrl_data *out, lh_err *err);
void lh_mrl_data_release(lh_mrl_data *d);

/* Exact k nearest base rows of each query (nq x k ids into gt, row-major;
 * ties by lower id), over the first `prefix` dimensions (0 = dim), by
 * brute force on `threads` threads. With cache_dir (may be NULL), the
 * answer is cached in a file named from the spec, metric, k and prefix and
 * reused when it checks (crc32c); a bad cache file is recomputed. */
lh_rc lh_mrl_ground_truth(const lh_mrl_data *d, lh_vec_metric m, size_t k,
                          size_t prefix, unsigned threads,
                          const char *cache_dir, int64_t *gt, lh_err *err);

/* recall@k: the share of gt's first k ids (per query) found in found's first
 * k (per query, -1 = none). found and gt are nq x k_found / nq x k_gt. */
double lh_vec_recall(const int64_t *found, size_t k_found, const int64_t *gt,
                     size_t k_gt, size_t nq, size_t k);

/* ---- HNSW (the hot tier's index) -------------------------------------------
 *
 * A hierarchical navigable small world graph over (id, vector) pairs, ids
 * being the caller's row ids (the hot tier: the event's shard position).
 *
 * Thread rules (vector.md, "HNSW locking"): any number of threads may call
 * lh_hnsw_search, lh_hnsw_get and lh_hnsw_count at the same time as each
 * other and as lh_hnsw_insert / lh_hnsw_delete, which may themselves run on
 * several threads at once (a parallel build). lh_hnsw_repair and
 * lh_hnsw_save wait for inserts and deletes in flight and hold new ones off
 * while they run; searches go on beside them. lh_hnsw_free needs every other
 * call to have returned. */

typedef struct lh_hnsw_config {
    size_t dim;
    lh_vec_metric metric;
    unsigned m;               /* links per node above level 0 (2m at 0); 16 */
    unsigned ef_construction; /* candidates while inserting; 200 */
    unsigned ef_search;       /* default candidates while searching; 64 */
    uint64_t max_elements;    /* slots ever used, deleted ones included;
                                 2^26 */
    uint64_t seed;            /* level draws; 1 */
} lh_hnsw_config;

void lh_hnsw_config_default(lh_hnsw_config *c, size_t dim, lh_vec_metric m);

typedef struct lh_hnsw lh_hnsw;

/* LH_EINVAL naming the bad setting (dim, m in 2..256, ef >= 1), LH_ENOMEM. */
lh_rc lh_hnsw_new(const lh_hnsw_config *c, lh_hnsw **out, lh_err *err);
void lh_hnsw_free(lh_hnsw *h);
const lh_hnsw_config *lh_hnsw_config_of(const lh_hnsw *h);

/* Adds (id, v); v is copied (normalized for cosine). An id already present
 * is replaced: its old vector is deleted. LH_EINVAL for a non-finite
 * vector, LH_ELIMIT past max_elements, LH_ENOMEM. */
lh_rc lh_hnsw_insert(lh_hnsw *h, int64_t id, const float *v, lh_err *err);
/* n pairs (vecs row-major n x dim) on `threads` threads; the first error
 * stops the rest and is returned (pairs already added stay). */
lh_rc lh_hnsw_insert_many(lh_hnsw *h, const int64_t *ids, const float *vecs,
                          size_t n, unsigned threads, lh_err *err);
/* Marks id deleted (a tombstone: still traversed, never returned). When
 * tombstones pass 1/8 of the nodes, lh_hnsw_repair runs. LH_ENOENT. */
lh_rc lh_hnsw_delete(lh_hnsw *h, int64_t id, lh_err *err);
/* Reconnects every live node that links to a tombstone (its neighbours'
 * neighbours are the candidates), moves the entry point off tombstones,
 * and leaves the tombstones unreachable. LH_ENOMEM. */
lh_rc lh_hnsw_repair(lh_hnsw *h, lh_err *err);

/* How a search went (tests and EXPLAIN). */
typedef struct lh_hnsw_stats {
    unsigned ef;     /* the last ef used (widened for a filter) */
    unsigned rounds; /* graph searches run */
    bool exact;      /* answered by an exact scan of the allowed rows */
    uint64_t distances;
} lh_hnsw_stats;

/* The k nearest live rows passing filter (NULL = all), nearest first, into
 * out[0..*n) (*n = k unless fewer rows pass). ef 0 = ef_search; ef < k is
 * raised to k. A selective filter widens ef and, once that would cost more
 * than computing every allowed row's distance, scans them exactly, so k rows
 * come back whenever k rows pass. stats may be NULL. LH_EINVAL for a
 * non-finite query, LH_ENOMEM. */
lh_rc lh_hnsw_search(lh_hnsw *h, const float *q, size_t k, unsigned ef,
                     const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
                     lh_hnsw_stats *stats, lh_err *err);

/* Live rows. */
size_t lh_hnsw_count(const lh_hnsw *h);
/* Bytes held (nodes, links, maps). */
size_t lh_hnsw_memory(const lh_hnsw *h);
/* Copies id's stored vector (normalized for cosine) into out. LH_ENOENT. */
lh_rc lh_hnsw_get(lh_hnsw *h, int64_t id, float *out, lh_err *err);

/* A new index from n pairs (the rebuild: e.g. from a shard's events). */
lh_rc lh_hnsw_build(const lh_hnsw_config *c, const int64_t *ids,
                    const float *vecs, size_t n, unsigned threads,
                    lh_hnsw **out, lh_err *err);

/* Writes the live graph to path, crash-safe (a temporary file, fsync,
 * rename, fsync of the directory), with `covers`: the caller's watermark of
 * what the index holds (the hot tier: the shard's last position), returned
 * by lh_hnsw_load so the caller can tell a stale file. LH_EIO, LH_ENOSPC,
 * LH_ENOMEM. */
lh_rc lh_hnsw_save(lh_hnsw *h, const char *path, uint64_t covers, lh_err *err);
/* Reads a file lh_hnsw_save wrote. LH_ENOENT when missing; LH_ECORRUPT for
 * a file that fails a check (magic, sizes, CRC, links out of range);
 * LH_EFORMAT when its dim or metric differ from want's (want may be NULL).
 * ef_construction, ef_search and max_elements come from want when given
 * (M is the file's: the caller compares it). */
lh_rc lh_hnsw_load(const char *path, const lh_hnsw_config *want,
                   uint64_t *covers, lh_hnsw **out, lh_err *err);
/* The same over the file's bytes p[0..len) (borrowed for the call); name
 * is what messages call them. */
lh_rc lh_hnsw_load_mem(const void *p, size_t len, const char *name,
                       const lh_hnsw_config *want, uint64_t *covers,
                       lh_hnsw **out, lh_err *err);

/* ---- k-means (L2) -----------------------------------------------------------
 */

typedef struct lh_kmeans_config {
    size_t k;
    unsigned iters;                 /* Lloyd iterations; 20 */
    size_t max_points_per_centroid; /* train on at most k x this; 256 */
    uint64_t seed;
    unsigned threads; /* assignment threads; 1 */
} lh_kmeans_config;

void lh_kmeans_config_default(lh_kmeans_config *c, size_t k);
/* k centres (k x dim into centroids) of n rows at x + i * stride:
 * k-means++ seeding on a random subset of max(32 k, 4096) rows of the
 * sample, then Lloyd iterations on the sample; an empty cluster takes half
 * of the largest. Deterministic for a seed and thread count. LH_EINVAL when
 * n < k, LH_ENOMEM. */
lh_rc lh_kmeans_train(const lh_kmeans_config *c, const float *x, size_t n,
                      size_t dim, size_t stride, float *centroids, lh_err *err);
/* The nearest centre (L2) of each row, and its squared distance when dist
 * is not NULL. LH_ENOMEM. */
lh_rc lh_kmeans_assign(const float *x, size_t n, size_t dim, size_t stride,
                       const float *centroids, size_t k, unsigned threads,
                       uint32_t *out, float *dist, lh_err *err);

/* ---- re-ranking ---- */

/* The full vector of row id: a pointer valid until the next call (it may
 * write the dim floats into buf and return buf), or NULL when the row is
 * gone. */
typedef const float *(*lh_vec_fetch_fn)(void *ctx, int64_t id, float *buf);

/* Replaces each hit's distance by the exact one over dim dims of its full
 * vector, drops hits whose row is gone, sorts, and keeps the first `keep`
 * (*nout). LH_ENOMEM. */
lh_rc lh_vec_rerank(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
                    size_t dim, lh_vec_hit *hits, size_t n,
                    lh_vec_fetch_fn fetch, void *ctx, size_t keep, size_t *nout,
                    lh_err *err);

/* ---- IVF-PQ (the warm tier's index)
 * -------------------------------------------
 *
 * The rows of a warm Parquet file carry two columns made by
 * lh_ivfpq_encode: the list id (INT32) and the PQ code (FIXED_LEN_BYTE_ARRAY
 * of m bytes); the codebook (lh_ivfpq_codebook_write) is stored with the
 * table's metadata. An index is the codebook plus the rows' (id, list, code)
 * added with lh_ivfpq_add_codes, so it is rebuilt from the columns without
 * the vectors. The index covers `dim` dims: in the warm tier a prefix of the
 * embedding (pass stride = the embedding's length), re-ranked with the full
 * vectors (lh_vec_rerank).
 *
 * Thread rules: searches may run in parallel with each other; adds need
 * the index to themselves. */

typedef struct lh_ivfpq_config {
    size_t dim;           /* indexed dims (a prefix in the warm tier) */
    lh_vec_metric metric; /* cosine: vectors normalized over those dims */
    size_t nlist;         /* coarse lists */
    size_t m;             /* code bytes: sub-quantizers of dim / m dims */
    unsigned train_iters; /* k-means iterations; 20 */
    size_t max_points_per_centroid; /* training sample cap; 256 */
    uint64_t seed;
    unsigned threads; /* training and encoding threads; 1 */
} lh_ivfpq_config;

typedef struct lh_ivfpq lh_ivfpq;

void lh_ivfpq_config_default(lh_ivfpq_config *c, size_t dim, lh_vec_metric m,
                             size_t nlist, size_t pq_m);
/* Trains the coarse quantizer and the PQ codebooks on n rows at
 * v + i * stride (first dim values of each). The index starts empty.
 * LH_EINVAL for bad settings or fewer than max(nlist, 256) rows. */
lh_rc lh_ivfpq_train(const lh_ivfpq_config *c, const float *v, size_t n,
                     size_t stride, lh_ivfpq **out, lh_err *err);
void lh_ivfpq_free(lh_ivfpq *x);
const lh_ivfpq_config *lh_ivfpq_config_of(const lh_ivfpq *x);
size_t lh_ivfpq_count(const lh_ivfpq *x);
/* The columns of n rows: lists[i] and codes[i * m .. + m). LH_ENOMEM. */
lh_rc lh_ivfpq_encode(const lh_ivfpq *x, const float *v, size_t n,
                      size_t stride, unsigned threads, uint32_t *lists,
                      uint8_t *codes, lh_err *err);
/* Adds rows from their columns. LH_EINVAL for a list id >= nlist. */
lh_rc lh_ivfpq_add_codes(lh_ivfpq *x, const int64_t *ids, const uint32_t *lists,
                         const uint8_t *codes, size_t n, lh_err *err);
/* Encodes and adds. LH_EINVAL for a non-finite vector. */
lh_rc lh_ivfpq_add(lh_ivfpq *x, const int64_t *ids, const float *v, size_t n,
                   size_t stride, unsigned threads, lh_err *err);
/* The k nearest rows by asymmetric PQ distance (approximate: the metric's
 * distance to the row's reconstruction) among the nprobe nearest lists,
 * passing filter. Ask for refine x k and re-rank for exact order. */
lh_rc lh_ivfpq_search(const lh_ivfpq *x, const float *q, size_t k,
                      size_t nprobe, const lh_vec_filter *filter,
                      lh_vec_hit *out, size_t *n, lh_err *err);
/* The nprobe lists a search of q would scan, nearest first, into
 * lists[0..*n) (room for nprobe): a reader of the warm tier's columns reads
 * only their rows. LH_EINVAL for a non-finite q. */
lh_rc lh_ivfpq_probe(const lh_ivfpq *x, const float *q, size_t nprobe,
                     uint32_t *lists, size_t *n, lh_err *err);
/* Empties the lists (the codebook stays): one index serves many searches
 * over rows added afresh each time. */
void lh_ivfpq_clear(lh_ivfpq *x);
/* Search indexes kept for reuse, by a caller's key (the warm tier: the
 * codebook version): a codebook read and its tables derived once serve
 * many searches. Thread-safe. take: an index given back under key, or
 * NULL (the caller reads one); give: emptied (lh_ivfpq_clear) and kept,
 * or freed when the pool holds enough of that key. Ownership passes with
 * each call; free frees what the pool holds. */
typedef struct lh_ivfpq_pool lh_ivfpq_pool;
lh_ivfpq_pool *lh_ivfpq_pool_new(void);
void lh_ivfpq_pool_free(lh_ivfpq_pool *p);
lh_ivfpq *lh_ivfpq_pool_take(lh_ivfpq_pool *p, uint32_t key);
void lh_ivfpq_pool_give(lh_ivfpq_pool *p, uint32_t key, lh_ivfpq *x);
/* The codebook bytes (vector.md, "IVF-PQ codebook"), appended to out. */
lh_rc lh_ivfpq_codebook_write(const lh_ivfpq *x, lh_buf *out);
/* An empty index from codebook bytes. LH_ECORRUPT, LH_EFORMAT. */
lh_rc lh_ivfpq_codebook_read(const void *p, size_t len, unsigned threads,
                             lh_ivfpq **out, lh_err *err);

/* ---- clustered scan (the cold tier's layout)
 * -------------------------------------
 *
 * lh_cold_build clusters rows on a prefix of their vectors and gives the
 * order to write them in (order[pos] = the input row at position pos), so
 * that cluster c is the row range [offsets[c], offsets[c+1]) of the file. A
 * search reads only the nprobe nearest clusters' ranges through a callback,
 * ranks by prefix distance, and re-ranks the best refine x k with the full
 * vectors. The layout (centres, ranges, ids) serializes for the file's
 * metadata. Searches may run in parallel. */

typedef struct lh_cold_config {
    size_t dim;    /* full dims */
    size_t prefix; /* clustering and scan dims; 64 */
    lh_vec_metric metric;
    size_t nclusters;     /* about sqrt(n) */
    unsigned train_iters; /* 15 */
    uint64_t seed;
    unsigned threads;
} lh_cold_config;

typedef struct lh_cold lh_cold;

/* Rows [from, from + n) in layout order: a pointer to row `from`'s full
 * vector, rows *stride floats apart, valid until the next call; NULL when
 * they cannot be read. */
typedef const float *(*lh_cold_rows_fn)(void *ctx, uint64_t from, uint64_t n,
                                        size_t *stride);

typedef struct lh_cold_stats {
    uint64_t clusters, rows, reranked; /* ranges read, rows scanned */
} lh_cold_stats;

void lh_cold_config_default(lh_cold_config *c, size_t dim, lh_vec_metric m,
                            size_t n);
lh_rc lh_cold_build(const lh_cold_config *c, const int64_t *ids, const float *v,
                    size_t n, uint32_t *order, lh_cold **out, lh_err *err);
void lh_cold_free(lh_cold *x);
const lh_cold_config *lh_cold_config_of(const lh_cold *x);
size_t lh_cold_count(const lh_cold *x);
/* nclusters + 1 row offsets (borrowed, valid while x lives). */
const uint64_t *lh_cold_offsets(const lh_cold *x);
lh_rc lh_cold_search(const lh_cold *x, const float *q, size_t k, size_t nprobe,
                     size_t refine, const lh_vec_filter *filter,
                     lh_cold_rows_fn rows, void *ctx, lh_vec_hit *out,
                     size_t *n, lh_cold_stats *stats, lh_err *err);
lh_rc lh_cold_layout_write(const lh_cold *x, lh_buf *out);
lh_rc lh_cold_layout_read(const void *p, size_t len, lh_cold **out,
                          lh_err *err);

/* ---- tiered search ---- */

/* One table's tiers; any may be NULL. Ids must be unique across tiers (a
 * row present in two, mid-migration, is reported once). */
typedef struct lh_vec_tiers {
    size_t dim; /* full dims */
    lh_vec_metric metric;
    lh_hnsw *hot;
    lh_ivfpq *warm;             /* over a prefix */
    lh_vec_fetch_fn warm_fetch; /* full vectors of warm rows */
    void *warm_ctx;
    lh_cold *cold;
    lh_cold_rows_fn cold_rows;
    void *cold_ctx;
} lh_vec_tiers;

typedef struct lh_vec_tier_params {
    unsigned hot_ef;    /* 0 = the index's ef_search */
    size_t warm_nprobe; /* lists */
    size_t warm_refine; /* re-rank refine x k */
    size_t cold_nprobe; /* clusters */
    size_t cold_refine;
} lh_vec_tier_params;

typedef struct lh_vec_tier_stats {
    size_t hot, warm, cold; /* hits each tier offered */
    uint64_t cold_rows_scanned;
    lh_us hot_us, warm_us, cold_us;
} lh_vec_tier_stats;

/* The k nearest rows over every tier by full-dimension distance. stats may
 * be NULL. LH_EINVAL for a bad query; errors of a tier, prefixed by its
 * name. */
lh_rc lh_vec_tiered_search(const lh_vec_tiers *t, const float *q, size_t k,
                           const lh_vec_tier_params *p,
                           const lh_vec_filter *filter, lh_vec_hit *out,
                           size_t *n, lh_vec_tier_stats *stats, lh_err *err);

#endif
