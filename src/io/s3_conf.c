/*
 * The S3 store's configuration: the "s3://" URI (grammar in io.h), then
 * the environment and AWS's shared config files, in the order AWS's own
 * tools use: a URI parameter wins, then the environment, then the files,
 * then the default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/s3_int.h"

/* Shared config files larger than this are refused (they are a few lines). */
#define CONF_FILE_MAX (1u << 20)

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_RETRIES 4
#define DEFAULT_RETRY_BASE_MS 100
#define DEFAULT_RETRY_CAP_MS 5000
#define DEFAULT_MULTIPART_THRESHOLD ((uint64_t)64 << 20)
#define DEFAULT_PART_SIZE ((uint64_t)16 << 20)

static lh_rc
bad(lh_err *err, const char *uri, const char *what)
{
    return lh_err_set(err, LH_EINVAL, "invalid object store uri \"%s\": %s",
                      uri, what);
}

static lh_rc
oom(lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory opening an s3 store");
}

static const char *
env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Percent-decodes s[0..n) into an lh_malloc'd string; NULL on a bad
 * escape or a NUL (*bad_escape set) or when out of memory. */
static char *
decode(const char *s, size_t n, bool *bad_escape)
{
    *bad_escape = false;
    char *out = lh_malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < n ? lh_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? lh_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                *bad_escape = true;
                lh_free(out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[j++] = c;
    }
    out[j] = '\0';
    return out;
}

/* Printable ASCII without spaces: what may go into a header or the
 * signing string. */
static bool
token_ok(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s <= ' ' || *s > '~') {
            return false;
        }
    }
    return true;
}

/* A number with an optional binary suffix: 5242880, 64K, 16M, 1G. */
static bool
parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return false;
    }
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') {
        shift = 10;
    } else if (*end == 'M' || *end == 'm') {
        shift = 20;
    } else if (*end == 'G' || *end == 'g') {
        shift = 30;
    }
    if (shift > 0) {
        end++;
        if (*end == 'i' && end[1] == 'B') {
            end += 2;
        } else if (*end == 'B') {
            end++;
        }
    }
    if (*end != '\0' || v > (UINT64_MAX >> shift)) {
        return false;
    }
    *out = (uint64_t)v << shift;
    return true;
}

static bool
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* ---- the shared config files -------------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

static const char *
trim_end(const char *p, const char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
        end--;
    }
    return end;
}

/* Whether the section header text [p, end) (inside the brackets) names
 * `section`, with runs of white space counting as one space. */
static bool
section_is(const char *p, const char *end, const char *section)
{
    p = skip_ws(p, end);
    end = trim_end(p, end);
    const char *s = section;
    while (p < end && *s != '\0') {
        if (*p == ' ' || *p == '\t') {
            if (*s != ' ') {
                return false;
            }
            p = skip_ws(p, end);
            s++;
            continue;
        }
        if (*p != *s) {
            return false;
        }
        p++;
        s++;
    }
    return p == end && *s == '\0';
}

lh_rc
lh__s3_ini_get(const char *text, size_t len, const char *section,
               const char *name, char **out)
{
    *out = NULL;
    const char *p = text;
    const char *stop = text + len;
    bool in = false;
    size_t nlen = strlen(name);
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        const char *line_end = eol != NULL ? eol : stop;
        const char *next = eol != NULL ? eol + 1 : stop;
        bool indented = p < line_end && (*p == ' ' || *p == '\t');
        const char *q = skip_ws(p, line_end);
        const char *e = trim_end(q, line_end);
        p = next;
        if (q == e || *q == '#' || *q == ';') {
            continue;
        }
        if (*q == '[') {
            const char *close = memchr(q, ']', (size_t)(e - q));
            in = close != NULL && section_is(q + 1, close, section);
            continue;
        }
        if (!in || indented) {
            continue; /* another section, or a nested block */
        }
        const char *eq = memchr(q, '=', (size_t)(e - q));
        if (eq == NULL) {
            continue;
        }
        const char *kend = trim_end(q, eq);
        if ((size_t)(kend - q) != nlen || strncasecmp(q, name, nlen) != 0) {
            continue;
        }
        const char *v = skip_ws(eq + 1, e);
        lh_free(*out); /* a later line wins, as in AWS's reader */
        *out = lh_strndup(v, (size_t)(e - v));
        if (*out == NULL) {
            return LH_ENOMEM;
        }
    }
    return LH_OK;
}

