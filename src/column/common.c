/* Small text helpers shared by the files of src/column. */
#include <pthread.h>
#include <string.h>

#include "column/column_int.h"

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void
c_locale_init(void)
{
    /* never freed: one object for the life of the process, like a const
     * table; (locale_t)0 on failure, which uselocale treats as "query" */
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t
lh__c_locale_enter(void)
{
    pthread_once(&c_locale_once, c_locale_init);
    return uselocale(c_locale);
}

void
lh__c_locale_leave(locale_t old)
{
    uselocale(old);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

const char *
lh__trim(const char *s, size_t *n)
{
    size_t len = *n;
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1])) {
        len--;
    }
    *n = len;
    return s;
}

bool
lh__eq_nocase(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    if (wl != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char a = s[i];
        char b = word[i];
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

size_t
lh__utf8_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            count++;
        }
    }
    return count;
}

/* Bytes of the UTF-8 sequence starting at s[0], at most n; a stray byte
 * counts as one so that cutting never loops. */
static size_t
seq_len(const unsigned char *s, size_t n)
{
    size_t want = 1;
    if (s[0] >= 0xF0) {
        want = 4;
    } else if (s[0] >= 0xE0) {
        want = 3;
    } else if (s[0] >= 0xC0) {
        want = 2;
    }
    if (want > n) {
        return 1;
    }
    for (size_t i = 1; i < want; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 1;
        }
    }
    return want;
}

const char *
lh__quote(char *buf, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    size_t i = 0;

    buf[o++] = '"';
    while (i < n) {
        size_t k = seq_len(u + i, n - i);
        if (i + k > LH__QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = u[i];
        if (k > 1) {
            memcpy(buf + o, u + i, k);
            o += k;
        } else if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c == '\t') {
            buf[o++] = '\\';
            buf[o++] = 't';
        } else if (c < 0x20 || c >= 0x7F) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
        i += k;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
