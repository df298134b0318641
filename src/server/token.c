/*
 * API tokens: DIR/tokens.json (mode 0600), written whole and renamed into
 * place. A token is "lh_" and 64 hex digits (256 random bits); the file
 * keeps only its SHA-256 (a fast hash is enough for a secret of that many
 * random bits) and the SCRAM-SHA-256 keys derived from it, so the
 * PostgreSQL protocol can check a SCRAM proof without the secret:
 *
 *   {"version": 1, "scram": {"salt": BASE64, "iterations": 4096},
 *    "tokens": [{"name": "ci", "role": "writer",
 *                "created_at": "2026-06-30T00:00:00Z", "sha256": HEX,
 *                "stored_key": BASE64, "server_key": BASE64}, ...]}
 *
 * Every token of a directory shares one salt: a SCRAM exchange must send
 * the salt before it knows which token the client holds, and the user
 * name a PostgreSQL client sends is free (any user, password = token).
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_int.h"

#define TOKEN_FILE "tokens.json"
#define SCRAM_ITERATIONS 4096
#define MAX_TOKENS 10000

typedef struct tok {
    char name[64];
    srv_role role;
    char created_at[40];
    uint8_t sha[32];
    uint8_t stored_key[32];
    uint8_t server_key[32];
} tok;

struct srv_tokens {
    char *path;
    pthread_rwlock_t lock;
    pthread_mutex_t write_mu; /* one writer of the file at a time */
    uint8_t salt[16];
    int iterations;
    tok *v;
    size_t n;
};

static const char *const role_names[] = {"none", "reader", "writer", "admin"};

srv_role
lh__role_parse(const char *s)
{
    for (int i = SRV_ROLE_READER; i <= SRV_ROLE_ADMIN; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            return (srv_role)i;
        }
    }
    return SRV_ROLE_NONE;
}

const char *
lh__role_name(srv_role r)
{
    return r >= SRV_ROLE_NONE && r <= SRV_ROLE_ADMIN ? role_names[r] : "none";
}

/* ---- encodings ------------------------------------------------------------
 */

static void
hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

static bool
unhex(const char *s, uint8_t *out, size_t n)
{
    if (s == NULL || strlen(s) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = lh_hex_digit(s[2 * i]), lo = lh_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void
b64(const uint8_t *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* Decodes exactly n bytes of standard base64. */
static bool
unb64(const char *s, uint8_t *out, size_t n)
{
    if (s == NULL) {
        return false;
    }
    size_t len = strlen(s);
    if (len != 4 * ((n + 2) / 3)) {
        return false;
    }
    uint8_t buf[96];
    if (len / 4 * 3 > sizeof(buf)) {
        return false;
    }
    int got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (got < (int)n) {
        return false;
    }
    memcpy(out, buf, n);
    return true;
}

/* ---- SCRAM keys ------------------------------------------------------------
 */

static void
hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen,
     uint8_t *out)
{
    unsigned int olen = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen);
}

static bool
scram_keys(const char *secret, const uint8_t *salt, size_t salt_len,
           int iterations, uint8_t *stored, uint8_t *server)
{
    uint8_t salted[32], client[32];
    if (PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)salt_len,
                          iterations, EVP_sha256(), 32, salted) != 1) {
        return false;
    }
    hmac(salted, 32, "Client Key", 10, client);
    SHA256(client, 32, stored);
    hmac(salted, 32, "Server Key", 10, server);
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client, sizeof(client));
    return true;
}

/* ---- the file ---------------------------------------------------------------
 */

