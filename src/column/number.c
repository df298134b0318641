/*
 * Numbers as text: doubles and floats in the shortest form that reads back
 * to the same value, and DECIMAL's exact text.
 *
 * Shortest form. PostgreSQL 12+ prints float8 and float4 with Ryu: the
 * fewest significant digits that read back to the same binary value, in
 * fixed notation when the decimal exponent is in -4..14 (-4..5 for float4,
 * as printf's %g would with 15 and 6 digits) and otherwise as 1e+300,
 * 1.5e-07 (at least two exponent digits). We get the same digits from
 * printf: for a normal double, DBL_DIG = 15 guarantees that any decimal of
 * up to 15 digits survives the trip through binary, so if a short form
 * exists "%.14e" (15 digits) finds it, trailing zeros aside; otherwise 16,
 * otherwise 17, which always reads back. Subnormals have fewer bits, so
 * there we count up from one digit (5e-324). Floats do the same from
 * FLT_DIG = 6 to 9 digits.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "column/column_int.h"

/* Digits of a "%.*e" rendering: "-1.2345e+07" -> digits "12345", exp 7.
 * Trailing zeros of the mantissa are dropped. Returns the digit count. */
static int
split_e(const char *txt, char *digits, int *exp10)
{
    const char *p = txt;
    int n = 0;
    if (*p == '-') {
        p++;
    }
    for (; *p != 'e' && *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            digits[n++] = *p;
        }
    }
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (n > 1 && digits[n - 1] == '0') {
        n--;
    }
    return n;
}

/* Lays out digits d[0..n) with value 0.d * 10^(exp10+1) the way Ryu's
 * to_chars does in PostgreSQL: fixed for -4 <= exp10 < fixed_max. */
static size_t
layout(bool neg, const char *d, int n, int exp10, int fixed_max, char *buf)
{
    size_t o = 0;
    if (neg) {
        buf[o++] = '-';
    }
    if (exp10 >= -4 && exp10 < fixed_max) {
        if (exp10 < 0) {
            buf[o++] = '0';
            buf[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++) {
                buf[o++] = '0';
            }
            memcpy(buf + o, d, (size_t)n);
            o += (size_t)n;
        } else if (n <= exp10 + 1) {
            memcpy(buf + o, d, (size_t)n);
            o += (size_t)n;
            for (int i = n; i < exp10 + 1; i++) {
                buf[o++] = '0';
            }
        } else {
            memcpy(buf + o, d, (size_t)exp10 + 1);
            o += (size_t)exp10 + 1;
            buf[o++] = '.';
            memcpy(buf + o, d + exp10 + 1, (size_t)(n - exp10 - 1));
            o += (size_t)(n - exp10 - 1);
        }
    } else {
        buf[o++] = d[0];
        if (n > 1) {
            buf[o++] = '.';
            memcpy(buf + o, d + 1, (size_t)n - 1);
            o += (size_t)n - 1;
        }
        o += (size_t)sprintf(buf + o, "e%c%02d", exp10 < 0 ? '-' : '+',
                             exp10 < 0 ? -exp10 : exp10);
    }
    buf[o] = '\0';
    return o;
}

/* NaN, infinities and zeros; 0 when d is none of those. */
static size_t
special(double d, char *buf)
{
    const char *s = NULL;
    if (isnan(d)) {
        s = "NaN";
    } else if (isinf(d)) {
        s = d > 0 ? "Infinity" : "-Infinity";
    } else if (d == 0) {
        s = signbit(d) ? "-0" : "0";
    } else {
        return 0;
    }
    strcpy(buf, s);
    return strlen(s);
}

size_t
lh_double_format(double d, char *buf)
{
    char txt[40];
    char digits[24];
    int exp10 = 0;
    size_t n = special(d, buf);
    if (n > 0) {
        return n;
    }
    locale_t old = lh__c_locale_enter();
    int prec = fabs(d) < DBL_MIN ? 1 : DBL_DIG;
    for (; prec < 17; prec++) {
        snprintf(txt, sizeof(txt), "%.*e", prec - 1, d);
        if (strtod(txt, NULL) == d) {
            break;
        }
    }
    snprintf(txt, sizeof(txt), "%.*e", prec - 1, d);
    lh__c_locale_leave(old);
    int nd = split_e(txt, digits, &exp10);
    return layout(d < 0, digits, nd, exp10, 15, buf);
}

size_t
lh_float_format(float f, char *buf)
{
    char txt[40];
    char digits[24];
    int exp10 = 0;
    size_t n = special(f, buf);
    if (n > 0) {
        return n;
    }
    locale_t old = lh__c_locale_enter();
    int prec = fabsf(f) < FLT_MIN ? 1 : FLT_DIG;
    for (; prec < 9; prec++) {
        snprintf(txt, sizeof(txt), "%.*e", prec - 1, (double)f);
        if (strtof(txt, NULL) == f) {
            break;
        }
    }
    snprintf(txt, sizeof(txt), "%.*e", prec - 1, (double)f);
    lh__c_locale_leave(old);
    int nd = split_e(txt, digits, &exp10);
    return layout(f < 0, digits, nd, exp10, 6, buf);
}

