/*
 * The scalar kernels (the reference every SIMD table must equal, see
 * vector.h) and the choice of a table at run time.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector_int.h"

#ifdef LH__VEC_X86
#include <cpuid.h>

/* F16C through CPUID leaf 1: clang 14's __builtin_cpu_supports does not
 * know "f16c" (the fuzz preset's compiler), gcc's does. */
static bool f16c_found;

static void
find_f16c(void)
{
    unsigned a, b, c, d;
    f16c_found = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}

/* CPUID traps to the hypervisor in a VM (microseconds), so it runs once. */
static bool
cpu_has_f16c(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_f16c);
    return f16c_found;
}
#endif

/* ---- float16 conversions --------------------------------------------------
 */

float
lh_vec_f16_to_f32_one(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        /* inf, or NaN quieted with its payload kept (as vcvtph2ps) */
        bits = sign | 0x7f800000u | (man << 13) | (man != 0 ? 0x400000u : 0);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        /* subnormal half: normalize */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while ((man & 0x400u) == 0);
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t
lh_vec_f32_to_f16_one(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    uint16_t sign = (uint16_t)((b >> 16) & 0x8000u);
    uint32_t exp = (b >> 23) & 0xffu;
    uint32_t man = b & 0x7fffffu;
    if (exp == 0xff) {
        if (man == 0) {
            return sign | 0x7c00u;
        }
        /* as vcvtps2ph: quiet the NaN, keep the top payload bits */
        return (uint16_t)(sign | 0x7e00u | (man >> 13));
    }
    int e = (int)exp - 127 + 15;
    if (e >= 31) {
        return sign | 0x7c00u; /* overflow: inf */
    }
    if (e <= 0) {
        /* subnormal or zero half: shift the full significand */
        if (e < -10) {
            return sign; /* below half the smallest subnormal */
        }
        uint32_t m = man | 0x800000u;
        int shift = 14 - e; /* 14..24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) {
            q++;
        }
        return (uint16_t)(sign | q);
    }
    uint32_t q = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) {
        q++; /* may carry into the exponent, up to inf: correct */
    }
    return (uint16_t)(sign | q);
}

static void
sc_f32_to_f16(const float *in, size_t n, uint16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = lh_vec_f32_to_f16_one(in[i]);
    }
}

static void
sc_f16_to_f32(const uint16_t *in, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = lh_vec_f16_to_f32_one(in[i]);
    }
}

/* ---- float32 kernels: 64 lanes, fmaf, the fixed tree ----------------------
 */

static float
sc_l2sq(const float *a, const float *b, size_t dim)
{
    float l[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        float d = a[i] - b[i];
        l[i % LH__VEC_LANES] = fmaf(d, d, l[i % LH__VEC_LANES]);
    }
    return lh__vec_reduce64(l);
}

static float
sc_dot(const float *a, const float *b, size_t dim)
{
    float l[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        l[i % LH__VEC_LANES] = fmaf(a[i], b[i], l[i % LH__VEC_LANES]);
    }
    return lh__vec_reduce64(l);
}

static float
sc_cos_dist(const float *a, const float *b, size_t dim)
{
    float ld[LH__VEC_LANES] = {0}, la[LH__VEC_LANES] = {0},
          lb[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        size_t j = i % LH__VEC_LANES;
        ld[j] = fmaf(a[i], b[i], ld[j]);
        la[j] = fmaf(a[i], a[i], la[j]);
        lb[j] = fmaf(b[i], b[i], lb[j]);
    }
    return lh__vec_cos_finish(lh__vec_reduce64(ld), lh__vec_reduce64(la),
                              lh__vec_reduce64(lb));
}

static float
sc_l2sq_f16(const float *q, const uint16_t *v, size_t dim)
{
    float l[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        float d = q[i] - lh_vec_f16_to_f32_one(v[i]);
        l[i % LH__VEC_LANES] = fmaf(d, d, l[i % LH__VEC_LANES]);
    }
    return lh__vec_reduce64(l);
}

static float
sc_dot_f16(const float *q, const uint16_t *v, size_t dim)
{
    float l[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        l[i % LH__VEC_LANES] =
            fmaf(q[i], lh_vec_f16_to_f32_one(v[i]), l[i % LH__VEC_LANES]);
    }
    return lh__vec_reduce64(l);
}

