/*
 * Every kernel table this CPU runs against the scalar reference: bit for
 * bit on finite input (vector.h's definition of "the same answer"), the
 * same class (NaN / inf) on non-finite input, and the scalar against a
 * double-precision reference within float rounding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vector/vector_int.h"

static const size_t dims[] = {1,   2,   3,   7,   8,   9,    15,   16,  17,
                              31,  33,  63,  64,  65,  100,  127,  128, 129,
                              255, 256, 257, 511, 768, 1023, 1024, 1536};

static uint32_t
fbits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void
fill(lh__vec_rng *r, float *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = (float)(scale * lh__vec_rng_normal(r));
    }
}

#define ASSERT_BITS(want, got, what, isa, dim)                                 \
    do {                                                                       \
        if (fbits(want) != fbits(got)) {                                       \
            fail_msg("%s %s dim %zu: scalar %a, got %a", isa, what, dim,       \
                     (double)(want), (double)(got));                           \
        }                                                                      \
    } while (0)

static size_t
tables(const lh_vec_kernels **out)
{
    size_t n = 0;
    for (int isa = 1; isa < LH_VEC_ISA_COUNT; isa++) {
        const lh_vec_kernels *k = lh_vec_kernels_for((lh_vec_isa)isa);
        if (k != NULL) {
            out[n++] = k;
        }
    }
    if (n == 0) {
        print_message("no SIMD table on this CPU: only the scalar runs\n");
    }
    return n;
}

static void
test_float_kernels_bitwise(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    const lh_vec_kernels *sc = &lh__vec_scalar;
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 7);
    float a[1536], b[1536];
    uint16_t h[1536];
    for (size_t di = 0; di < LH_ARRAY_LEN(dims); di++) {
        size_t dim = dims[di];
        for (int rep = 0; rep < 20; rep++) {
            double scale = rep % 3 == 0 ? 1e-3 : rep % 3 == 1 ? 1.0 : 1e3;
            fill(&r, a, dim, scale);
            fill(&r, b, dim, scale);
            if (rep == 5) {
                memcpy(b, a, dim * sizeof(float)); /* distance 0 */
            }
            sc->f32_to_f16(b, dim, h);
            for (size_t t = 0; t < nk; t++) {
                const lh_vec_kernels *k = ks[t];
                ASSERT_BITS(sc->l2sq(a, b, dim), k->l2sq(a, b, dim), "l2sq",
                            k->name, dim);
                ASSERT_BITS(sc->dot(a, b, dim), k->dot(a, b, dim), "dot",
                            k->name, dim);
                ASSERT_BITS(sc->cos_dist(a, b, dim), k->cos_dist(a, b, dim),
                            "cos", k->name, dim);
                ASSERT_BITS(sc->l2sq_f16(a, h, dim), k->l2sq_f16(a, h, dim),
                            "l2sq_f16", k->name, dim);
                ASSERT_BITS(sc->dot_f16(a, h, dim), k->dot_f16(a, h, dim),
                            "dot_f16", k->name, dim);
                ASSERT_BITS(sc->cos_dist_f16(a, h, dim),
                            k->cos_dist_f16(a, h, dim), "cos_f16", k->name,
                            dim);
            }
            /* the f16 kernel equals the f32 kernel on the converted vector */
            float bf[1536];
            sc->f16_to_f32(h, dim, bf);
            ASSERT_BITS(sc->l2sq(a, bf, dim), sc->l2sq_f16(a, h, dim),
                        "l2sq_f16 vs f32", "scalar", dim);
            ASSERT_BITS(sc->dot(a, bf, dim), sc->dot_f16(a, h, dim),
                        "dot_f16 vs f32", "scalar", dim);
        }
    }
}

/* The scalar kernels compute the right thing: within float rounding of a
 * double-precision sum. */
static void
test_scalar_against_double(void **state)
{
    (void)state;
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 11);
    float a[1536], b[1536];
    for (size_t di = 0; di < LH_ARRAY_LEN(dims); di++) {
        size_t dim = dims[di];
        fill(&r, a, dim, 1.0);
        fill(&r, b, dim, 1.0);
        double l2 = 0, dot = 0, na = 0, nb = 0, adot = 0;
        for (size_t i = 0; i < dim; i++) {
            double d = (double)a[i] - b[i];
            l2 += d * d;
            dot += (double)a[i] * b[i];
            adot += fabs((double)a[i] * b[i]);
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        double tol = 1e-6 * (double)dim;
        float got = lh__vec_scalar.l2sq(a, b, dim);
        assert_true(fabs(got - l2) <= tol * l2 + 1e-30);
        got = lh__vec_scalar.dot(a, b, dim);
        assert_true(fabs(got - dot) <= tol * adot + 1e-30);
        double cos = 1.0 - dot / (sqrt(na) * sqrt(nb));
        got = lh__vec_scalar.cos_dist(a, b, dim);
        assert_true(fabs(got - cos) <= tol * 4 + 1e-6);
        /* the dispatching calls go through the best table */
        assert_true(fbits(lh_vec_l2sq(a, b, dim)) ==
                    fbits(lh__vec_scalar.l2sq(a, b, dim)));
    }
}