/* ---- DECIMAL ------------------------------------------------------------- */

typedef unsigned __int128 u128;

size_t
lh_decimal_format(lh_i128 v, int scale, char *buf)
{
    char rev[48];
    int nd = 0;
    size_t o = 0;
    /* the magnitude in unsigned arithmetic: -v overflows for the minimum */
    u128 m = v < 0 ? (u128)0 - (u128)v : (u128)v;

    if (scale < 0) {
        scale = 0;
    }
    do {
        rev[nd++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m != 0);
    while (nd <= scale) {
        rev[nd++] = '0';
    }
    if (v < 0) {
        buf[o++] = '-';
    }
    for (int i = nd - 1; i >= 0; i--) {
        buf[o++] = rev[i];
        if (i == scale && scale > 0) {
            buf[o++] = '.';
        }
    }
    buf[o] = '\0';
    return o;
}

/* The parts of a decimal literal: sig[0..nsig) are its significant digits
 * (no leading or trailing zeros; at most SIG_MAX kept, `dropped` more were
 * seen) and the value is about sig * 10^exp (exactly when none dropped). */
#define SIG_MAX 40
typedef struct dec_parts {
    bool neg;
    char sig[SIG_MAX];
    int nsig;
    int64_t dropped;
    int64_t exp;
} dec_parts;

/* Exponents are clamped here: far past any precision, far from overflow. */
#define EXP_CLAMP INT64_C(1000000000)

static bool
split_decimal(const char *s, size_t n, dec_parts *d)
{
    size_t i = 0;
    int64_t frac_digits = 0;
    int64_t zeros = 0; /* zeros seen after the last kept nonzero digit */
    bool any = false;
    bool seen_point = false;

    memset(d, 0, sizeof(*d));
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        d->neg = s[i] == '-';
        i++;
    }
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9') {
            break;
        }
        any = true;
        if (seen_point) {
            frac_digits++;
        }
        if (c == '0') {
            if (d->nsig > 0) {
                zeros++;
            }
            continue;
        }
        /* a nonzero digit: the zeros before it are significant */
        for (; zeros > 0; zeros--) {
            if (d->nsig < SIG_MAX) {
                d->sig[d->nsig++] = '0';
            } else {
                d->dropped++;
            }
        }
        if (d->nsig < SIG_MAX) {
            d->sig[d->nsig++] = c;
        } else {
            d->dropped++;
        }
    }
    if (!any) {
        return false;
    }
    int64_t e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= n || s[i] < '0' || s[i] > '9') {
            return false;
        }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (e < EXP_CLAMP) {
                e = e * 10 + (s[i] - '0');
            }
        }
        e = eneg ? -e : e;
    }
    if (i != n) {
        return false;
    }
    /* sig holds digits up to the last nonzero one; `zeros` trailing zeros
     * and the fraction digits shift the exponent */
    d->exp = e + zeros + d->dropped - frac_digits;
    return true;
}

lh_rc
lh_decimal_parse(const char *s, size_t len, int precision, int scale,
                 lh_i128 *out, lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    dec_parts d;
    size_t n = len;
    const char *t = lh__trim(s, &n);

    *out = 0;
    if (NEVER(precision < 1 || precision > LH_DECIMAL_MAX_PRECISION ||
              scale < 0 || scale > precision)) {
        return lh_err_set(err, LH_EINVAL, "bad DECIMAL(%d,%d)", precision,
                          scale);
    }
    if (!split_decimal(t, n, &d)) {
        return lh_err_set(err, LH_EINVAL, "invalid DECIMAL(%d,%d) %s",
                          precision, scale, lh__quote(q, t, n));
    }
    if (d.nsig == 0) {
        return LH_OK; /* zero, whatever its exponent */
    }
    int64_t shift = d.exp + scale; /* unscaled = sig * 10^shift */
    if (shift < 0) {
        return lh_err_set(err, LH_ELIMIT,
                          "value %s has more fraction digits than "
                          "DECIMAL(%d,%d) holds (%d)",
                          lh__quote(q, t, n), precision, scale, scale);
    }
    if (d.nsig + d.dropped + shift > precision) {
        return lh_err_set(err, LH_ELIMIT,
                          "value %s is out of range for DECIMAL(%d,%d)",
                          lh__quote(q, t, n), precision, scale);
    }
    lh_i128 v = 0;
    for (int i = 0; i < d.nsig; i++) {
        v = v * 10 + (d.sig[i] - '0');
    }
    for (int64_t i = 0; i < shift; i++) {
        v *= 10;
    }
    *out = d.neg ? -v : v;
    return LH_OK;
}
