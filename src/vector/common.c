/*
 * Pieces every index shares: heaps of (distance, slot), filters, hit
 * sorting, random numbers and recall.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "vector/vector_int.h"

void
lh__vec_maxheap_push(lh__vec_pair *p, size_t *n, lh__vec_pair x)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!lh__vec_pair_less(p[up], x)) {
            break;
        }
        p[i] = p[up];
        i = up;
    }
    p[i] = x;
}

void
lh__vec_maxheap_pop(lh__vec_pair *p, size_t *n)
{
    lh__vec_pair x = p[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= cnt) {
            break;
        }
        if (c + 1 < cnt && lh__vec_pair_less(p[c], p[c + 1])) {
            c++;
        }
        if (!lh__vec_pair_less(x, p[c])) {
            break;
        }
        p[i] = p[c];
        i = c;
    }
    if (cnt > 0) {
        p[i] = x;
    }
}

void
lh__vec_minheap_push(lh__vec_pair *p, size_t *n, lh__vec_pair x)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!lh__vec_pair_less(x, p[up])) {
            break;
        }
        p[i] = p[up];
        i = up;
    }
    p[i] = x;
}

void
lh__vec_minheap_pop(lh__vec_pair *p, size_t *n)
{
    lh__vec_pair x = p[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= cnt) {
            break;
        }
        if (c + 1 < cnt && lh__vec_pair_less(p[c + 1], p[c])) {
            c++;
        }
        if (!lh__vec_pair_less(p[c], x)) {
            break;
        }
        p[i] = p[c];
        i = c;
    }
    if (cnt > 0) {
        p[i] = x;
    }
}

static int
pair_cmp(const void *a, const void *b)
{
    const lh__vec_pair *x = a, *y = b;
    if (lh__vec_pair_less(*x, *y)) {
        return -1;
    }
    return lh__vec_pair_less(*y, *x) ? 1 : 0;
}

void
lh__vec_pairs_sort(lh__vec_pair *p, size_t n)
{
    if (n > 1) {
        qsort(p, n, sizeof(*p), pair_cmp);
    }
}

static inline bool
hit_less(lh_vec_hit a, lh_vec_hit b)
{
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

void
lh__vec_hit_topk_offer(lh_vec_hit *heap, size_t *n, size_t cap, lh_vec_hit x)
{
    if (*n == cap) {
        if (cap == 0 || !hit_less(x, heap[0])) {
            return;
        }
        /* replace the largest and sift down */
        size_t i = 0;
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= cap) {
                break;
            }
            if (c + 1 < cap && hit_less(heap[c], heap[c + 1])) {
                c++;
            }
            if (!hit_less(x, heap[c])) {
                break;
            }
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = x;
        return;
    }
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!hit_less(heap[up], x)) {
            break;
        }
        heap[i] = heap[up];
        i = up;
    }
    heap[i] = x;
}

static int
hit_cmp(const void *a, const void *b)
{
    const lh_vec_hit *x = a, *y = b;
    if (x->dist != y->dist) {
        return x->dist < y->dist ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id ? 1 : 0;
}

void
lh_vec_hits_sort(lh_vec_hit *h, size_t n)
{
    if (n > 1) {
        qsort(h, n, sizeof(*h), hit_cmp);
    }
}

bool
lh_vec_filter_pass(const lh_vec_filter *f, int64_t id)
{
    if (f == NULL) {
        return true;
    }
    if (f->bits != NULL) {
        if (id < 0 || (uint64_t)id >= f->nbits) {
            return false;
        }
        if (!(f->bits[(uint64_t)id / 64] >> ((uint64_t)id % 64) & 1)) {
            return false;
        }
    }
    return f->allow == NULL || f->allow(f->ctx, id);
}

/* ---- threads ----------------------------------------------------------------
 */

typedef struct part {
    lh__vec_part_fn fn;
    void *ctx;
    size_t from, to;
    unsigned t;
} part;

static void *
part_run(void *arg)
{
    part *p = arg;
    p->fn(p->ctx, p->from, p->to, p->t);
    return NULL;
}

void
lh__vec_parallel(unsigned threads, size_t n, lh__vec_part_fn fn, void *ctx)
{
    unsigned t = threads == 0 ? 1 : LH_MIN(threads, LH__VEC_MAX_THREADS);
    part parts[LH__VEC_MAX_THREADS];
    pthread_t tid[LH__VEC_MAX_THREADS];
    bool started[LH__VEC_MAX_THREADS] = {0};
    for (unsigned i = 0; i < t; i++) {
        parts[i] = (part){fn, ctx, n * i / t, n * (i + 1) / t, i};
        if (i > 0 && pthread_create(&tid[i], NULL, part_run, &parts[i]) == 0) {
            started[i] = true;
        }
    }
    part_run(&parts[0]);
    for (unsigned i = 1; i < t; i++) {
        if (started[i]) {
            pthread_join(tid[i], NULL);
        } else {
            part_run(&parts[i]);
        }
    }
}

/* ---- random numbers ---- */

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void
lh__vec_rng_seed(lh__vec_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
lh__vec_rng_next(lh__vec_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double
lh__vec_rng_unif(lh__vec_rng *r)
{
    return (double)(lh__vec_rng_next(r) >> 11) * 0x1.0p-53;
}

double
lh__vec_rng_normal(lh__vec_rng *r)
{
    double u = lh__vec_rng_unif(r);
    double v = lh__vec_rng_unif(r);
    if (u < 1e-300) {
        u = 1e-300;
    }
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- recall ----------------------------------------------------------------
 */

double
lh_vec_recall(const int64_t *found, size_t k_found, const int64_t *gt,
              size_t k_gt, size_t nq, size_t k)
{
    if (nq == 0 || k == 0) {
        return 1.0;
    }
    size_t hit = 0;
    size_t kf = LH_MIN(k, k_found), kg = LH_MIN(k, k_gt);
    for (size_t q = 0; q < nq; q++) {
        for (size_t i = 0; i < kg; i++) {
            int64_t want = gt[q * k_gt + i];
            for (size_t j = 0; j < kf; j++) {
                if (found[q * k_found + j] == want) {
                    hit++;
                    break;
                }
            }
        }
    }
    return (double)hit / (double)(nq * kg);
}