static float
sc_cos_dist_f16(const float *q, const uint16_t *v, size_t dim)
{
    float ld[LH__VEC_LANES] = {0}, la[LH__VEC_LANES] = {0},
          lb[LH__VEC_LANES] = {0};
    for (size_t i = 0; i < dim; i++) {
        size_t j = i % LH__VEC_LANES;
        float x = lh_vec_f16_to_f32_one(v[i]);
        ld[j] = fmaf(q[i], x, ld[j]);
        la[j] = fmaf(q[i], q[i], la[j]);
        lb[j] = fmaf(x, x, lb[j]);
    }
    return lh__vec_cos_finish(lh__vec_reduce64(ld), lh__vec_reduce64(la),
                              lh__vec_reduce64(lb));
}

static int64_t
sc_l2sq_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    int64_t s = 0;
    for (size_t i = 0; i < dim; i++) {
        int32_t d = (int32_t)a[i] - (int32_t)b[i];
        s += d * d;
    }
    return s;
}

static int64_t
sc_dot_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    int64_t s = 0;
    for (size_t i = 0; i < dim; i++) {
        s += (int32_t)a[i] * (int32_t)b[i];
    }
    return s;
}

static void
sc_pq_scan(const float *lut, size_t m, const uint8_t *codes, size_t n,
           float base, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *c = codes + (i / 16) * 16 * m + i % 16;
        float s = base;
        for (size_t j = 0; j < m; j++) {
            s += lut[j * 256 + c[j * 16]];
        }
        out[i] = s;
    }
}

static void
sc_l2sq_x16(const float *x, const float *ct, size_t dim, float *out)
{
    float a[4][16] = {{0}};
    for (size_t d = 0; d < dim; d++) {
        for (size_t c = 0; c < 16; c++) {
            float t = x[d] - ct[d * 16 + c];
            a[d % 4][c] = fmaf(t, t, a[d % 4][c]);
        }
    }
    for (size_t c = 0; c < 16; c++) {
        out[c] = (a[0][c] + a[1][c]) + (a[2][c] + a[3][c]);
    }
}

static void
sc_dot_x16(const float *x, const float *ct, size_t dim, float *out)
{
    float a[4][16] = {{0}};
    for (size_t d = 0; d < dim; d++) {
        for (size_t c = 0; c < 16; c++) {
            a[d % 4][c] = fmaf(x[d], ct[d * 16 + c], a[d % 4][c]);
        }
    }
    for (size_t c = 0; c < 16; c++) {
        out[c] = (a[0][c] + a[1][c]) + (a[2][c] + a[3][c]);
    }
}

const lh_vec_kernels lh__vec_scalar = {
    .name = "scalar",
    .l2sq = sc_l2sq,
    .dot = sc_dot,
    .cos_dist = sc_cos_dist,
    .l2sq_f16 = sc_l2sq_f16,
    .dot_f16 = sc_dot_f16,
    .cos_dist_f16 = sc_cos_dist_f16,
    .l2sq_i8 = sc_l2sq_i8,
    .dot_i8 = sc_dot_i8,
    .f32_to_f16 = sc_f32_to_f16,
    .f16_to_f32 = sc_f16_to_f32,
    .pq_scan = sc_pq_scan,
    .l2sq_x16 = sc_l2sq_x16,
    .dot_x16 = sc_dot_x16,
};

/* ---- choosing a table ---- */

bool
lh_vec_isa_supported(lh_vec_isa isa)
{
    switch (isa) {
    case LH_VEC_ISA_SCALAR:
        return true;
#ifdef LH__VEC_X86
    case LH_VEC_ISA_AVX2:
        return __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma") && cpu_has_f16c();
    case LH_VEC_ISA_AVX512:
        return lh_vec_isa_supported(LH_VEC_ISA_AVX2) &&
               __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq");
#endif
    default:
        return false;
    }
}

const lh_vec_kernels *
lh_vec_kernels_for(lh_vec_isa isa)
{
    if (!lh_vec_isa_supported(isa)) {
        return NULL;
    }
    switch (isa) {
#ifdef LH__VEC_X86
    case LH_VEC_ISA_AVX2:
        return &lh__vec_avx2;
    case LH_VEC_ISA_AVX512:
        return &lh__vec_avx512;
#endif
    default:
        return &lh__vec_scalar;
    }
}

static const lh_vec_kernels *best_kernels;

static void
find_best(void)
{
    int cap = LH_VEC_ISA_COUNT - 1;
    const char *env = getenv("LH_VEC_ISA");
    if (env != NULL) {
        if (strcmp(env, "scalar") == 0) {
            cap = LH_VEC_ISA_SCALAR;
        } else if (strcmp(env, "avx2") == 0) {
            cap = LH_VEC_ISA_AVX2;
        }
    }
    best_kernels = &lh__vec_scalar;
    for (int isa = cap; isa > 0; isa--) {
        const lh_vec_kernels *k = lh_vec_kernels_for((lh_vec_isa)isa);
        if (k != NULL) {
            best_kernels = k;
            break;
        }
    }
}