static void
test_cosine_zero_vectors(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT + 1];
    size_t nk = tables(ks);
    ks[nk++] = &lh__vec_scalar;
    float z[100] = {0}, v[100];
    for (int i = 0; i < 100; i++) {
        v[i] = (float)i - 50.0f;
    }
    for (size_t t = 0; t < nk; t++) {
        for (size_t dim = 1; dim <= 100; dim += 33) {
            assert_true(ks[t]->cos_dist(z, v, dim) == 1.0f);
            assert_true(ks[t]->cos_dist(v, z, dim) == 1.0f);
            assert_true(ks[t]->cos_dist(z, z, dim) == 1.0f);
        }
        /* same direction: 0; opposite: 2; clamped, never outside [0, 2] */
        float w[100];
        for (int i = 0; i < 100; i++) {
            w[i] = -3.0f * v[i];
        }
        float d = ks[t]->cos_dist(v, w, 100);
        assert_true(d <= 2.0f && d > 1.999f);
        d = ks[t]->cos_dist(v, v, 100);
        assert_true(d >= 0.0f && d < 1e-6f);
    }
}

static int
fclass(float f)
{
    return isnan(f) ? 0 : isinf(f) ? (f > 0 ? 1 : -1) : 2;
}

static void
test_nonfinite_same_class(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    const lh_vec_kernels *sc = &lh__vec_scalar;
    const float specials[] = {NAN, INFINITY, -INFINITY, 3e38f};
    float a[200], b[200];
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 3);
    for (size_t dim = 1; dim <= 200; dim += 13) {
        for (size_t s = 0; s < LH_ARRAY_LEN(specials); s++) {
            fill(&r, a, dim, 1.0);
            fill(&r, b, dim, 1.0);
            a[(dim * 7) % dim] = specials[s];
            uint16_t h[200];
            sc->f32_to_f16(b, dim, h);
            float sl = sc->l2sq(a, b, dim), sd = sc->dot(a, b, dim);
            float scs = sc->cos_dist(a, b, dim);
            if (isnan(specials[s])) {
                assert_true(isnan(sl) && isnan(sd) && isnan(scs));
            }
            if (isinf(specials[s])) {
                assert_true(isinf(sl));
            }
            for (size_t t = 0; t < nk; t++) {
                assert_int_equal(fclass(sl), fclass(ks[t]->l2sq(a, b, dim)));
                assert_int_equal(fclass(sd), fclass(ks[t]->dot(a, b, dim)));
                assert_int_equal(fclass(scs),
                                 fclass(ks[t]->cos_dist(a, b, dim)));
                assert_int_equal(fclass(sc->l2sq_f16(a, h, dim)),
                                 fclass(ks[t]->l2sq_f16(a, h, dim)));
                if (fclass(sl) == 2) {
                    assert_true(fbits(sl) == fbits(ks[t]->l2sq(a, b, dim)));
                }
            }
        }
    }
}

