/*
 * What both protocols need around the SQL engine: the session a query
 * runs in, the role a statement needs, the SQLSTATE of a failure, and the
 * character position PostgreSQL reports for an error's offset.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"

lh_rc
lh__srv_session_open(lh_server *s, srv_role role, lh_session **out, lh_err *err)
{
    lh_session_options o = {
        .dialect = NULL,
        .threads = s->cfg.query_threads,
        .memory_limit = s->cfg.query_memory,
    };
    lh_rc rc = lh_session_open(s->db, &o, out, err);
    if (rc == LH_OK && role < SRV_ROLE_ADMIN) {
        /* read_parquet and iceberg_scan read the server's disk: below
         * admin (who may COPY anywhere), only the data directory. */
        rc = lh_session_confine(*out, lh_db_dir(s->db), err);
        if (rc != LH_OK) {
            lh_session_close(*out);
            *out = NULL;
        }
    }
    return rc;
}

/* Skips white space, comments and opening parentheses. */
static const char *
skip_blank(const char *p, const char *end)
{
    while (p < end) {
        if (isspace((unsigned char)*p) || *p == '(') {
            p++;
        } else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n') {
                p++;
            }
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const char *e = p + 2;
            while (end - e >= 2 && !(e[0] == '*' && e[1] == '/')) {
                e++;
            }
            p = end - e >= 2 ? e + 2 : end;
        } else {
            break;
        }
    }
    return p;
}

size_t
lh__sql_first_word(const char *sql, size_t len, char *word, size_t cap)
{
    const char *end = sql + len;
    const char *p = skip_blank(sql, end);
    size_t n = 0;
    while (p < end && (isalpha((unsigned char)*p) || *p == '_') &&
           n + 1 < cap) {
        word[n++] = (char)toupper((unsigned char)*p++);
    }
    word[n] = 0;
    return n;
}

srv_role
lh__sql_role(const char *sql, size_t len)
{
    static const char *const reads[] = {
        "", /* blank: nothing runs */
        "SELECT",  "WITH",     "VALUES",    "TABLE",      "SHOW",
        "EXPLAIN", "DESCRIBE", "SUMMARIZE", "SET",        "RESET",
        "BEGIN",   "START",    "COMMIT",    "END",        "ROLLBACK",
        "ABORT",   "PRAGMA",   "DISCARD",   "DEALLOCATE", "CLOSE",
    };
    static const char *const writes[] = {"INSERT", "UPDATE", "DELETE", "MERGE",
                                         "UPSERT"};
    char w[16];
    lh__sql_first_word(sql, len, w, sizeof(w));
    for (size_t i = 0; i < LH_ARRAY_LEN(reads); i++) {
        if (strcmp(w, reads[i]) == 0) {
            return SRV_ROLE_READER;
        }
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(writes); i++) {
        if (strcmp(w, writes[i]) == 0) {
            return SRV_ROLE_WRITER;
        }
    }
    /* CREATE, DROP, ALTER, COPY (which writes files on the server) and
     * whatever else. */
    return SRV_ROLE_ADMIN;
}

bool
lh__sql_returns_rows(const char *sql, size_t len)
{
    static const char *const rows[] = {"SELECT",   "WITH",      "VALUES",
                                       "TABLE",    "SHOW",      "EXPLAIN",
                                       "DESCRIBE", "SUMMARIZE", "PRAGMA"};
    char w[16];
    lh__sql_first_word(sql, len, w, sizeof(w));
    for (size_t i = 0; i < LH_ARRAY_LEN(rows); i++) {
        if (strcmp(w, rows[i]) == 0) {
            return true;
        }
    }
    return false;
}

int64_t
lh__sql_char_position(const char *sql, size_t len, int64_t offset)
{
    if (offset < 0) {
        return 0;
    }
    if ((size_t)offset > len) {
        offset = (int64_t)len;
    }
    int64_t chars = 0;
    for (int64_t i = 0; i < offset; i++) {
        if (((unsigned char)sql[i] & 0xC0) != 0x80) {
            chars++;
        }
    }
    return chars + 1;
}

static bool
has(const char *msg, const char *part)
{
    return strstr(msg, part) != NULL;
}

const char *
lh__sqlstate(lh_rc rc, const char *msg)
{
    switch (rc) {
    case LH_ENOMEM:
        return "53200";
    case LH_EUNSUPPORTED:
        return "0A000";
    case LH_ECANCELED:
    case LH_ETIMEDOUT:
        return "57014";
    case LH_ENOENT:
        return has(msg, "relation") ? "42P01" : "58P01";
    case LH_EEXIST:
        return has(msg, "relation") ? "42P07" : "42710";
    case LH_ELIMIT:
        return "54000";
    case LH_ECONFLICT:
        return "40001";
    case LH_EREADONLY:
        return has(msg, "permission denied") ? "42501" : "25006";
    case LH_EIO:
    case LH_ENOSPC:
        return "58030";
    case LH_EINVAL:
        break;
    default:
        return "XX000";
    }
    /* The engine's messages are PostgreSQL's: the code follows from them
     * where the return code is too coarse. */
    static const struct {
        const char *part;
        const char *code;
        bool missing; /* only with "does not exist" */
    } by_message[] = {
        {"syntax error", "42601", false},
        {"unterminated", "42601", false},
        {"zero-length quoted identifier", "42601", false},
        {"nested too deeply", "54001", false},
        {"query text is too long", "54000", false},
        {"must appear in the GROUP BY", "42803", false},
        {"is ambiguous", "42702", false},
        {"division by zero", "22012", false},
        {"invalid input syntax", "22P02", false},
        {"date out of range", "22008", false},
        {"timestamp out of range", "22008", false},
        {"interval out of range", "22008", false},
        {"out of range", "22003", false},
        {"overflow", "22003", false},
        {"string too long", "22001", false},
        {"value too long", "22001", false},
        {"zero byte", "22021", false},
        {"cannot cast type", "42846", false},
        {"no value given for parameter", "08P01", false},
        {"current transaction is aborted", "25P02", false},
        {"bind message", "08P01", false},
        {"parameter index", "08P01", false},
        {"unrecognized configuration parameter", "42704", false},
        {"function", "42883", true},
        {"operator", "42883", true},
        {"column", "42703", true},
        {"relation", "42P01", true},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(by_message); i++) {
        if (has(msg, by_message[i].part) &&
            (!by_message[i].missing || has(msg, "does not exist"))) {
            return by_message[i].code;
        }
    }
    return "42000";
}