/* Reads a whole shared config file into b; *found false (and LH_OK) when
 * it does not exist. */
static lh_rc
read_conf_file(const char *path, lh_buf *b, bool *found, lh_err *err)
{
    *found = false;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return LH_OK;
        }
        return lh_err_sys(err, LH_EIO, errno, "could not read \"%s\"", path);
    }
    char chunk[4096];
    size_t r;
    lh_rc rc = LH_OK;
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b->len + r > CONF_FILE_MAX) {
            rc = lh_err_set(err, LH_EINVAL,
                            "\"%s\" is larger than %u bytes: not an aws "
                            "config file",
                            path, CONF_FILE_MAX);
            break;
        }
        lh_buf_append(b, chunk, r);
    }
    if (rc == LH_OK && ferror(f)) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not read \"%s\"", path);
    }
    fclose(f);
    if (rc == LH_OK && !lh_buf_ok(b)) {
        rc = oom(err);
    }
    *found = rc == LH_OK;
    return rc;
}

/* The config and credentials files of the profile, read once. */
typedef struct files {
    lh_buf config;
    lh_buf creds;
    bool has_config;
    bool has_creds;
    char *config_section; /* "default" or "profile NAME" */
    const char *profile;
} files;

static lh_rc
files_load(files *fs, const char *profile, lh_err *err)
{
    memset(fs, 0, sizeof(*fs));
    fs->profile = profile;
    lh_buf path = LH_BUF_INIT;
    const char *home = env("HOME");
    lh_rc rc = LH_OK;
    const char *cfg = env("AWS_CONFIG_FILE");
    if (cfg == NULL && home != NULL) {
        lh_buf_printf(&path, "%s/.aws/config", home);
        cfg = path.data;
    }
    if (cfg != NULL && lh_buf_ok(&path)) {
        rc = read_conf_file(cfg, &fs->config, &fs->has_config, err);
    }
    lh_buf_reset(&path);
    const char *cred = env("AWS_SHARED_CREDENTIALS_FILE");
    if (rc == LH_OK && cred == NULL && home != NULL) {
        lh_buf_printf(&path, "%s/.aws/credentials", home);
        cred = path.data;
    }
    if (rc == LH_OK && cred != NULL && lh_buf_ok(&path)) {
        rc = read_conf_file(cred, &fs->creds, &fs->has_creds, err);
    }
    if (rc == LH_OK && !lh_buf_ok(&path)) {
        rc = oom(err);
    }
    lh_buf_release(&path);
    if (rc == LH_OK) {
        lh_buf s = LH_BUF_INIT;
        if (strcmp(profile, "default") == 0) {
            lh_buf_puts(&s, "default");
        } else {
            lh_buf_printf(&s, "profile %s", profile);
        }
        fs->config_section = lh_buf_take(&s, NULL);
        if (fs->config_section == NULL) {
            rc = oom(err);
        }
    }
    return rc;
}

static void
files_release(files *fs)
{
    lh_buf_release(&fs->config);
    lh_buf_release(&fs->creds);
    lh_free(fs->config_section);
}

/* name from the profile's section: the credentials file first (when
 * creds_too), then the config file. */
static lh_rc
files_get(const files *fs, const char *name, bool creds_too, char **out)
{
    *out = NULL;
    if (creds_too && fs->has_creds) {
        lh_rc rc = lh__s3_ini_get(fs->creds.data, fs->creds.len, fs->profile,
                                  name, out);
        if (rc != LH_OK || *out != NULL) {
            return rc;
        }
    }
    if (fs->has_config) {
        lh_rc rc = lh__s3_ini_get(fs->config.data, fs->config.len,
                                  fs->config_section, name, out);
        /* [profile default] is accepted for the default profile too. */
        if (rc == LH_OK && *out == NULL &&
            strcmp(fs->profile, "default") == 0) {
            rc = lh__s3_ini_get(fs->config.data, fs->config.len,
                                "profile default", name, out);
        }
        return rc;
    }
    return LH_OK;
}

