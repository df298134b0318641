/*
 * AVX2 kernels: eight 8-lane accumulators hold the 64 lanes of the fixed
 * summation order (vector_int.h: lane 8k + j in register k), so they equal
 * the scalar kernels bit for bit. Only the functions here carry the target
 * attribute; the rest of the build stays portable.
 */
#include "vector/vector_int.h"

#ifdef LH__VEC_X86
#include <immintrin.h>

#define T __attribute__((target("avx2,fma,f16c")))

/* The tree of vector_int.h: r[2c], r[2c + 1] are the 16-lane group c. */
T static inline float
reduce8(const __m256 *r)
{
    __m256 lo =
        _mm256_add_ps(_mm256_add_ps(r[0], r[2]), _mm256_add_ps(r[4], r[6]));
    __m256 hi =
        _mm256_add_ps(_mm256_add_ps(r[1], r[3]), _mm256_add_ps(r[5], r[7]));
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 =
        _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                     0,  0,  0,  0,  0,  0,  0,  0};

/* Mask of the first min(max(r, 0), 8) lanes. */
T static inline __m256i
tail_mask(ptrdiff_t r)
{
    if (r < 0) {
        r = 0;
    }
    if (r > 8) {
        r = 8;
    }
    return _mm256_loadu_si256((const __m256i *)(mask_src + 8 - r));
}

#define TI T __attribute__((always_inline))

/* 8 values of b (or the first r of them, the rest zero) as floats; b is
 * float32 or float16, a constant at each call. */
TI static inline __m256
load_b(const void *b, size_t i, ptrdiff_t r, bool f16)
{
    if (!f16) {
        const float *p = (const float *)b + i;
        return r >= 8 ? _mm256_loadu_ps(p)
                      : _mm256_maskload_ps(p, tail_mask(r));
    }
    const uint16_t *h = (const uint16_t *)b + i;
    if (r >= 8) {
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
    }
    uint16_t tmp[8] = {0};
    for (ptrdiff_t t = 0; t < r; t++) {
        tmp[t] = h[t];
    }
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)tmp));
}

/* One 8-lane step of kernel(): what 0 = l2sq, 1 = dot, 2 = cosine. */
TI static inline void
step(__m256 *r, __m256 *na, __m256 *nb, __m256 x, __m256 y, int what)
{
    if (what == 0) {
        __m256 d = _mm256_sub_ps(x, y);
        *r = _mm256_fmadd_ps(d, d, *r);
    } else {
        *r = _mm256_fmadd_ps(x, y, *r);
    }
    if (what == 2) {
        *na = _mm256_fmadd_ps(x, x, *na);
        *nb = _mm256_fmadd_ps(y, y, *nb);
    }
}

TI static inline float
kernel(const float *a, const void *b, size_t dim, bool f16, int what)
{
    __m256 r[8], na[8], nb[8];
    for (int c = 0; c < 8; c++) {
        r[c] = na[c] = nb[c] = _mm256_setzero_ps();
    }
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        for (int c = 0; c < 8; c++) {
            step(&r[c], &na[c], &nb[c], _mm256_loadu_ps(a + i + 8 * c),
                 load_b(b, i + 8 * c, 8, f16), what);
        }
    }
    for (int c = 0; c < 8 && i + 8 * (size_t)c < dim; c++) {
        ptrdiff_t left = (ptrdiff_t)(dim - i) - 8 * c;
        step(&r[c], &na[c], &nb[c],
             _mm256_maskload_ps(a + i + 8 * c, tail_mask(left)),
             load_b(b, i + 8 * c, left, f16), what);
    }
    float s = reduce8(r);
    if (what != 2) {
        return s;
    }
    return lh__vec_cos_finish(s, reduce8(na), reduce8(nb));
}

T static float
v_l2sq(const float *a, const float *b, size_t dim)
{
    return kernel(a, b, dim, false, 0);
}

T static float
v_dot(const float *a, const float *b, size_t dim)
{
    return kernel(a, b, dim, false, 1);
}

T static float
v_cos_dist(const float *a, const float *b, size_t dim)
{
    return kernel(a, b, dim, false, 2);
}

T static float
v_l2sq_f16(const float *q, const uint16_t *v, size_t dim)
{
    return kernel(q, v, dim, true, 0);
}

T static float
v_dot_f16(const float *q, const uint16_t *v, size_t dim)
{
    return kernel(q, v, dim, true, 1);
}

T static float
v_cos_dist_f16(const float *q, const uint16_t *v, size_t dim)
{
    return kernel(q, v, dim, true, 2);
}

T static int64_t
reduce_i32(__m256i s)
{
    __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s));
    __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(s, 1));
    __m256i t = _mm256_add_epi64(lo, hi);
    int64_t v[4];
    _mm256_storeu_si256((__m256i *)v, t);
    return (v[0] + v[1]) + (v[2] + v[3]);
}

