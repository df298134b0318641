/*
 * iceberg_int.h: what the files of src/format/iceberg share and nothing
 * else sees.
 *
 * The module reads and writes Apache Iceberg tables. Its layers, bottom up:
 *
 *   json.c      checked access to jansson values: every missing or
 *               mistyped field becomes LH_EFORMAT with the path of the
 *               field ("table metadata: schemas[1].fields[0]: \"id\" must
 *               be an integer")
 *   types.c     Iceberg types and schemas, JSON both ways (Appendix C),
 *               defaults (initial-default, write-default)
 *   value.c     single values: the binary form of bounds and partition
 *               summaries, the JSON form of defaults (Appendix D), order
 *   transform.c partition transforms, Murmur3 x86_32 and the Appendix B
 *               hashes, partition specs and sort orders
 *   metadata.c  table metadata JSON v1/v2/v3 (read and write), codec
 *               sniffing (gzip, zstd) of metadata files
 *   avro.c      Avro object container files over memory (framing, codecs)
 *   manifest.c  manifest lists and manifests read through libavro, fields
 *               by field id
 *   puffin.c    Puffin files and deletion vectors
 *   table.c     a table on an object store; locations to keys; versions
 *   expr.c      predicates, inclusive projection, pruning, row evaluation
 *   scan.c      scan planning
 *   read.c      reading a file scan task (projection rules, deletes)
 *   write.c     data files with metrics, manifests and lists written
 *   commit.c    table creation and commits (optimistic concurrency: the
 *               essay at its top)
 *   tool.c      the public lh_iceberg_* calls of lakehouse.h
 *   cache.c     the process-wide cache of parsed metadata, manifest lists
 *               and manifests (below, "cache.c")
 *
 * Values. An Iceberg value is held as a lakehouse value (column.h) of the
 * type lh_ice_type_to_lh gives, so that bounds, partition values, defaults
 * and predicate literals compare with the values the Parquet reader puts in
 * column batches: int is INTEGER, long BIGINT, decimal DECIMAL (an i128
 * unscaled value), date DATE (days), time TIME (µs), timestamp[tz] (µs);
 * nanosecond timestamps are cut to µs, which is safe for pruning because
 * the data is cut the same way.
 *
 * Validation is done at parse time, once: a structure that parsed is
 * internally consistent (every id it refers to exists), so later layers
 * do not check again.
 */
#ifndef LH_FORMAT_ICEBERG_INT_H
#define LH_FORMAT_ICEBERG_INT_H

#include <jansson.h>

#include "format/iceberg/iceberg.h"

/* ---- json.c ----------------------------------------------------------------
 * `where` names the object being read ("table metadata: snapshots[2]");
 * messages read "<where>: <problem>". `present` (may be NULL) says whether
 * an optional key was there; a JSON null counts as absent. */
lh_rc lh__ice_j_i64(const json_t *o, const char *key, bool required,
                    int64_t *out, bool *present, const char *where,
                    lh_err *err);
lh_rc lh__ice_j_i32(const json_t *o, const char *key, bool required,
                    int32_t *out, bool *present, const char *where,
                    lh_err *err);
lh_rc lh__ice_j_bool(const json_t *o, const char *key, bool required, bool *out,
                     bool *present, const char *where, lh_err *err);
lh_rc lh__ice_j_str(const json_t *o, const char *key, bool required,
                    lh_arena *a, const char **out, const char *where,
                    lh_err *err);
/* An array (or absent: *out = NULL when optional). */
lh_rc lh__ice_j_array(const json_t *o, const char *key, bool required,
                      const json_t **out, const char *where, lh_err *err);
lh_rc lh__ice_j_object(const json_t *o, const char *key, bool required,
                       const json_t **out, const char *where, lh_err *err);
/* A JSON object of string values into key/value pairs. */
lh_rc lh__ice_j_string_map(const json_t *o, const char *key, lh_arena *a,
                           lh_ice_kv **out, uint32_t *n, const char *where,
                           lh_err *err);
/* A JSON array of integers into int32s. */
lh_rc lh__ice_j_int_list(const json_t *arr, lh_arena *a, int32_t **out,
                         uint32_t *n, const char *where, lh_err *err);
/* A jansson value out of p[0..n) (JSON_REJECT_DUPLICATES); the caller
 * decrefs. LH_EFORMAT with the line and column. */
lh_rc lh__ice_j_load(const char *p, size_t n, json_t **out, const char *what,
                     lh_err *err);
/* Arena copies of arrays; NULL only when out of memory (n = 0 gives a live
 * pointer). */