/* Whether the profile has a section in either file. */
static bool
files_has_profile(const files *fs)
{
    const char *needles[2] = {fs->profile, fs->config_section};
    const lh_buf *texts[2] = {&fs->creds, &fs->config};
    for (int i = 0; i < 2; i++) {
        const char *p = texts[i]->data;
        const char *stop = p + texts[i]->len;
        while (p != NULL && p < stop) {
            const char *eol = memchr(p, '\n', (size_t)(stop - p));
            const char *le = eol != NULL ? eol : stop;
            const char *q = skip_ws(p, le);
            const char *close =
                q < le && *q == '[' ? memchr(q, ']', (size_t)(le - q)) : NULL;
            if (close != NULL && section_is(q + 1, close, needles[i])) {
                return true;
            }
            p = eol != NULL ? eol + 1 : NULL;
        }
    }
    return false;
}

/* ---- the URI ------------------------------------------------------------ */

static lh_rc
set_str(char **slot, const char *v, lh_err *err)
{
    lh_free(*slot);
    *slot = lh_strdup(v);
    return *slot != NULL ? LH_OK : oom(err);
}

/* Splits "http[s]://host[:port][/]" into c->scheme and c->host. */
static lh_rc
parse_endpoint(const char *uri, const char *ep, lh__s3_conf *c, lh_err *err)
{
    const char *rest;
    const char *scheme;
    if (strncmp(ep, "http://", 7) == 0) {
        scheme = "http";
        rest = ep + 7;
    } else if (strncmp(ep, "https://", 8) == 0) {
        scheme = "https";
        rest = ep + 8;
    } else {
        return bad(err, uri, "endpoint must start with http:// or https://");
    }
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/') {
        n--;
    }
    if (n == 0 || n > 255) {
        return bad(err, uri, "endpoint has no host");
    }
    for (size_t i = 0; i < n; i++) {
        char ch = rest[i];
        if (!isalnum((unsigned char)ch) && ch != '.' && ch != '-' &&
            ch != ':' && ch != '[' && ch != ']' && ch != '_') {
            return bad(err, uri,
                       "endpoint must be scheme://host[:port] without a path");
        }
    }
    lh_rc rc = set_str(&c->scheme, scheme, err);
    if (rc == LH_OK) {
        lh_free(c->host);
        c->host = lh_strndup(rest, n);
        rc = c->host != NULL ? LH_OK : oom(err);
    }
    return rc;
}

static bool
bucket_ok(const char *b, bool virtual_style)
{
    size_t n = strlen(b);
    if (n < 3 || n > (virtual_style ? 63 : 255)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        bool lower = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                     ch == '-' || ch == '.';
        /* Path-style allows the legacy names of us-east-1. */
        bool legacy = (ch >= 'A' && ch <= 'Z') || ch == '_';
        if (!lower && (virtual_style || !legacy)) {
            return false;
        }
    }
    return true;
}

/* The URI's parameters, as given (decoded), NULL when absent. */
typedef struct params {
    char *endpoint, *region, *style, *timeout_ms, *connect_timeout_ms, *retries,
        *retry_base_ms, *retry_cap_ms, *multipart_threshold, *part_size,
        *profile;
} params;

static void
params_release(params *p)
{
    char **f[] = {&p->endpoint,
                  &p->region,
                  &p->style,
                  &p->timeout_ms,
                  &p->connect_timeout_ms,
                  &p->retries,
                  &p->retry_base_ms,
                  &p->retry_cap_ms,
                  &p->multipart_threshold,
                  &p->part_size,
                  &p->profile};
    for (size_t i = 0; i < LH_ARRAY_LEN(f); i++) {
        lh_free(*f[i]);
    }
}

static char **
param_slot(params *p, const char *name, size_t n)
{
    static const char *const names[] = {"endpoint",
                                        "region",
                                        "style",
                                        "timeout_ms",
                                        "connect_timeout_ms",
                                        "retries",
                                        "retry_base_ms",
                                        "retry_cap_ms",
                                        "multipart_threshold",
                                        "part_size",
                                        "profile"};
    char **slots[] = {&p->endpoint,
                      &p->region,
                      &p->style,
                      &p->timeout_ms,
                      &p->connect_timeout_ms,
                      &p->retries,
                      &p->retry_base_ms,
                      &p->retry_cap_ms,
                      &p->multipart_threshold,
                      &p->part_size,
                      &p->profile};
    for (size_t i = 0; i < LH_ARRAY_LEN(names); i++) {
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0) {
            return slots[i];
        }
    }
    return NULL;
}

