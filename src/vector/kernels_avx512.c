/*
 * AVX-512 kernels: four 16-lane accumulators hold the 64 lanes of the fixed
 * summation order (vector_int.h), so they equal the scalar kernels bit for
 * bit. Only the functions here carry the target attribute; the rest of the
 * build stays portable.
 */
#include "vector/vector_int.h"

#ifdef LH__VEC_X86
#include <immintrin.h>

#define T __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

T static inline float
reduce4(__m512 r0, __m512 r1, __m512 r2, __m512 r3)
{
    __m512 s16 = _mm512_add_ps(_mm512_add_ps(r0, r1), _mm512_add_ps(r2, r3));
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(s16),
                              _mm512_extractf32x8_ps(s16, 1));
    __m128 s4 =
        _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

/* Mask of the first min(max(r, 0), 16) lanes. */
T static inline __mmask16
tail_mask(ptrdiff_t r)
{
    if (r <= 0) {
        return 0;
    }
    if (r >= 16) {
        return 0xffff;
    }
    return (__mmask16)((1u << r) - 1);
}

/* b as float32 or float16: one body per kernel, specialized at each call
 * (f16 is a constant there). */
#define TI T __attribute__((always_inline))

TI static inline __m512
load_b(__mmask16 m, const void *b, size_t i, bool f16)
{
    if (f16) {
        return _mm512_cvtph_ps(
            _mm256_maskz_loadu_epi16(m, (const uint16_t *)b + i));
    }
    return _mm512_maskz_loadu_ps(m, (const float *)b + i);
}

/* One 16-lane step of kernel(): what 0 = l2sq, 1 = dot, 2 = cosine. */
TI static inline void
step(__m512 *r, __m512 *na, __m512 *nb, __m512 x, __m512 y, int what)
{
    if (what == 0) {
        __m512 d = _mm512_sub_ps(x, y);
        *r = _mm512_fmadd_ps(d, d, *r);
    } else {
        *r = _mm512_fmadd_ps(x, y, *r);
    }
    if (what == 2) {
        *na = _mm512_fmadd_ps(x, x, *na);
        *nb = _mm512_fmadd_ps(y, y, *nb);
    }
}

TI static inline float
kernel(const float *a, const void *b, size_t dim, bool f16, int what)
{
    __m512 r[4], na[4], nb[4];
    for (int c = 0; c < 4; c++) {
        r[c] = na[c] = nb[c] = _mm512_setzero_ps();
    }
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        for (int c = 0; c < 4; c++) {
            step(&r[c], &na[c], &nb[c], _mm512_loadu_ps(a + i + 16 * c),
                 load_b(0xffff, b, i + 16 * c, f16), what);
        }
    }
    for (int c = 0; c < 4; c++) {
        __mmask16 m = tail_mask((ptrdiff_t)(dim - i) - 16 * c);
        if (m == 0) {
            break;
        }
        step(&r[c], &na[c], &nb[c], _mm512_maskz_loadu_ps(m, a + i + 16 * c),
             load_b(m, b, i + 16 * c, f16), what);
    }
    float s = reduce4(r[0], r[1], r[2], r[3]);
    if (what != 2) {
        return s;
    }
    return lh__vec_cos_finish(s, reduce4(na[0], na[1], na[2], na[3]),
                              reduce4(nb[0], nb[1], nb[2], nb[3]));
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
reduce_i32(__m512i s)
{
    /* widen to 64-bit lanes before adding, so no lane can overflow */
    __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s));
    __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(s, 1));
    return _mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi));
}

T static int64_t
v_l2sq_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    __m512i s = _mm512_setzero_si512();
    for (size_t i = 0; i < dim; i += 32) {
        size_t r = dim - i;
        __mmask32 m = r >= 32 ? 0xffffffffu : (__mmask32)((1u << r) - 1);
        __m512i x = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, a + i));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, b + i));
        __m512i d = _mm512_sub_epi16(x, y);
        s = _mm512_add_epi32(s, _mm512_madd_epi16(d, d));
    }
    return reduce_i32(s);
}

T static int64_t
v_dot_i8(const int8_t *a, const int8_t *b, size_t dim)
{
    __m512i s = _mm512_setzero_si512();
    for (size_t i = 0; i < dim; i += 32) {
        size_t r = dim - i;
        __mmask32 m = r >= 32 ? 0xffffffffu : (__mmask32)((1u << r) - 1);
        __m512i x = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, a + i));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, b + i));
        s = _mm512_add_epi32(s, _mm512_madd_epi16(x, y));
    }
    return reduce_i32(s);
}

T static void
v_f32_to_f16(const float *in, size_t n, uint16_t *out)
{
    for (size_t i = 0; i < n; i += 16) {
        size_t r = n - i;
        __mmask16 m = r >= 16 ? 0xffff : (__mmask16)((1u << r) - 1);
        __m256i h =
            _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, in + i),
                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(out + i, m, h);
    }
}

T static void
v_f16_to_f32(const uint16_t *in, size_t n, float *out)
{
    for (size_t i = 0; i < n; i += 16) {
        size_t r = n - i;
        __mmask16 m = r >= 16 ? 0xffff : (__mmask16)((1u << r) - 1);
        _mm512_mask_storeu_ps(out + i, m, load_b(m, in, i, true));
    }
}

/* One block of 16 codes at a time: 16 code bytes of sub-quantizer j widen
 * to gather indexes into its 256-entry table; sums in order j = 0, 1, ...
 * as the scalar scan. */
T static void
v_pq_scan(const float *lut, size_t m, const uint8_t *codes, size_t n,
          float base, float *out)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8_t *c = codes + i * m;
        __m512 s = _mm512_set1_ps(base);
        for (size_t j = 0; j < m; j++) {
            __m512i idx = _mm512_cvtepu8_epi32(
                _mm_loadu_si128((const __m128i *)(c + j * 16)));
            s = _mm512_add_ps(s, _mm512_i32gather_ps(idx, lut + j * 256, 4));
        }
        _mm512_storeu_ps(out + i, s);
    }
    if (i < n) {
        float tmp[16];
        lh__vec_scalar.pq_scan(lut, m, codes + i * m, 16, base, tmp);
        for (size_t t = 0; t < n - i; t++) {
            out[i + t] = tmp[t];
        }
    }
}

/* x16: one register of 16 centres, four accumulators by d % 4. */
TI static inline void
x16(const float *x, const float *ct, size_t dim, float *out, bool l2)
{
    __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps(), _mm512_setzero_ps()};
    size_t d = 0;
    for (; d + 4 <= dim; d += 4) {
        for (int u = 0; u < 4; u++) {
            __m512 c = _mm512_loadu_ps(ct + (d + u) * 16);
            __m512 xv = _mm512_set1_ps(x[d + u]);
            if (l2) {
                __m512 t = _mm512_sub_ps(xv, c);
                a[u] = _mm512_fmadd_ps(t, t, a[u]);
            } else {
                a[u] = _mm512_fmadd_ps(xv, c, a[u]);
            }
        }
    }
    for (int u = 0; d < dim; d++, u++) {
        __m512 c = _mm512_loadu_ps(ct + d * 16);
        __m512 xv = _mm512_set1_ps(x[d]);
        if (l2) {
            __m512 t = _mm512_sub_ps(xv, c);
            a[u] = _mm512_fmadd_ps(t, t, a[u]);
        } else {
            a[u] = _mm512_fmadd_ps(xv, c, a[u]);
        }
    }
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a[0], a[1]),
                                        _mm512_add_ps(a[2], a[3])));
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

const lh_vec_kernels lh__vec_avx512 = {
    .name = "avx512",
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