/* Chosen once a process (LH_VEC_ISA read at the first call): callers ask
 * per distance, and a getenv plus CPUID each time cost more than the
 * distance itself. */
const lh_vec_kernels *
lh_vec_kernels_best(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_best);
    return best_kernels;
}

float
lh_vec_l2sq(const float *a, const float *b, size_t dim)
{
    return lh_vec_kernels_best()->l2sq(a, b, dim);
}

float
lh_vec_dot(const float *a, const float *b, size_t dim)
{
    return lh_vec_kernels_best()->dot(a, b, dim);
}

float
lh_vec_cos_dist(const float *a, const float *b, size_t dim)
{
    return lh_vec_kernels_best()->cos_dist(a, b, dim);
}

float
lh_vec_dist(const lh_vec_kernels *k, lh_vec_metric m, const float *a,
            const float *b, size_t dim)
{
    switch (m) {
    case LH_VEC_IP:
        return -k->dot(a, b, dim);
    case LH_VEC_COS:
        return k->cos_dist(a, b, dim);
    default:
        return k->l2sq(a, b, dim);
    }
}

void
lh_vec_dist_many(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
                 const float *base, size_t n, size_t stride, size_t dim,
                 float *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) {
            __builtin_prefetch(base + (i + 1) * stride);
        }
        out[i] = lh_vec_dist(k, m, q, base + i * stride, dim);
    }
}

void
lh_vec_dist_rows(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
                 const float *base, size_t stride, const uint32_t *rows,
                 size_t n, size_t dim, float *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) {
            __builtin_prefetch(base + (size_t)rows[i + 1] * stride);
        }
        out[i] = lh_vec_dist(k, m, q, base + (size_t)rows[i] * stride, dim);
    }
}

/* ---- int8 storage ---------------------------------------------------------
 */

void
lh_vec_i8_quantize(const float *x, size_t dim, int8_t *q, float *scale)
{
    float mx = 0.0f;
    for (size_t i = 0; i < dim; i++) {
        float a = fabsf(x[i]);
        if (a > mx) {
            mx = a;
        }
    }
    *scale = mx / 127.0f;
    for (size_t i = 0; i < dim; i++) {
        float v = mx > 0.0f ? rintf(x[i] / *scale) : 0.0f;
        q[i] = (int8_t)LH_MAX(-127.0f, LH_MIN(127.0f, v));
    }
}

float
lh_vec_i8_dot(const lh_vec_kernels *k, const int8_t *a, float sa,
              const int8_t *b, float sb, size_t dim)
{
    return (float)k->dot_i8(a, b, dim) * sa * sb;
}

float
lh_vec_i8_l2sq(const lh_vec_kernels *k, const int8_t *a, const int8_t *b,
               float scale, size_t dim)
{
    return (float)k->l2sq_i8(a, b, dim) * scale * scale;
}

/* ---- checks ---------------------------------------------------------------
 */

lh_rc
lh_vec_check(const float *v, size_t dim, const char *what, lh_err *err)
{
    if (dim == 0 || dim > LH_VEC_MAX_DIM) {
        return lh_err_set(err, LH_EINVAL,
                          "%s has %zu dimensions (1 to %d allowed)", what, dim,
                          LH_VEC_MAX_DIM);
    }
    for (size_t i = 0; i < dim; i++) {
        if (!isfinite(v[i])) {
            return lh_err_set(err, LH_EINVAL, "%s has %s at element %zu", what,
                              isnan(v[i]) ? "NaN" : "infinity", i);
        }
    }
    return LH_OK;
}

void
lh_vec_normalize(const lh_vec_kernels *k, float *v, size_t dim)
{
    float n = k->dot(v, v, dim);
    if (n > 0.0f) {
        float inv = 1.0f / sqrtf(n);
        for (size_t i = 0; i < dim; i++) {
            v[i] *= inv;
        }
    }
}

const char *
lh_vec_metric_name(lh_vec_metric m)
{
    switch (m) {
    case LH_VEC_IP:
        return "ip";
    case LH_VEC_COS:
        return "cosine";
    default:
        return "l2";
    }
}

lh_rc
lh_vec_metric_parse(const char *s, lh_vec_metric *out, lh_err *err)
{
    if (strcmp(s, "l2") == 0) {
        *out = LH_VEC_L2;
    } else if (strcmp(s, "ip") == 0) {
        *out = LH_VEC_IP;
    } else if (strcmp(s, "cosine") == 0) {
        *out = LH_VEC_COS;
    } else {
        return lh_err_set(err, LH_EINVAL,
                          "unknown vector metric \"%s\" (l2, ip or cosine)", s);
    }
    return LH_OK;
}