T static int64_t
v_l2sq_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    __m256i s = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256i x =
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i y =
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        __m256i d = _mm256_sub_epi16(x, y);
        s = _mm256_add_epi32(s, _mm256_madd_epi16(d, d));
    }
    int64_t r = reduce_i32(s);
    for (; i < dim; i++) {
        int32_t d = (int32_t)a[i] - (int32_t)b[i];
        r += d * d;
    }
    return r;
}

T static int64_t
v_dot_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    __m256i s = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256i x =
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i y =
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        s = _mm256_add_epi32(s, _mm256_madd_epi16(x, y));
    }
    int64_t r = reduce_i32(s);
    for (; i < dim; i++) {
        r += (int32_t)a[i] * (int32_t)b[i];
    }
    return r;
}

T static void
v_f32_to_f16(const float *in, size_t n, uint16_t *out)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h =
            _mm256_cvtps_ph(_mm256_loadu_ps(in + i),
                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
    for (; i < n; i++) {
        out[i] = lh_vec_f32_to_f16_one(in[i]);
    }
}

T static void
v_f16_to_f32(const uint16_t *in, size_t n, float *out)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, load_b(in, i, 8, true));
    }
    for (; i < n; i++) {
        out[i] = lh_vec_f16_to_f32_one(in[i]);
    }
}

/* A block of 16 codes as two halves of 8: the code bytes of sub-quantizer j
 * widen to gather indexes; sums in order j = 0, 1, ... as the scalar. */
T static void
v_pq_scan(const float *lut, size_t m, const uint8_t *codes, size_t n,
          float base, float *out)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8_t *c = codes + i * m;
        __m256 s0 = _mm256_set1_ps(base), s1 = s0;
        for (size_t j = 0; j < m; j++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(c + j * 16));
            __m256i i0 = _mm256_cvtepu8_epi32(b);
            __m256i i1 = _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8));
            s0 = _mm256_add_ps(s0, _mm256_i32gather_ps(lut + j * 256, i0, 4));
            s1 = _mm256_add_ps(s1, _mm256_i32gather_ps(lut + j * 256, i1, 4));
        }
        _mm256_storeu_ps(out + i, s0);
        _mm256_storeu_ps(out + i + 8, s1);
    }
    if (i < n) {
        float tmp[16];
        lh__vec_scalar.pq_scan(lut, m, codes + i * m, 16, base, tmp);
        for (size_t t = 0; t < n - i; t++) {
            out[i + t] = tmp[t];
        }
    }
}

/* x16: two registers of 8 centres, four accumulators each by d % 4. */
TI static inline void
x16_step(__m256 *a, const float *ct, float xd, bool l2)
{
    __m256 xv = _mm256_set1_ps(xd);
    for (int h = 0; h < 2; h++) {
        __m256 c = _mm256_loadu_ps(ct + 8 * h);
        if (l2) {
            __m256 t = _mm256_sub_ps(xv, c);
            a[h] = _mm256_fmadd_ps(t, t, a[h]);
        } else {
            a[h] = _mm256_fmadd_ps(xv, c, a[h]);
        }
    }
}

TI static inline void
x16(const float *x, const float *ct, size_t dim, float *out, bool l2)
{
    __m256 a[4][2];
    for (int u = 0; u < 4; u++) {
        a[u][0] = a[u][1] = _mm256_setzero_ps();
    }
    size_t d = 0;
    for (; d + 4 <= dim; d += 4) {
        for (int u = 0; u < 4; u++) {
            x16_step(a[u], ct + (d + u) * 16, x[d + u], l2);
        }
    }
    for (int u = 0; d < dim; d++, u++) {
        x16_step(a[u], ct + d * 16, x[d], l2);
    }
    for (int h = 0; h < 2; h++) {
        _mm256_storeu_ps(out + 8 * h,
                         _mm256_add_ps(_mm256_add_ps(a[0][h], a[1][h]),
                                       _mm256_add_ps(a[2][h], a[3][h])));
    }
}

T static void
v_l2sq_x16(const float *x, const float *ct, size_t dim, float *out)
{
    x16(x, ct, dim, out, true);
}

T static void
v_dot_x16(const float *x, const float *ct, size_t dim, float *out)
{
    x16(x, ct, dim, out, false);
}

const lh_vec_kernels lh__vec_avx2 = {
    .name = "avx2",
    .l2sq = v_l2sq,
    .dot = v_dot,
    .cos_dist = v_cos_dist,
    .l2sq_f16 = v_l2sq_f16,
    .dot_f16 = v_dot_f16,
    .cos_dist_f16 = v_cos_dist_f16,
    .l2sq_i8 = v_l2sq_i8,
    .dot_i8 = v_dot_i8,
    .f32_to_f16 = v_f32_to_f16,
    .f16_to_f32 = v_f16_to_f32,
    .pq_scan = v_pq_scan,
    .l2sq_x16 = v_l2sq_x16,
    .dot_x16 = v_dot_x16,
};
#endif