static lh_rc
load(srv_tokens *t, lh_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(t->path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        if (access(t->path, F_OK) != 0 && errno == ENOENT) {
            /* No tokens yet: a salt for the first one. */
            t->iterations = SCRAM_ITERATIONS;
            if (RAND_bytes(t->salt, sizeof(t->salt)) != 1) {
                return lh_err_set(err, LH_EIO, "no randomness for a salt");
            }
            return LH_OK;
        }
        return lh_err_set(err, LH_ECORRUPT, "could not read \"%s\": %s",
                          t->path, je.text);
    }
    lh_rc rc = LH_OK;
    json_t *scram = json_object_get(root, "scram");
    json_t *arr = json_object_get(root, "tokens");
    json_int_t it = json_integer_value(json_object_get(scram, "iterations"));
    if (json_integer_value(json_object_get(root, "version")) != 1 ||
        !unb64(json_string_value(json_object_get(scram, "salt")), t->salt,
               sizeof(t->salt)) ||
        it < 1 || it > 1000000 || !json_is_array(arr) ||
        json_array_size(arr) > MAX_TOKENS) {
        rc = lh_err_set(err, LH_ECORRUPT,
                        "\"%s\" is not a lakehouse token file (version 1)",
                        t->path);
        goto done;
    }
    t->iterations = (int)it;
    size_t n = json_array_size(arr);
    t->v = lh_calloc(n ? n : 1, sizeof(tok));
    if (t->v == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        tok *k = &t->v[i];
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *role = json_string_value(json_object_get(o, "role"));
        const char *at = json_string_value(json_object_get(o, "created_at"));
        if (name == NULL || strlen(name) >= sizeof(k->name) || role == NULL ||
            lh__role_parse(role) == SRV_ROLE_NONE ||
            !unhex(json_string_value(json_object_get(o, "sha256")), k->sha,
                   32) ||
            !unb64(json_string_value(json_object_get(o, "stored_key")),
                   k->stored_key, 32) ||
            !unb64(json_string_value(json_object_get(o, "server_key")),
                   k->server_key, 32)) {
            rc = lh_err_set(err, LH_ECORRUPT, "\"%s\": token %zu is malformed",
                            t->path, i + 1);
            goto done;
        }
        snprintf(k->name, sizeof(k->name), "%s", name);
        snprintf(k->created_at, sizeof(k->created_at), "%s", at ? at : "");
        k->role = lh__role_parse(role);
    }
    t->n = n;
done:
    json_decref(root);
    return rc;
}

