/*
 * vector_int.h: the vector module's private declarations. The design essay
 * and the file formats are in docs/internals/vector.md.
 */
#ifndef LH_VECTOR_INT_H
#define LH_VECTOR_INT_H

#include <math.h>

#include "vector/vector.h"

/* ---- the fixed summation order (vector.h: "the same answer") -------------
 *
 * Element i goes to lane i % 64. The 64 lanes are reduced as AVX-512 holds
 * them in four 16-lane registers r0..r3 (lane 16c + j in rc[j]):
 *   s16[j] = (r0[j] + r1[j]) + (r2[j] + r3[j])
 *   s8[j]  = s16[j] + s16[j + 8]
 *   s4[j]  = s8[j] + s8[j + 4]
 *   s2[j]  = s4[j] + s4[j + 2]
 *   sum    = s2[0] + s2[1]
 * AVX2 holds lane 8k + j in its k-th register; the same tree follows. */
#define LH__VEC_LANES 64

static inline float
lh__vec_reduce64(const float *l)
{
    float s16[16], s8[8], s4[4], s2[2];
    for (int j = 0; j < 16; j++) {
        s16[j] = (l[j] + l[16 + j]) + (l[32 + j] + l[48 + j]);
    }
    for (int j = 0; j < 8; j++) {
        s8[j] = s16[j] + s16[j + 8];
    }
    for (int j = 0; j < 4; j++) {
        s4[j] = s8[j] + s8[j + 4];
    }
    for (int j = 0; j < 2; j++) {
        s2[j] = s4[j] + s4[j + 2];
    }
    return s2[0] + s2[1];
}

/* The one scalar finish of cosine distance, shared by every kernel. */
static inline float
lh__vec_cos_finish(float dot, float na, float nb)
{
    if (na == 0.0f || nb == 0.0f) {
        return 1.0f;
    }
    float d = 1.0f - dot / (sqrtf(na) * sqrtf(nb));
    if (d < 0.0f) {
        d = 0.0f;
    }
    if (d > 2.0f) {
        d = 2.0f;
    }
    return d;
}

extern const lh_vec_kernels lh__vec_scalar;
#if defined(__x86_64__) || defined(__i386__)
#define LH__VEC_X86 1
extern const lh_vec_kernels lh__vec_avx2;
extern const lh_vec_kernels lh__vec_avx512;
#endif

/* ---- heaps of (dist, id) --------------------------------------------------
 */

typedef struct lh__vec_pair {
    float d;
    uint32_t i;
} lh__vec_pair;

/* A bounded max-heap keeping the `cap` smallest pairs seen. */
typedef struct lh__vec_topk {
    lh__vec_pair *p;
    size_t n, cap;
} lh__vec_topk;

static inline bool
lh__vec_pair_less(lh__vec_pair a, lh__vec_pair b)
{
    return a.d < b.d || (a.d == b.d && a.i < b.i);
}

/* Max-heap push/pop over p[0..*n) (largest at 0). */
void lh__vec_maxheap_push(lh__vec_pair *p, size_t *n, lh__vec_pair x);
void lh__vec_maxheap_pop(lh__vec_pair *p, size_t *n);
/* Min-heap push/pop (smallest at 0). */
void lh__vec_minheap_push(lh__vec_pair *p, size_t *n, lh__vec_pair x);
void lh__vec_minheap_pop(lh__vec_pair *p, size_t *n);

/* Offers x to the top-k heap (keeps the cap smallest). */
static inline void
lh__vec_topk_offer(lh__vec_topk *t, lh__vec_pair x)
{
    if (t->n < t->cap) {
        lh__vec_maxheap_push(t->p, &t->n, x);
    } else if (t->cap > 0 && lh__vec_pair_less(x, t->p[0])) {
        lh__vec_maxheap_pop(t->p, &t->n);
        lh__vec_maxheap_push(t->p, &t->n, x);
    }
}

/* Offers x to a max-heap of hits heap[0..*n) keeping the cap smallest by
 * (dist, id). */
void lh__vec_hit_topk_offer(lh_vec_hit *heap, size_t *n, size_t cap,
                            lh_vec_hit x);

/* ---- centroids stored by 16 (the x16 kernels) ------------------------------
 */

/* Blocks of 16 rows for k rows. */
size_t lh__vec_blocks16(size_t k);
/* k rows (stride floats apart) into blocks of dim x 16, padded with 0. */
void lh__vec_transpose16(const float *rows, size_t k, size_t dim, size_t stride,
                         float *out);
/* The nearest (L2) of k transposed centres and its squared distance. */
uint32_t lh__vec_nearest16(const lh_vec_kernels *kern, const float *x,
                           size_t dim, const float *ct, size_t k,
                           float *best_d);

/* The nprobe nearest of k transposed centres to q, nearest first, into
 * probe (returns the count): L2, or the largest inner product (-dot) for
 * IP and cosine. scratch holds blocks16(k) * 16 floats. */
size_t lh__vec_probe(const lh_vec_kernels *kern, lh_vec_metric m,
                     const float *q, const float *ct, size_t k, size_t dim,
                     size_t nprobe, float *scratch, lh__vec_pair *probe);

/* Sorts pairs ascending by (d, i). */
void lh__vec_pairs_sort(lh__vec_pair *p, size_t n);

/* ---- threads ---------------------------------------------------------------
 * Runs fn(ctx, from, to, t) over [0, n) cut into `threads` contiguous parts
 * (0 = 1), part t on its own thread (part 0 on the caller's); a thread that
 * cannot start has its part run by the caller. Returns when all are done. */
typedef void (*lh__vec_part_fn)(void *ctx, size_t from, size_t to, unsigned t);
void lh__vec_parallel(unsigned threads, size_t n, lh__vec_part_fn fn,
                      void *ctx);
#define LH__VEC_MAX_THREADS 64

/* ---- random numbers (xoshiro256**, splitmix64 seeding) --------------------
 */

typedef struct lh__vec_rng {
    uint64_t s[4];
} lh__vec_rng;

void lh__vec_rng_seed(lh__vec_rng *r, uint64_t seed);
uint64_t lh__vec_rng_next(lh__vec_rng *r);
/* Uniform in [0, 1). */
double lh__vec_rng_unif(lh__vec_rng *r);
/* Standard normal (Box-Muller). */
double lh__vec_rng_normal(lh__vec_rng *r);

#endif