static lh_rc
parse_params(const char *uri, const char *q, params *p, lh_err *err)
{
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (n > 0) {
            size_t klen = eq != NULL ? (size_t)(eq - q) : n;
            char **slot = param_slot(p, q, klen);
            if (slot == NULL) {
                lh_err_set(err, LH_EINVAL,
                           "invalid object store uri \"%s\": unknown "
                           "parameter \"%.*s\"",
                           uri, (int)klen, q);
                return LH_EINVAL;
            }
            if (*slot != NULL) {
                lh_err_set(err, LH_EINVAL,
                           "invalid object store uri \"%s\": parameter "
                           "\"%.*s\" given twice",
                           uri, (int)klen, q);
                return LH_EINVAL;
            }
            if (eq == NULL || eq + 1 == q + n) {
                lh_err_set(err, LH_EINVAL,
                           "invalid object store uri \"%s\": parameter "
                           "\"%.*s\" has no value",
                           uri, (int)klen, q);
                return LH_EINVAL;
            }
            bool escape;
            *slot = decode(eq + 1, (size_t)(q + n - eq - 1), &escape);
            if (*slot == NULL) {
                return escape ? bad(err, uri, "bad percent escape") : oom(err);
            }
        }
        q += n;
        if (*q == '&') {
            q++;
        }
    }
    return LH_OK;
}

/* Numbers and sizes from the parameters into c. */
static lh_rc
apply_numbers(const char *uri, const params *p, lh__s3_conf *c, lh_err *err)
{
    const struct {
        const char *value, *name;
        unsigned long max;
        long *dst;
    } nums[] = {
        {p->timeout_ms, "timeout_ms", 86400000, &c->timeout_ms},
        {p->connect_timeout_ms, "connect_timeout_ms", 86400000,
         &c->connect_timeout_ms},
        {p->retries, "retries", 100, &c->retries},
        {p->retry_base_ms, "retry_base_ms", 600000, &c->retry_base_ms},
        {p->retry_cap_ms, "retry_cap_ms", 600000, &c->retry_cap_ms},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(nums); i++) {
        unsigned long v;
        if (nums[i].value == NULL) {
            continue;
        }
        if (!parse_uint(nums[i].value, nums[i].max, &v)) {
            return lh_err_set(err, LH_EINVAL,
                              "invalid object store uri \"%s\": %s must be "
                              "0..%lu",
                              uri, nums[i].name, nums[i].max);
        }
        *nums[i].dst = (long)v;
    }
    if (p->multipart_threshold != NULL &&
        (!parse_size(p->multipart_threshold, &c->multipart_threshold) ||
         c->multipart_threshold == 0 ||
         c->multipart_threshold > LH__S3_PUT_MAX)) {
        return bad(err, uri, "multipart_threshold must be 1 byte..5GiB");
    }
    if (p->part_size != NULL &&
        (!parse_size(p->part_size, &c->part_size) ||
         c->part_size < LH__S3_PART_MIN || c->part_size > LH__S3_PUT_MAX)) {
        return bad(err, uri, "part_size must be 5MiB..5GiB (S3's limits)");
    }
    return LH_OK;
}