static void
test_f16_conversions(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    /* every half: to float and back is the identity (NaN: stays NaN) */
    static uint16_t all[65536], back[65536];
    static float f[65536], f2[65536], f3[65536];
    for (uint32_t i = 0; i < 65536; i++) {
        all[i] = (uint16_t)i;
    }
    lh__vec_scalar.f16_to_f32(all, 65536, f);
    lh__vec_scalar.f32_to_f16(f, 65536, back);
    for (uint32_t i = 0; i < 65536; i++) {
        bool nan = (i & 0x7c00u) == 0x7c00u && (i & 0x3ffu) != 0;
        if (nan) {
            assert_true(isnan(f[i]));
            assert_int_equal(back[i], i | 0x200u); /* quieted */
        } else {
            assert_int_equal(back[i], i);
        }
    }
    assert_true(lh_vec_f16_to_f32_one(0x3c00) == 1.0f);
    assert_true(lh_vec_f16_to_f32_one(0x0001) == 0x1p-24f);
    assert_int_equal(lh_vec_f32_to_f16_one(65520.0f), 0x7c00); /* to inf */
    assert_int_equal(lh_vec_f32_to_f16_one(65504.0f), 0x7bff);
    assert_int_equal(lh_vec_f32_to_f16_one(0x1p-25f), 0x0000); /* tie even */
    assert_int_equal(lh_vec_f32_to_f16_one(0x1.8p-24f), 0x0002);
    /* the SIMD conversions equal the scalar on random bit patterns and the
     * edges, both ways */
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 5);
    for (uint32_t i = 0; i < 65536; i++) {
        uint32_t b = (uint32_t)lh__vec_rng_next(&r);
        if (i < 512) {
            /* around every half's rounding boundary */
            b = ((uint32_t)(i % 64) << 23 | 0x1000u * (i / 64)) +
                (uint32_t)(0x38000000u - 0x800000u * 16);
        }
        memcpy(&f[i], &b, 4);
    }
    uint16_t want[65536];
    lh__vec_scalar.f32_to_f16(f, 65536, want);
    for (size_t t = 0; t < nk; t++) {
        for (size_t n = 65536; n > 65500; n -= 7) {
            memset(back, 0, sizeof(back));
            ks[t]->f32_to_f16(f, n, back);
            for (size_t i = 0; i < n; i++) {
                if (want[i] != back[i]) {
                    fail_msg("%s f32_to_f16(%a): scalar %04x, got %04x",
                             ks[t]->name, (double)f[i], want[i], back[i]);
                }
            }
        }
        ks[t]->f16_to_f32(all, 65533, f2);
        lh__vec_scalar.f16_to_f32(all, 65533, f3);
        for (size_t i = 0; i < 65533; i++) {
            assert_true(fbits(f3[i]) == fbits(f2[i]));
        }
    }
}

static void
test_int8(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    static int8_t a[70000], b[70000];
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 9);
    const size_t ds[] = {1, 15, 16, 17, 31, 32, 33, 100, 1024, 65536};
    for (size_t di = 0; di < LH_ARRAY_LEN(ds); di++) {
        size_t dim = ds[di];
        for (size_t i = 0; i < dim; i++) {
            a[i] = (int8_t)(lh__vec_rng_next(&r) % 255 - 127);
            b[i] = (int8_t)(lh__vec_rng_next(&r) % 255 - 127);
        }
        if (di == LH_ARRAY_LEN(ds) - 1) {
            /* the largest sums the limit allows */
            memset(a, 127, dim);
            memset(b, -127, dim);
        }
        int64_t l2 = 0, dot = 0;
        for (size_t i = 0; i < dim; i++) {
            l2 += (int64_t)(a[i] - b[i]) * (a[i] - b[i]);
            dot += (int64_t)a[i] * b[i];
        }
        assert_int_equal(lh__vec_scalar.l2sq_i8(a, b, dim), l2);
        assert_int_equal(lh__vec_scalar.dot_i8(a, b, dim), dot);
        for (size_t t = 0; t < nk; t++) {
            assert_int_equal(ks[t]->l2sq_i8(a, b, dim), l2);
            assert_int_equal(ks[t]->dot_i8(a, b, dim), dot);
        }
    }
    /* quantization: error within half a step per element */
    float x[300], y[300];
    fill(&r, x, 300, 2.0);
    float sc;
    lh_vec_i8_quantize(x, 300, a, &sc);
    for (int i = 0; i < 300; i++) {
        assert_true(fabsf(a[i] * sc - x[i]) <= sc * 0.5f + 1e-6f);
    }
    fill(&r, y, 300, 2.0);
    float sy;
    lh_vec_i8_quantize(y, 300, b, &sy);
    float approx = lh_vec_i8_dot(lh_vec_kernels_best(), a, sc, b, sy, 300);
    float exact = lh_vec_dot(x, y, 300);
    assert_true(fabsf(approx - exact) < 0.05f * 300);
    float zero[4] = {0};
    lh_vec_i8_quantize(zero, 4, a, &sc);
    assert_true(sc == 0.0f && a[0] == 0 && a[3] == 0);
}

static void
test_pq_scan(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 13);
    const size_t ms[] = {1, 4, 8, 16, 32, 64};
    static float lut[64 * 256], want[100], got[100];
    static uint8_t codes[112 * 64];
    fill(&r, lut, 64 * 256, 1.0);
    for (size_t mi = 0; mi < LH_ARRAY_LEN(ms); mi++) {
        size_t m = ms[mi];
        for (size_t i = 0; i < sizeof(codes); i++) {
            codes[i] = (uint8_t)lh__vec_rng_next(&r);
        }
        for (size_t n = 1; n <= 100; n += 11) {
            lh__vec_scalar.pq_scan(lut, m, codes, n, 0.5f, want);
            for (size_t i = 0; i < n; i++) {
                /* the blocked layout, summed in order */
                float s = 0.5f;
                for (size_t j = 0; j < m; j++) {
                    s += lut[j * 256 +
                             codes[(i / 16) * 16 * m + j * 16 + i % 16]];
                }
                assert_true(fbits(s) == fbits(want[i]));
            }
            for (size_t t = 0; t < nk; t++) {
                ks[t]->pq_scan(lut, m, codes, n, 0.5f, got);
                for (size_t i = 0; i < n; i++) {
                    assert_true(fbits(want[i]) == fbits(got[i]));
                }
            }
        }
    }
}

