/*
 * Type rules shared by the binder and the executor (types.c): PostgreSQL's
 * implicit casts and common types over lh_type.
 */
#ifndef LH_SQL_TYPES_H
#define LH_SQL_TYPES_H

#include "sql/func.h"

bool lh_sql_is_integer(uint8_t id);
bool lh_sql_is_numeric(uint8_t id);
bool lh_sql_is_string(uint8_t id);
/* A type with default parameters: DECIMAL(18,3), VARCHAR unlimited. */
lh_type lh_sql_type(uint8_t id);
/* SMALLINT -> DECIMAL(5,0), INTEGER -> (10,0), BIGINT -> (19,0); other
 * types unchanged. */
lh_type lh_sql_decimal_of(lh_type t);
/* The cost of casting implicitly from `from` to a type id (0 = free), or
 * -1 when only an explicit CAST may do it. `untyped`: from is a string
 * literal or parameter whose type is still open. */
int lh_sql_cast_cost(lh_type from, bool untyped, uint8_t to);
/* The type both a and b cast to implicitly (CASE branches, UNION columns,
 * IN lists, comparisons); false when there is none. */
bool lh_sql_common_type(lh_type a, bool a_untyped, lh_type b, bool b_untyped,
                        lh_type *out);
/* PostgreSQL's name of a type, for messages ("integer", "text",
 * "unknown" for the NULL type); buf needs 40 bytes. */
const char *lh_sql_type_text(lh_type t, char *buf);
/* PostgreSQL's message for text that is not a value of type t: "invalid
 * input syntax for type integer: \"abc\"", or "value \"99999999999\" is
 * out of range for type integer"; for temporal types the reader's detail
 * (which form it expects) is added. */
void lh_sql_input_error(lh_type t, const char *text, size_t len,
                        const char *detail, char *out, size_t cap);

#endif