/* Writes the tokens (the caller holds write_mu), replacing the file. */
static lh_rc
save(srv_tokens *t, const tok *v, size_t n, lh_err *err)
{
    lh_buf b = LH_BUF_INIT;
    char s64[64];
    b64(t->salt, sizeof(t->salt), s64);
    lh_buf_printf(
        &b,
        "{\"version\":1,\"scram\":{\"salt\":\"%s\",\"iterations\":%d},"
        "\"tokens\":[",
        s64, t->iterations);
    for (size_t i = 0; i < n; i++) {
        char h[65], sk[64], vk[64];
        hex(v[i].sha, 32, h);
        b64(v[i].stored_key, 32, sk);
        b64(v[i].server_key, 32, vk);
        lh_buf_puts(&b, i ? ",\n {\"name\":" : "\n {\"name\":");
        lh_buf_json_string(&b, v[i].name, strlen(v[i].name));
        lh_buf_printf(
            &b,
            ",\"role\":\"%s\",\"created_at\":\"%s\",\"sha256\":\"%s\","
            "\"stored_key\":\"%s\",\"server_key\":\"%s\"}",
            lh__role_name(v[i].role), v[i].created_at, h, sk, vk);
    }
    lh_buf_puts(&b, "]}\n");
    lh_buf tmp = LH_BUF_INIT;
    lh_buf_printf(&tmp, "%s.tmp", t->path);
    if (!lh_buf_ok(&b) || !lh_buf_ok(&tmp)) {
        lh_buf_release(&b);
        lh_buf_release(&tmp);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                        "could not write \"%s\"", tmp.data);
        goto out;
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                            "could not write \"%s\"", tmp.data);
            break;
        }
        off += (size_t)w;
    }
    if (rc == LH_OK && fsync(fd) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not sync \"%s\"", tmp.data);
    }
    close(fd);
    if (rc == LH_OK && rename(tmp.data, t->path) != 0) {
        rc =
            lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", tmp.data);
    }
    if (rc != LH_OK) {
        unlink(tmp.data);
    } else {
        /* The rename is durable once the directory is. */
        char *slash = strrchr(tmp.data, '/');
        if (slash != NULL) {
            *slash = 0;
            int dfd = open(tmp.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
out:
    lh_buf_release(&b);
    lh_buf_release(&tmp);
    return rc;
}

lh_rc
lh__tokens_open(const char *dir, srv_tokens **out, lh_err *err)
{
    *out = NULL;
    srv_tokens *t = lh_calloc(1, sizeof(*t));
    lh_buf p = LH_BUF_INIT;
    lh_buf_printf(&p, "%s/%s", dir, TOKEN_FILE);
    if (t == NULL || !lh_buf_ok(&p)) {
        lh_free(t);
        lh_buf_release(&p);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    t->path = lh_buf_take(&p, NULL);
    pthread_rwlock_init(&t->lock, NULL);
    pthread_mutex_init(&t->write_mu, NULL);
    lh_rc rc = load(t, err);
    if (rc != LH_OK) {
        lh__tokens_free(t);
        return rc;
    }
    *out = t;
    return LH_OK;
}

void
lh__tokens_free(srv_tokens *t)
{
    if (t == NULL) {
        return;
    }
    if (t->v != NULL) {
        OPENSSL_cleanse(t->v, t->n * sizeof(tok));
    }
    lh_free(t->v);
    lh_free(t->path);
    pthread_rwlock_destroy(&t->lock);
    pthread_mutex_destroy(&t->write_mu);
    lh_free(t);
}

size_t
lh__tokens_count(srv_tokens *t)
{
    pthread_rwlock_rdlock(&t->lock);
    size_t n = t->n;
    pthread_rwlock_unlock(&t->lock);
    return n;
}

srv_role
lh__tokens_check(srv_tokens *t, const char *secret, char *name, size_t name_cap)
{
    uint8_t h[32];
    SHA256((const unsigned char *)secret, strlen(secret), h);
    srv_role role = SRV_ROLE_NONE;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        if (CRYPTO_memcmp(h, t->v[i].sha, 32) == 0) {
            role = t->v[i].role;
            snprintf(name, name_cap, "%s", t->v[i].name);
        }
    }
    pthread_rwlock_unlock(&t->lock);
    return role;
}

void
lh__tokens_scram_params(srv_tokens *t, char *salt_b64, size_t cap,
                        int *iterations)
{
    char s[64];
    b64(t->salt, sizeof(t->salt), s);
    snprintf(salt_b64, cap, "%s", s);
    *iterations = t->iterations;
}

srv_role
lh__tokens_scram_verify(srv_tokens *t, const uint8_t *proof,
                        const char *auth_message, size_t auth_len,
                        uint8_t *server_key, char *name, size_t name_cap)
{
    srv_role role = SRV_ROLE_NONE;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->n && role == SRV_ROLE_NONE; i++) {
        /* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the proof
         * holds when H(ClientKey) is the StoredKey. */
        uint8_t sig[32], key[32], stored[32];
        hmac(t->v[i].stored_key, 32, auth_message, auth_len, sig);
        for (int k = 0; k < 32; k++) {
            key[k] = proof[k] ^ sig[k];
        }
        SHA256(key, 32, stored);
        if (CRYPTO_memcmp(stored, t->v[i].stored_key, 32) == 0) {
            role = t->v[i].role;
            memcpy(server_key, t->v[i].server_key, 32);
            snprintf(name, name_cap, "%s", t->v[i].name);
        }
    }
    pthread_rwlock_unlock(&t->lock);
    return role;
}

static bool
name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

/* The token named `name`, or t->n. Caller holds write_mu. */
static size_t
find_name(const srv_tokens *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].name, name) == 0) {
            return i;
        }
    }
    return t->n;
}

/* Makes nv (n tokens, just saved) the set checks see; returns the old
 * array for the caller to free. Caller holds write_mu. */
static tok *
publish(srv_tokens *t, tok *nv, size_t n)
{
    pthread_rwlock_wrlock(&t->lock);
    tok *old = t->v;
    t->v = nv;
    t->n = n;
    pthread_rwlock_unlock(&t->lock);
    return old;
}

