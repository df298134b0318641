/* Server options from a config file, the environment and by name, and the
 * token store: hashed at rest, checked, revoked, SCRAM keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define OPENSSL_NO_DEPRECATED
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "server/server_int.h"

static char *
tmpdir(void)
{
    char tmpl[] = "/tmp/lh-cfg-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void
rmrf(char *d)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
    free(d);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_defaults_and_set(void **state)
{
    (void)state;
    lh_server_config *c;
    lh_err err;
    assert_int_equal(lh_server_config_new(&c, &err), LH_OK);
    assert_string_equal(c->c.http, "127.0.0.1:8080");
    assert_string_equal(c->c.pg, "127.0.0.1:5433");
    assert_int_equal(c->c.max_body, 64 << 20);
    assert_int_equal(c->c.idle_timeout, 60 * LH_US_PER_SEC);
    assert_false(c->c.insecure_no_auth);
    assert_null(c->c.tls_cert);

    assert_int_equal(lh_server_config_set(c, "max-connections", "77", &err),
                     LH_OK);
    assert_int_equal(c->c.max_connections, 77);
    assert_int_equal(lh_server_config_set(c, "MAX_BODY", "2KiB", &err), LH_OK);
    assert_int_equal(c->c.max_body, 2048);
    assert_int_equal(lh_server_config_set(c, "max_body", "3m", &err), LH_OK);
    assert_int_equal(c->c.max_body, 3 << 20);
    assert_int_equal(lh_server_config_set(c, "header_timeout", "250ms", &err),
                     LH_OK);
    assert_int_equal(c->c.header_timeout, 250000);
    assert_int_equal(lh_server_config_set(c, "pg", "off", &err), LH_OK);
    assert_null(c->c.pg);
    assert_int_equal(lh_server_config_set(c, "http", "[::1]:0", &err), LH_OK);
    assert_int_equal(lh_server_config_set(c, "insecure-no-auth", "yes", &err),
                     LH_OK);
    assert_true(c->c.insecure_no_auth);

    assert_int_equal(lh_server_config_set(c, "max_connections", "0", &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "option \"max_connections\": invalid "
                                    "value \"0\""));
    assert_int_equal(lh_server_config_set(c, "http", "localhost", &err),
                     LH_EINVAL);
    assert_int_equal(lh_server_config_set(c, "http", "a:70000", &err),
                     LH_EINVAL);
    assert_int_equal(lh_server_config_set(c, "idle_timeout", "soon", &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "duration"));
    assert_int_equal(lh_server_config_set(c, "max_body", "1q", &err),
                     LH_EINVAL);
    assert_int_equal(lh_server_config_set(c, "http_tls", "maybe", &err),
                     LH_EINVAL);
    assert_int_equal(lh_server_config_set(c, "colour", "red", &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "\"colour\""));
    /* A failed set leaves the value as it was. */
    assert_int_equal(c->c.max_connections, 77);
    lh_server_config_free(c);

    size_t n;
    const lh_server_option *o = lh_server_options(&n);
    assert_true(n >= 15);
    bool seen_http = false;
    for (size_t i = 0; i < n; i++) {
        seen_http = seen_http || strcmp(o[i].name, "http") == 0;
        assert_non_null(o[i].help);
    }
    assert_true(seen_http);
}