/* Access key, secret and token: the environment, else the profile's. */
static lh_rc
resolve_credentials(const char *uri, const files *fs, bool profile_first,
                    lh__s3_conf *c, lh_err *err)
{
    const char *ak = env("AWS_ACCESS_KEY_ID");
    const char *sk = env("AWS_SECRET_ACCESS_KEY");
    lh_rc rc = LH_OK;
    if ((ak == NULL) != (sk == NULL)) {
        return lh_err_set(
            err, LH_EINVAL, "object store \"%s\": %s is set but %s is not", uri,
            ak != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
            ak != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    }
    if (ak != NULL && !profile_first) {
        rc = set_str(&c->access_key, ak, err);
        if (rc == LH_OK) {
            rc = set_str(&c->secret_key, sk, err);
        }
        const char *tok = env("AWS_SESSION_TOKEN");
        if (rc == LH_OK && tok != NULL) {
            rc = set_str(&c->token, tok, err);
        }
    } else {
        if (files_get(fs, "aws_access_key_id", true, &c->access_key) != LH_OK ||
            files_get(fs, "aws_secret_access_key", true, &c->secret_key) !=
                LH_OK ||
            files_get(fs, "aws_session_token", true, &c->token) != LH_OK) {
            return oom(err);
        }
        if ((c->access_key == NULL) != (c->secret_key == NULL)) {
            return lh_err_set(err, LH_EINVAL,
                              "object store \"%s\": profile \"%s\" has only "
                              "one of aws_access_key_id and "
                              "aws_secret_access_key",
                              uri, fs->profile);
        }
        if (c->access_key == NULL && ak != NULL) {
            /* A profile without keys: the environment's still apply. */
            rc = set_str(&c->access_key, ak, err);
            if (rc == LH_OK) {
                rc = set_str(&c->secret_key, sk, err);
            }
        }
    }
    if (rc != LH_OK) {
        return rc;
    }
    if ((c->access_key != NULL &&
         (!token_ok(c->access_key) || !token_ok(c->secret_key))) ||
        (c->token != NULL && !token_ok(c->token))) {
        return lh_err_set(err, LH_EINVAL,
                          "object store \"%s\": credentials contain spaces or "
                          "control characters",
                          uri);
    }
    return LH_OK;
}

/* Region, endpoint and addressing style. */
static lh_rc
resolve_place(const char *uri, const params *p, const files *fs, lh__s3_conf *c,
              lh_err *err)
{
    char *from_file = NULL;
    const char *region = p->region;
    if (region == NULL) {
        region = env("AWS_REGION");
    }
    if (region == NULL) {
        region = env("AWS_DEFAULT_REGION");
    }
    if (region == NULL) {
        if (files_get(fs, "region", false, &from_file) != LH_OK) {
            return oom(err);
        }
        region = from_file;
    }
    lh_rc rc = set_str(&c->region, region != NULL ? region : "us-east-1", err);
    lh_free(from_file);
    from_file = NULL;
    if (rc != LH_OK) {
        return rc;
    }
    for (const char *r = c->region; *r != '\0'; r++) {
        if (!isalnum((unsigned char)*r) && *r != '-' && *r != '_') {
            return bad(err, uri,
                       "region may hold only letters, digits, - "
                       "and _");
        }
    }
    if (c->region[0] == '\0') {
        return bad(err, uri, "empty region");
    }
    const char *ep = p->endpoint;
    if (ep == NULL) {
        ep = env("AWS_ENDPOINT_URL_S3");
    }
    if (ep == NULL) {
        ep = env("AWS_ENDPOINT_URL");
    }
    if (ep == NULL) {
        if (files_get(fs, "endpoint_url", false, &from_file) != LH_OK) {
            return oom(err);
        }
        ep = from_file;
    }
    bool custom = ep != NULL;
    if (custom) {
        rc = parse_endpoint(uri, ep, c, err);
    } else if (strcmp(c->region, "auto") == 0) {
        rc = bad(err, uri,
                 "region \"auto\" needs an endpoint (it is "
                 "Cloudflare R2's)");
    } else {
        lh_buf h = LH_BUF_INIT;
        if (strcmp(c->region, "us-east-1") == 0) {
            lh_buf_puts(&h, "s3.amazonaws.com");
        } else {
            lh_buf_printf(&h, "s3.%s.amazonaws.com", c->region);
        }
        c->host = lh_buf_take(&h, NULL);
        rc = c->host != NULL ? set_str(&c->scheme, "https", err) : oom(err);
    }
    lh_free(from_file);
    if (rc != LH_OK) {
        return rc;
    }
    if (p->style == NULL) {
        c->virtual_style = !custom;
    } else if (strcmp(p->style, "path") == 0) {
        c->virtual_style = false;
    } else if (strcmp(p->style, "virtual") == 0) {
        c->virtual_style = true;
    } else {
        return bad(err, uri, "style must be path or virtual");
    }
    return LH_OK;
}

/* Bucket and prefix from "bucket[/prefix]" (up to the '?'). */
static lh_rc
parse_location(const char *uri, const char *loc, size_t n, lh__s3_conf *c,
               lh_err *err)
{
    const char *slash = memchr(loc, '/', n);
    size_t blen = slash != NULL ? (size_t)(slash - loc) : n;
    c->bucket = lh_strndup(loc, blen);
    if (c->bucket == NULL) {
        return oom(err);
    }
    if (blen == 0) {
        return bad(err, uri, "no bucket");
    }
    const char *pre = slash != NULL ? slash + 1 : loc + n;
    size_t plen = (size_t)(loc + n - pre);
    bool escape;
    char *raw = decode(pre, plen, &escape);
    if (raw == NULL) {
        return escape ? bad(err, uri, "bad percent escape") : oom(err);
    }
    size_t rlen = strlen(raw);
    while (rlen > 0 && raw[rlen - 1] == '/') {
        raw[--rlen] = '\0';
    }
    lh_rc rc = LH_OK;
    if (rlen > 0) {
        lh_err e2;
        if (lh_io_key_check(raw, &e2) != LH_OK) {
            rc = bad(err, uri, "the prefix is not a valid key path");
        } else {
            lh_buf b = LH_BUF_INIT;
            lh_buf_printf(&b, "%s/", raw);
            c->prefix = lh_buf_take(&b, NULL);
        }
    } else {
        c->prefix = lh_strdup("");
    }
    if (rc == LH_OK && c->prefix == NULL) {
        rc = oom(err);
    }
    lh_free(raw);
    return rc;
}

lh_rc
lh__s3_conf_load(const char *uri, lh__s3_conf *c, lh_err *err)
{
    memset(c, 0, sizeof(*c));
    c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    c->retries = DEFAULT_RETRIES;
    c->retry_base_ms = DEFAULT_RETRY_BASE_MS;
    c->retry_cap_ms = DEFAULT_RETRY_CAP_MS;
    c->multipart_threshold = DEFAULT_MULTIPART_THRESHOLD;
    c->part_size = DEFAULT_PART_SIZE;
    if (strncmp(uri, "s3://", 5) != 0) {
        return bad(err, uri, "not an s3:// uri");
    }
    const char *loc = uri + 5;
    const char *q = strchr(loc, '?');
    size_t n = q != NULL ? (size_t)(q - loc) : strlen(loc);
    params p = {0};
    files fs;
    bool files_loaded = false;
    lh_rc rc = parse_location(uri, loc, n, c, err);
    if (rc == LH_OK && q != NULL) {
        rc = parse_params(uri, q + 1, &p, err);
    }
    if (rc == LH_OK) {
        rc = apply_numbers(uri, &p, c, err);
    }
    const char *profile = p.profile != NULL ? p.profile : env("AWS_PROFILE");
    bool profile_given = profile != NULL;
    /* As in AWS's tools, keys in the environment win over AWS_PROFILE's,
     * but not over a profile the URI names. */
    bool profile_first = p.profile != NULL;
    if (rc == LH_OK) {
        rc = files_load(&fs, profile != NULL ? profile : "default", err);
        files_loaded = true;
    }
    if (rc == LH_OK && profile_given && !files_has_profile(&fs)) {
        rc = lh_err_set(err, LH_EINVAL,
                        "object store \"%s\": no profile \"%s\" in the aws "
                        "config or credentials file",
                        uri, profile);
    }
    if (rc == LH_OK) {
        rc = set_str(&c->profile, fs.profile, err);
    }
    if (rc == LH_OK) {
        rc = resolve_place(uri, &p, &fs, c, err);
    }
    if (rc == LH_OK && !bucket_ok(c->bucket, c->virtual_style)) {
        rc = bad(err, uri,
                 c->virtual_style
                     ? "bucket names for virtual-hosted addressing are 3-63 "
                       "lowercase letters, digits, '.' and '-'"
                     : "bucket names are 3-255 letters, digits, '.', '-' "
                       "and '_'");
    }
    if (rc == LH_OK) {
        rc = resolve_credentials(uri, &fs, profile_first, c, err);
    }
    if (files_loaded) {
        files_release(&fs);
    }
    params_release(&p);
    if (rc != LH_OK) {
        lh__s3_conf_release(c);
    }
    return rc;
}

void
lh__s3_conf_release(lh__s3_conf *c)
{
    lh_free(c->bucket);
    lh_free(c->prefix);
    lh_free(c->scheme);
    lh_free(c->host);
    lh_free(c->region);
    lh_free(c->access_key);
    lh_free(c->secret_key);
    lh_free(c->token);
    lh_free(c->profile);
    memset(c, 0, sizeof(*c));
}