lh_rc
lh__tokens_create(srv_tokens *t, const char *name, const char *role,
                  char **secret, lh_err *err)
{
    *secret = NULL;
    if (!name_valid(name)) {
        lh_rc rc = lh_err_set(err, LH_EINVAL,
                              "token name \"%.100s\" must be 1 to 63 letters, "
                              "digits, '_', '-' or '.'",
                              name);
        if (err != NULL) {
            snprintf(err->field, sizeof(err->field), "name");
        }
        return rc;
    }
    srv_role r = lh__role_parse(role);
    if (r == SRV_ROLE_NONE) {
        lh_rc rc =
            lh_err_set(err, LH_EINVAL,
                       "role \"%.100s\" must be admin, writer or reader", role);
        if (err != NULL) {
            snprintf(err->field, sizeof(err->field), "role");
        }
        return rc;
    }
    pthread_mutex_lock(&t->write_mu);
    lh_rc rc = LH_OK;
    tok *nv = NULL;
    if (find_name(t, name) < t->n) {
        rc = lh_err_set(err, LH_EEXIST, "token \"%s\" already exists", name);
        goto out;
    }
    if (t->n >= MAX_TOKENS) {
        rc = lh_err_set(err, LH_ELIMIT, "at most %d tokens", MAX_TOKENS);
        goto out;
    }
    uint8_t raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        rc = lh_err_set(err, LH_EIO, "no randomness for a token");
        goto out;
    }
    char text[3 + 64 + 1] = "lh_";
    hex(raw, sizeof(raw), text + 3);
    OPENSSL_cleanse(raw, sizeof(raw));
    nv = lh_calloc(t->n + 1, sizeof(tok));
    if (nv == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto out;
    }
    if (t->n > 0) {
        memcpy(nv, t->v, t->n * sizeof(tok));
    }
    tok *k = &nv[t->n];
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->role = r;
    lh_time_format_iso(lh_real_now() / LH_US_PER_SEC * LH_US_PER_SEC,
                       k->created_at);
    SHA256((const unsigned char *)text, strlen(text), k->sha);
    if (!scram_keys(text, t->salt, sizeof(t->salt), t->iterations,
                    k->stored_key, k->server_key)) {
        rc = lh_err_set(err, LH_EIO, "could not derive the token's keys");
        goto out;
    }
    rc = save(t, nv, t->n + 1, err);
    if (rc != LH_OK) {
        goto out;
    }
    *secret = lh_strdup(text);
    OPENSSL_cleanse(text, sizeof(text));
    if (*secret == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        /* The file has it, so the server must too. */
    }
    nv = publish(t, nv, t->n + 1);
out:
    lh_free(nv);
    pthread_mutex_unlock(&t->write_mu);
    return rc;
}

lh_rc
lh__tokens_revoke(srv_tokens *t, const char *name, lh_err *err)
{
    pthread_mutex_lock(&t->write_mu);
    lh_rc rc = LH_OK;
    size_t at = find_name(t, name);
    tok *nv = NULL;
    if (at == t->n) {
        rc = lh_err_set(err, LH_ENOENT, "no token \"%s\"", name);
        goto out;
    }
    nv = lh_calloc(t->n, sizeof(tok));
    if (nv == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(nv, t->v, at * sizeof(tok));
    memcpy(nv + at, t->v + at + 1, (t->n - at - 1) * sizeof(tok));
    rc = save(t, nv, t->n - 1, err);
    if (rc != LH_OK) {
        goto out;
    }
    nv = publish(t, nv, t->n - 1);
out:
    lh_free(nv);
    pthread_mutex_unlock(&t->write_mu);
    return rc;
}

void
lh__tokens_list_json(srv_tokens *t, lh_buf *out)
{
    pthread_rwlock_rdlock(&t->lock);
    lh_buf_putc(out, '[');
    for (size_t i = 0; i < t->n; i++) {
        lh_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        lh_buf_json_string(out, t->v[i].name, strlen(t->v[i].name));
        lh_buf_printf(out, ",\"role\":\"%s\",\"created_at\":\"%s\"}",
                      lh__role_name(t->v[i].role), t->v[i].created_at);
    }
    lh_buf_putc(out, ']');
    pthread_rwlock_unlock(&t->lock);
}

/* ---- the public API
 * ---------------------------------------------------------- */

static lh_rc
open_for(lh_db *db, bool write, srv_tokens **t, lh_err *err)
{
    if (write && lh_db_readonly(db)) {
        return lh_err_set(err, LH_EREADONLY,
                          "tokens are managed through a database opened for "
                          "writing");
    }
    return lh__tokens_open(lh_db_dir(db), t, err);
}

lh_rc
lh_token_create(lh_db *db, const char *name, const char *role, char **token,
                lh_err *err)
{
    srv_tokens *t;
    lh_rc rc = open_for(db, true, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__tokens_create(t, name, role, token, err);
    lh__tokens_free(t);
    return rc;
}

lh_rc
lh_token_revoke(lh_db *db, const char *name, lh_err *err)
{
    srv_tokens *t;
    lh_rc rc = open_for(db, true, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__tokens_revoke(t, name, err);
    lh__tokens_free(t);
    return rc;
}

lh_rc
lh_token_list(lh_db *db, char **json, lh_err *err)
{
    *json = NULL;
    srv_tokens *t;
    lh_rc rc = open_for(db, false, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf b = LH_BUF_INIT;
    lh__tokens_list_json(t, &b);
    lh__tokens_free(t);
    *json = lh_buf_take(&b, NULL);
    if (*json == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}