static void
test_x16(void **state)
{
    (void)state;
    const lh_vec_kernels *ks[LH_VEC_ISA_COUNT];
    size_t nk = tables(ks);
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 19);
    static float x[300], ct[300 * 16];
    float want[16], got[16], want_d[16], got_d[16];
    for (size_t dim = 1; dim <= 300; dim += dim < 20 ? 1 : 37) {
        fill(&r, x, dim, 1.0);
        fill(&r, ct, dim * 16, 1.0);
        lh__vec_scalar.l2sq_x16(x, ct, dim, want);
        lh__vec_scalar.dot_x16(x, ct, dim, want_d);
        for (size_t c = 0; c < 16; c++) {
            float col[300];
            for (size_t d = 0; d < dim; d++) {
                col[d] = ct[d * 16 + c];
            }
            /* close to the row kernels (another order, same sums) */
            float l2 = lh__vec_scalar.l2sq(x, col, dim);
            assert_true(fabsf(l2 - want[c]) <= 1e-5f * (l2 + 1));
            float dt = lh__vec_scalar.dot(x, col, dim);
            assert_true(fabsf(dt - want_d[c]) <= 1e-4f * (1 + (float)dim));
        }
        for (size_t t = 0; t < nk; t++) {
            ks[t]->l2sq_x16(x, ct, dim, got);
            ks[t]->dot_x16(x, ct, dim, got_d);
            for (size_t c = 0; c < 16; c++) {
                ASSERT_BITS(want[c], got[c], "l2sq_x16", ks[t]->name, dim);
                ASSERT_BITS(want_d[c], got_d[c], "dot_x16", ks[t]->name, dim);
            }
        }
    }
}

static void
test_many_and_check(void **state)
{
    (void)state;
    const lh_vec_kernels *k = lh_vec_kernels_best();
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 17);
    float q[40], base[50 * 41], out[50];
    fill(&r, q, 40, 1.0);
    fill(&r, base, 50 * 41, 1.0);
    for (int m = 0; m < 3; m++) {
        lh_vec_dist_many(k, (lh_vec_metric)m, q, base, 50, 41, 40, out);
        for (size_t i = 0; i < 50; i++) {
            assert_true(
                fbits(out[i]) ==
                fbits(lh_vec_dist(k, (lh_vec_metric)m, q, base + i * 41, 40)));
        }
        uint32_t rows[3] = {49, 0, 7};
        lh_vec_dist_rows(k, (lh_vec_metric)m, q, base, 41, rows, 3, 40, out);
        assert_true(fbits(out[0]) == fbits(lh_vec_dist(k, (lh_vec_metric)m, q,
                                                       base + 49 * 41, 40)));
    }
    assert_true(lh_vec_dist(k, LH_VEC_IP, q, q, 40) == -k->dot(q, q, 40));
    lh_err err;
    assert_int_equal(lh_vec_check(q, 40, "query vector", &err), LH_OK);
    q[3] = NAN;
    assert_int_equal(lh_vec_check(q, 40, "query vector", &err), LH_EINVAL);
    assert_string_equal(err.msg, "query vector has NaN at element 3");
    q[3] = -INFINITY;
    assert_int_equal(lh_vec_check(q, 40, "query vector", &err), LH_EINVAL);
    assert_string_equal(err.msg, "query vector has infinity at element 3");
    assert_int_equal(lh_vec_check(q, 0, "query vector", &err), LH_EINVAL);
    lh_vec_metric m;
    assert_int_equal(lh_vec_metric_parse("cosine", &m, NULL), LH_OK);
    assert_int_equal(m, LH_VEC_COS);
    assert_int_equal(lh_vec_metric_parse("dot", &m, &err), LH_EINVAL);
    assert_string_equal(lh_vec_metric_name(LH_VEC_IP), "ip");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_kernels_bitwise),
        cmocka_unit_test(test_scalar_against_double),
        cmocka_unit_test(test_cosine_zero_vectors),
        cmocka_unit_test(test_nonfinite_same_class),
        cmocka_unit_test(test_f16_conversions),
        cmocka_unit_test(test_int8),
        cmocka_unit_test(test_pq_scan),
        cmocka_unit_test(test_x16),
        cmocka_unit_test(test_many_and_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