void *lh__ice_alloc_array(lh_arena *a, size_t n, size_t size);

/* ---- types.c ---------------------------------------------------------------
 */

/* Parses a type (a JSON string or object) into out; `where` as above.
 * Field ids met on the way are recorded through the schema context. */
typedef struct lh__ice_ids {
    int32_t *ids;
    size_t n, cap;
    int32_t highest;
} lh__ice_ids;
lh_rc lh__ice_type_parse(const json_t *j, lh_arena *a, lh__ice_ids *ids,
                         const char *where, lh_ice_type *out, lh_err *err);
/* A schema from its jansson object (v1 schemas may lack schema-id:
 * default_id is used then). */
lh_rc lh__ice_schema_from_json(const json_t *j, lh_arena *a, int32_t default_id,
                               bool need_id, const char *where,
                               lh_ice_schema *out, lh_err *err);
lh_rc lh__ice_type_to_json(const lh_ice_type *t, lh_buf *out);

/* ---- transform.c ------------------------------------------------------------
 */

lh_rc lh__ice_spec_from_json(const json_t *j, lh_arena *a, bool fields_only,
                             int32_t spec_id, int32_t *next_field_id,
                             const char *where, lh_ice_partition_spec *out,
                             lh_err *err);
lh_rc lh__ice_spec_to_json(const lh_ice_partition_spec *s, bool fields_only,
                           lh_buf *out);
lh_rc lh__ice_sort_order_from_json(const json_t *j, lh_arena *a,
                                   const char *where, lh_ice_sort_order *out,
                                   lh_err *err);

/* ---- value.c
 * ----------------------------------------------------------------- */

/* The minimal two's complement big-endian bytes of an unscaled decimal
 * (at least one byte): writes into buf[16], returns the length. */
size_t lh__ice_decimal_min_bytes(lh_i128 v, uint8_t *buf);

/* ---- avro.c
 * ------------------------------------------------------------------- An Object
 * Container File over memory: the header is parsed by open, the blocks one at a
 * time by next_block. */
typedef enum lh__ice_avro_codec {
    LH__ICE_AVRO_NULL = 0,
    LH__ICE_AVRO_DEFLATE = 1,
    LH__ICE_AVRO_SNAPPY = 2,
    LH__ICE_AVRO_ZSTD = 3,
} lh__ice_avro_codec;

typedef struct lh__ice_avro_kv {
    const char *key;
    const char *value; /* NUL-terminated copy; len bytes */
    size_t len;
} lh__ice_avro_kv;

typedef struct lh__ice_avro_file {
    const char *name;
    lh__ice_avro_kv *meta;
    size_t nmeta;
    int codec;
    uint8_t sync[16];
    const uint8_t *pos, *end;
    int64_t block;   /* blocks read so far */
    int64_t records; /* records read so far (manifest.c counts them) */
} lh__ice_avro_file;

lh_rc lh__ice_avro_open(const uint8_t *p, size_t n, const char *name,
                        lh_arena *a, lh__ice_avro_file *f, lh_err *err);
const lh__ice_avro_kv *lh__ice_avro_meta(const lh__ice_avro_file *f,
                                         const char *key);
/* The next block's records (count of them) in data[0..len), decompressed
 * into scratch when the codec needs it; data NULL and count 0 at the end.
 * LH_ECORRUPT for a damaged block or a wrong sync marker. */
lh_rc lh__ice_avro_next_block(lh__ice_avro_file *f, lh_buf *scratch,
                              const uint8_t **data, size_t *len, int64_t *count,
                              lh_err *err);
lh_rc lh__ice_avro_read_long(const uint8_t **p, const uint8_t *end,
                             int64_t *out);
void lh__ice_avro_put_long(lh_buf *b, int64_t v);
void lh__ice_avro_put_bytes(lh_buf *b, const void *p, size_t n);
/* Writing: the header (avro.codec first, then meta) and blocks. */
lh_rc lh__ice_avro_write_header(lh_buf *out, const lh__ice_avro_kv *meta,
                                size_t nmeta, int codec,
                                const uint8_t sync[16]);
lh_rc lh__ice_avro_write_block(lh_buf *out, int codec, const uint8_t sync[16],
                               int64_t count, const void *data, size_t len,
                               lh_err *err);

/* ---- table.c / commit.c
 * ------------------------------------------------------------------ */

/* A handle on the store and folder of a table that may not exist yet. */
lh_rc lh__ice_table_open_empty(const char *table, const char *store,
                               const lh_ice_path_map *maps, uint32_t nmaps,
                               lh_ice_table **out, lh_err *err);
