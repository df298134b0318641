/* Text helpers: UTF-8 validation and JSON string escaping. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

/* The length of the well-formed UTF-8 sequence at s[0..n), or 0 when it is
 * not one (Unicode 15, table 3-7: no overlongs, no surrogates, nothing
 * above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
            lo = 0xa0; /* below: overlong */
        } else if (c == 0xed) {
            hi = 0x9f; /* above: surrogates U+D800..U+DFFF */
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
            lo = 0x90; /* below: overlong */
        } else if (c == 0xf4) {
            hi = 0x8f; /* above: past U+10FFFF */
        }
    } else {
        return 0; /* continuation byte, C0, C1 or F5..FF */
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

bool
lh_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

lh_rc
lh_buf_json_string(lh_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    lh_buf_putc(b, '"');
    size_t run = 0; /* bytes of p[i - run .. i) to copy as they are */
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t k = utf8_seq(p + i, n - i);
            if (k > 0) {
                run += k;
                i += k;
                continue;
            }
        }
        lh_buf_append(b, p + i - run, run);
        run = 0;
        i++;
        switch (c) {
        case '"':
            lh_buf_puts(b, "\\\"");
            break;
        case '\\':
            lh_buf_puts(b, "\\\\");
            break;
        case '\n':
            lh_buf_puts(b, "\\n");
            break;
        case '\t':
            lh_buf_puts(b, "\\t");
            break;
        case '\r':
            lh_buf_puts(b, "\\r");
            break;
        case '\b':
            lh_buf_puts(b, "\\b");
            break;
        case '\f':
            lh_buf_puts(b, "\\f");
            break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                lh_buf_append(b, esc, sizeof(esc));
            } else {
                /* Not UTF-8: JSON text must be, so U+FFFD per bad byte. */
                lh_buf_append(b, "\xef\xbf\xbd", 3);
            }
            break;
        }
    }
    if (run > 0) { /* p may be NULL for an empty string */
        lh_buf_append(b, p + i - run, run);
    }
    lh_buf_putc(b, '"');
    return lh_buf_ok(b) ? LH_OK : LH_ENOMEM;
}

int
lh_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool
lh_size_parse(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0])) {
        return false; /* no sign, no spaces: strtoll would take them */
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || v < 0) {
        return false;
    }
    int shift = 0;
    char u = (char)tolower((unsigned char)*end);
    if (u == 'k' || u == 'm' || u == 'g' || u == 't') {
        shift = u == 'k' ? 10 : u == 'm' ? 20 : u == 'g' ? 30 : 40;
        end++;
        if (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0) {
            end += strlen(end);
        }
    } else if (strcasecmp(end, "b") == 0) {
        end++;
    }
    if (*end != 0 || (shift > 0 && v > (INT64_MAX >> shift))) {
        return false;
    }
    *out = (int64_t)v << shift;
    return true;
}
