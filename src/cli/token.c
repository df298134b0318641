/*
 * lakehouse token create DIR --name N --role admin|writer|reader
 * lakehouse token revoke DIR --name N
 * lakehouse token list DIR
 *
 * `create` prints the token once, as its last line; only its hash is
 * stored. A served directory is locked by its server: the commands say so
 * (cli_open_db), and with --server URL go through its HTTP API instead
 * (an admin token from --token or LAKEHOUSE_TOKEN once tokens exist).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cli_token_usage[] =
    "  lakehouse token create DIR --name NAME --role admin|writer|reader\n"
    "  lakehouse token revoke DIR --name NAME\n"
    "  lakehouse token list DIR\n"
    "  lakehouse token create|revoke|list --server URL ... [--token T]\n";

int
cli_token(int argc, char **argv)
{
    opt opts[] = {{"name", true, NULL, false},
                  {"role", true, NULL, false},
                  {"server", true, NULL, false},
                  {"token", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 4, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != (opts[2].set ? 1 : 2)) {
        return cli_usage_error("%s", "token create|revoke|list DIR (or "
                                     "--server URL)");
    }
    const char *sub = a.pos[0];
    bool create = strcmp(sub, "create") == 0;
    bool revoke = strcmp(sub, "revoke") == 0;
    bool list = strcmp(sub, "list") == 0;
    if (!create && !revoke && !list) {
        return cli_usage_error("unknown token subcommand \"%s\"", sub);
    }
    if ((create || revoke) && !opts[0].set) {
        return cli_usage_error("token %s needs --name NAME", sub);
    }
    if (create && !opts[1].set) {
        return cli_usage_error("%s", "token create needs --role "
                                     "admin|writer|reader");
    }
    if (opts[2].set) {
        return cli_remote_token(opts[2].value, opts[3].value, sub,
                                opts[0].value, opts[1].value);
    }
    lh_db *db;
    r = cli_open_db(a.pos[1], list, &db);
    if (r != 0) {
        return r;
    }
    lh_err err;
    lh_rc rc;
    if (create) {
        char *token = NULL;
        rc = lh_token_create(db, opts[0].value, opts[1].value, &token, &err);
        if (rc == LH_OK) {
            printf("created token \"%s\" (role %s); it is shown only this "
                   "once:\n%s\n",
                   opts[0].value, opts[1].value, token);
            memset(token, 0, strlen(token));
            lh_free_mem(token);
        }
    } else if (revoke) {
        rc = lh_token_revoke(db, opts[0].value, &err);
        if (rc == LH_OK) {
            printf("revoked token \"%s\"\n", opts[0].value);
        }
    } else {
        char *json = NULL;
        rc = lh_token_list(db, &json, &err);
        if (rc == LH_OK) {
            printf("%s\n", json);
            lh_free_mem(json);
        }
    }
    lh_db_close(db);
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}