const char *lh__ice_table_folder(const lh_ice_table *t);
/* N of the v<N>.metadata.json the handle holds; -1 when not so named. */
int64_t lh__ice_table_version(const lh_ice_table *t);
lh_rc lh__ice_table_refresh(lh_ice_table *t, lh_err *err);
lh_rc lh__ice_random_sync(uint8_t sync[16], lh_err *err);
/* Publishes json as the table's next version v<N+1>.metadata.json with
 * put-if-absent, then version-hint.text. LH_EEXIST when another writer
 * took that version first (err untouched). */
/* Catalog tables (catalog.c, table.c). */
lh_rc lh__ice_catalog_location(lh_ice_catalog *c, const char *ns,
                               const char *name, char *buf, size_t n,
                               lh_err *err);
/* The conditional pointer swap (old NULL: the first row). LH_ECONFLICT
 * when the row no longer holds old, LH_EEXIST when a first row exists. */
lh_rc lh__ice_catalog_swap(lh_ice_catalog *c, const char *ns, const char *name,
                           const char *old_loc, const char *new_loc,
                           lh_err *err);
const char *lh__ice_catalog_name(const lh_ice_catalog *c);
lh_rc lh__ice_table_set_catalog(lh_ice_table *t, lh_ice_catalog *c,
                                const char *ns, const char *name, lh_err *err);
lh_ice_catalog *lh__ice_table_catalog(const lh_ice_table *t, const char **ns,
                                      const char **name);
/* The current metadata file's location (as metadata-log records it). */
lh_rc lh__ice_table_metadata_location(const lh_ice_table *t, char *buf,
                                      size_t n);
lh_rc lh__ice_publish(const lh_ice_table *t, const void *json, size_t len,
                      lh_err *err);

/* ---- cache.c ---------------------------------------------------------------
 * Parsed objects shared by every table handle of the process, each in an
 * entry of its own (an arena holding the parsed structure), refcounted:
 * lh__ice_cache_get and lh__ice_cache_new give the caller one reference,
 * lh__ice_cache_release drops it; the structure stays valid while the
 * caller holds it, evicted or not. Thread-safe.
 *
 * What a key holds, so that a hit is the same bytes parsed the same way:
 *   - table metadata: the store, the file's key and the ETag of the bytes
 *     just read (the local store's is the content's XXH3-128, S3's the
 *     MD5 or an upload's own): the current pointer is still read every
 *     time (version-hint.text, the next version, the catalog), so a new
 *     commit is seen at once; only the parse is saved. A table dropped
 *     and made again under the same name writes v1.metadata.json again
 *     with another table-uuid, hence other bytes and another ETag.
 *   - manifest lists and manifests: the store, the location, the table's
 *     uuid (from the metadata that names them) and what the naming
 *     snapshot or manifest-list entry says of them (snapshot id; length,
 *     spec, sequence numbers, adding snapshot, first row id) and the
 *     schema that types partition values. Iceberg never rewrites one in
 *     place (their names hold a uuid), and a re-created table has
 *     another uuid. Tables without a uuid (v1 may lack it) do not cache
 *     them. */
typedef struct lh__ice_cached lh__ice_cached;
/* A hit (one more reference) or NULL. */
lh__ice_cached *lh__ice_cache_get(const char *key, size_t klen);
/* A new entry, not yet in the cache, with one reference (the caller's):
 * parse into its arena, then lh__ice_cache_put. */
lh_rc lh__ice_cache_new(const char *key, size_t klen, lh__ice_cached **out,
                        lh_err *err);
lh_arena *lh__ice_cached_arena(lh__ice_cached *e);
void *lh__ice_cached_obj(const lh__ice_cached *e);
/* Sets the parsed object of an entry that stays the caller's alone. */
void lh__ice_cached_set(lh__ice_cached *e, void *obj);
/* Sets the parsed object and offers the entry to the cache (which takes
 * its own reference when it keeps it; it may not: cache off, too big, no
 * memory). The caller keeps its reference either way. */
void lh__ice_cache_put(lh__ice_cached *e, void *obj);
void lh__ice_cache_release(lh__ice_cached *e);
bool lh__ice_cache_enabled(void);
/* The store's identity in cache keys ("s3://b/p", "file:///root"). */
const char *lh__ice_table_store_id(const lh_ice_table *t);

/* A deep copy of a data file (strings, bounds, metrics, partition values)
 * into a. */
lh_rc lh__ice_data_file_copy(lh_arena *a, const lh_ice_data_file *in,
                             lh_ice_data_file *out, lh_err *err);

#endif