static void
test_file_and_env(void **state)
{
    (void)state;
    char *d = tmpdir();
    char path[600];
    snprintf(path, sizeof(path), "%s/c.json", d);
    write_file(path, "{\"http\": \"0.0.0.0:9000\", \"max_connections\": 12,\n"
                     " \"insecure_no_auth\": true, \"tls_cert\": null}\n");
    lh_server_config *c;
    lh_err err;
    assert_int_equal(lh_server_config_new(&c, &err), LH_OK);
    assert_int_equal(lh_server_config_load(c, path, &err), LH_OK);
    assert_string_equal(c->c.http, "0.0.0.0:9000");
    assert_int_equal(c->c.max_connections, 12);
    assert_true(c->c.insecure_no_auth);

    setenv("LAKEHOUSE_MAX_CONNECTIONS", "13", 1);
    setenv("LAKEHOUSE_PG", "127.0.0.1:6543", 1);
    assert_int_equal(lh_server_config_env(c, &err), LH_OK);
    assert_int_equal(c->c.max_connections, 13);
    assert_string_equal(c->c.pg, "127.0.0.1:6543");
    setenv("LAKEHOUSE_WORKERS", "-1", 1);
    assert_int_equal(lh_server_config_env(c, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "LAKEHOUSE_WORKERS"));
    unsetenv("LAKEHOUSE_WORKERS");
    unsetenv("LAKEHOUSE_MAX_CONNECTIONS");
    unsetenv("LAKEHOUSE_PG");

    write_file(path, "{\"max_body\": \"big\"}");
    assert_int_equal(lh_server_config_load(c, path, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "c.json"));
    assert_non_null(strstr(err.msg, "max_body"));
    write_file(path, "{\"nonsense\": 1}");
    assert_int_equal(lh_server_config_load(c, path, &err), LH_EINVAL);
    write_file(path, "{\"http\": [1]}");
    assert_int_equal(lh_server_config_load(c, path, &err), LH_EINVAL);
    write_file(path, "{\"http\": ");
    assert_int_equal(lh_server_config_load(c, path, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    write_file(path, "[]");
    assert_int_equal(lh_server_config_load(c, path, &err), LH_EINVAL);
    snprintf(path, sizeof(path), "%s/none.json", d);
    assert_int_equal(lh_server_config_load(c, path, &err), LH_ENOENT);
    lh_server_config_free(c);
    rmrf(d);
}

static void
test_tokens(void **state)
{
    (void)state;
    char *d = tmpdir();
    char data[600];
    snprintf(data, sizeof(data), "%s/data", d);
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(data, &o, &db, &err), LH_OK);
    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(lh_token_create(db, "ci", "writer", &t1, &err), LH_OK);
    assert_int_equal(strlen(t1), 67);
    assert_true(strncmp(t1, "lh_", 3) == 0);
    assert_int_equal(lh_token_create(db, "ops", "admin", &t2, &err), LH_OK);
    assert_string_not_equal(t1, t2);
    char *t3 = NULL;
    assert_int_equal(lh_token_create(db, "ci", "reader", &t3, &err), LH_EEXIST);
    assert_int_equal(lh_token_create(db, "a b", "reader", &t3, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "name");
    assert_int_equal(lh_token_create(db, "x", "root", &t3, &err), LH_EINVAL);
    assert_null(t3);
    assert_string_equal(err.field, "role");

    /* At rest: mode 0600, no secret in the file. */
    char path[700];
    snprintf(path, sizeof(path), "%s/tokens.json", data);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    assert_null(strstr(text, t1 + 3));
    assert_non_null(strstr(text, "\"name\":\"ci\""));

    srv_tokens *ts;
    assert_int_equal(lh__tokens_open(data, &ts, &err), LH_OK);
    assert_int_equal(lh__tokens_count(ts), 2);
    char name[64];
    assert_int_equal(lh__tokens_check(ts, t1, name, sizeof(name)),
                     SRV_ROLE_WRITER);
    assert_string_equal(name, "ci");
    char wrong[80];
    snprintf(wrong, sizeof(wrong), "%s", t1);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    assert_int_equal(lh__tokens_check(ts, wrong, name, sizeof(name)),
                     SRV_ROLE_NONE);
    assert_int_equal(lh__tokens_check(ts, "", name, sizeof(name)),
                     SRV_ROLE_NONE);

    /* SCRAM-SHA-256 (RFC 5802): a client's proof, computed from the secret
     * and the store's salt, verifies as the right token. */
    char salt64[64];
    int iters;
    lh__tokens_scram_params(ts, salt64, sizeof(salt64), &iters);
    assert_int_equal(iters, 4096);
    uint8_t salt[32];
    int sl = EVP_DecodeBlock(salt, (const unsigned char *)salt64,
                             (int)strlen(salt64));
    assert_true(sl >= 16);
    uint8_t salted[32], ckey[32], stored[32], sig[32], proof[32], skey[32];
    unsigned int len = 32;
    PKCS5_PBKDF2_HMAC(t2, (int)strlen(t2), salt, 16, iters, EVP_sha256(), 32,
                      salted);
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10,
         ckey, &len);
    SHA256(ckey, 32, stored);
    const char *am = "n=,r=abc,r=abcdef,s=xyz,i=4096,c=biws,r=abcdef";
    HMAC(EVP_sha256(), stored, 32, (const unsigned char *)am, strlen(am), sig,
         &len);
    for (int i = 0; i < 32; i++) {
        proof[i] = ckey[i] ^ sig[i];
    }
    assert_int_equal(lh__tokens_scram_verify(ts, proof, am, strlen(am), skey,
                                             name, sizeof(name)),
                     SRV_ROLE_ADMIN);
    assert_string_equal(name, "ops");
    uint8_t want_skey[32];
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10,
         want_skey, &len);
    assert_memory_equal(skey, want_skey, 32);
    proof[0] ^= 1;
    assert_int_equal(lh__tokens_scram_verify(ts, proof, am, strlen(am), skey,
                                             name, sizeof(name)),
                     SRV_ROLE_NONE);
    lh__tokens_free(ts);

    char *list = NULL;
    assert_int_equal(lh_token_list(db, &list, &err), LH_OK);
    assert_non_null(strstr(list, "\"name\":\"ops\",\"role\":\"admin\""));
    lh_free_mem(list);
    assert_int_equal(lh_token_revoke(db, "ci", &err), LH_OK);
    assert_int_equal(lh_token_revoke(db, "ci", &err), LH_ENOENT);
    assert_int_equal(lh__tokens_open(data, &ts, &err), LH_OK);
    assert_int_equal(lh__tokens_count(ts), 1);
    assert_int_equal(lh__tokens_check(ts, t1, name, sizeof(name)),
                     SRV_ROLE_NONE);
    assert_int_equal(lh__tokens_check(ts, t2, name, sizeof(name)),
                     SRV_ROLE_ADMIN);
    lh__tokens_free(ts);
    lh_free_mem(t1);
    lh_free_mem(t2);
    lh_db_close(db);

    /* Read-only handles may list but not change tokens. */
    lh_db_options ro = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(data, &ro, &db, &err), LH_OK);
    assert_int_equal(lh_token_create(db, "z", "reader", &t3, &err),
                     LH_EREADONLY);
    assert_int_equal(lh_token_list(db, &list, &err), LH_OK);
    lh_free_mem(list);
    lh_db_close(db);

    /* A damaged file is refused, naming it. */
    write_file(path, "{\"version\": 2}");
    assert_int_equal(lh__tokens_open(data, &ts, &err), LH_ECORRUPT);
    assert_non_null(strstr(err.msg, "tokens.json"));
    write_file(path, "{not json");
    assert_int_equal(lh__tokens_open(data, &ts, &err), LH_ECORRUPT);
    rmrf(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_set),
        cmocka_unit_test(test_file_and_env),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
