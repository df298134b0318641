/*
 * Apache Iceberg tables (../shared/specs/iceberg/spec.md): what the other
 * modules may use. The model of table metadata (schemas, partition specs,
 * sort orders, snapshots, refs, logs, statistics), the partition transforms,
 * the single-value forms of values, manifests and manifest lists (Avro
 * Object Container Files), Puffin files and deletion vectors, and scan
 * planning. The design and the formats byte by byte are at the top of
 * iceberg_int.h; the user's view is docs/formats/iceberg.md.
 *
 * Memory: every structure here lives in an arena (lh_arena) named by the
 * call that made it, and stays valid until that arena is reset or
 * released. Strings are NUL-terminated, in the same arena.
 *
 * Errors: LH_EFORMAT for input that is not valid Iceberg (a missing or
 * mistyped field, a reference to something that is not there), with a
 * message naming the field ("table metadata: current-schema-id 3 is not
 * one of the schemas"); LH_ECORRUPT for damaged bytes (a checksum, a
 * length past the end); LH_EUNSUPPORTED ("unsupported: ...") for valid
 * input we do not handle; LH_ENOMEM. `err` may be NULL everywhere.
 *
 * Thread rules: parsed structures are immutable and may be shared by any
 * number of threads; a builder (lh_buf, arena) by one thread at a time.
 */
#ifndef LH_FORMAT_ICEBERG_H
#define LH_FORMAT_ICEBERG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "column/batch.h"
#include "column/column.h"
#include "io/io.h"
#include "util/util.h"

/* The highest table format version we read. */
#define LH_ICE_FORMAT_MAX 3

/* Reserved field ids (spec: "Reserved Field IDs"). */
#define LH_ICE_FIELD_FILE 2147483646
#define LH_ICE_FIELD_POS 2147483645
#define LH_ICE_FIELD_DELETED 2147483644
#define LH_ICE_FIELD_SPEC_ID 2147483643
#define LH_ICE_FIELD_DELETE_FILE_PATH 2147483546
#define LH_ICE_FIELD_DELETE_POS 2147483545
#define LH_ICE_FIELD_DELETE_ROW 2147483544
#define LH_ICE_FIELD_ROW_ID 2147483540
#define LH_ICE_FIELD_LAST_UPDATED_SEQ 2147483539
/* Table fields must stay at or below this. */
#define LH_ICE_FIELD_ID_MAX 2147483447

/* ---- types and schemas ----------------------------------------------------
 */

typedef enum lh_ice_type_id {
    LH_ICE_UNKNOWN = 0, /* v3 "unknown": always null */
    LH_ICE_BOOLEAN,
    LH_ICE_INT,
    LH_ICE_LONG,
    LH_ICE_FLOAT,
    LH_ICE_DOUBLE,
    LH_ICE_DECIMAL,
    LH_ICE_DATE,
    LH_ICE_TIME,
    LH_ICE_TIMESTAMP,
    LH_ICE_TIMESTAMPTZ,
    LH_ICE_TIMESTAMP_NS,
    LH_ICE_TIMESTAMPTZ_NS,
    LH_ICE_STRING,
    LH_ICE_UUID,
    LH_ICE_FIXED,
    LH_ICE_BINARY,
    LH_ICE_VARIANT,
    LH_ICE_GEOMETRY,
    LH_ICE_GEOGRAPHY,
    LH_ICE_STRUCT,
    LH_ICE_LIST,
    LH_ICE_MAP,
    LH_ICE_TYPE_COUNT_
} lh_ice_type_id;

typedef struct lh_ice_field lh_ice_field;

/* A type. Nested types hold their parts as fields: STRUCT its fields, LIST
 * one (the element, named "element"), MAP two ("key", "value"), each with
 * its field id and required flag. */
typedef struct lh_ice_type {
    uint8_t id;            /* lh_ice_type_id */
    uint8_t precision;     /* DECIMAL: 1..38 */
    uint8_t scale;         /* DECIMAL: 0..precision */
    uint32_t length;       /* FIXED */
    const char *crs;       /* GEOMETRY, GEOGRAPHY: NULL = OGC:CRS84 */
    const char *algorithm; /* GEOGRAPHY: NULL = spherical */
    lh_ice_field *fields;
    uint32_t nfields;
} lh_ice_type;

/* A literal value: a lakehouse value (column.h) of the type that
 * lh_ice_type_to_lh gives, or a JSON text for nested defaults. */
typedef struct lh_ice_default {
    bool set;         /* the key was present (null counts as set) */
    lh_value v;       /* primitives; is_null for JSON null */
    const char *json; /* the JSON text as given (compact) */
} lh_ice_default;

struct lh_ice_field {
    int32_t id;
    const char *name;
    bool required;
    lh_ice_type type;
    const char *doc; /* NULL when absent */
    lh_ice_default initial_default, write_default;
};

typedef struct lh_ice_schema {
    int32_t schema_id;
    lh_ice_type type; /* a STRUCT */
    int32_t *identifier_ids;
    uint32_t nidentifiers;
    int32_t highest_id; /* the highest field id anywhere in it */
} lh_ice_schema;

/* The canonical JSON name: "decimal(9,2)", "fixed[16]", "list"... buf
 * needs 64 bytes (geo types with a long CRS are cut). */
const char *lh_ice_type_name(const lh_ice_type *t, char *buf, size_t n);
bool lh_ice_type_is_primitive(const lh_ice_type *t);
/* The lakehouse type that holds the Iceberg type's values: int INTEGER,
 * long BIGINT, float REAL, decimal DECIMAL, date DATE, time TIME,
 * timestamp[_ns] TIMESTAMP, timestamptz[_ns] TIMESTAMPTZ (nanoseconds are
 * cut to µs), string VARCHAR, uuid UUID, fixed/binary/geo/variant BLOB,
 * unknown NULL, nested LIST/STRUCT/MAP. */
lh_type lh_ice_type_to_lh(const lh_ice_type *t);
/* The field with that id anywhere in the schema (nested too), or NULL. */
const lh_ice_field *lh_ice_schema_find(const lh_ice_schema *s, int32_t id);
/* The top-level field named `name` (exact, then case-insensitive), or
 * NULL. */
const lh_ice_field *lh_ice_schema_find_name(const lh_ice_schema *s,
                                            const char *name);

/* Parses a schema object (Appendix C): {"type":"struct","schema-id":..,
 * "identifier-field-ids":[..],"fields":[..]}. The text is JSON; a == the
 * arena the schema lives in. LH_EFORMAT naming the field at fault. */
lh_rc lh_ice_schema_parse_json(const char *json, size_t len, lh_arena *a,
                               lh_ice_schema *out, lh_err *err);
/* Appends the schema as JSON (canonical type names, defaults in their JSON
 * single-value form). */
lh_rc lh_ice_schema_to_json(const lh_ice_schema *s, lh_buf *out);

/* ---- values ---------------------------------------------------------------
 */

/* Binary single-value serialization (Appendix D), as bounds and partition
 * summaries store it: decodes p[0..n) as a value of primitive type t into
 * out (strings and binaries borrow p). The promotions of "Schema
 * Evolution" are applied by length: a 4-byte long is an int, a 4-byte
 * double a float, a 4-byte timestamp a date. LH_EFORMAT for a length that
 * does not fit the type; LH_EUNSUPPORTED for nested, unknown, variant and
 * geo types. */
lh_rc lh_ice_value_from_bytes(const lh_ice_type *t, const uint8_t *p, size_t n,
                              lh_value *out, lh_err *err);
/* Appends v (a value of lh_ice_type_to_lh(t)) in the binary form. */
lh_rc lh_ice_value_to_bytes(const lh_ice_type *t, const lh_value *v,
                            lh_buf *out, lh_err *err);
/* Reads a JSON single value of primitive type t (Appendix D: decimals and
 * temporal values as strings, binary as hex). Strings are copied into a. */
lh_rc lh_ice_value_from_json(const lh_ice_type *t, const json_t *j, lh_arena *a,
                             lh_value *out, lh_err *err);
/* Appends the JSON single-value form of v. */
lh_rc lh_ice_value_to_json(const lh_ice_type *t, const lh_value *v,
                           lh_buf *out);
/* Order of two non-null values of the same lakehouse type: <0, 0, >0.
 * Floats by IEEE totalOrder (-0 before +0, NaN last); strings and binaries
 * by unsigned bytes (UTF-8 order is code point order). */
int lh_ice_value_cmp(const lh_value *a, const lh_value *b);

/* ---- transforms and partition specs ------------------------------------- */

typedef enum lh_ice_transform_kind {
    LH_ICE_TR_IDENTITY = 0,
    LH_ICE_TR_BUCKET,
    LH_ICE_TR_TRUNCATE,
    LH_ICE_TR_YEAR,
    LH_ICE_TR_MONTH,
    LH_ICE_TR_DAY,
    LH_ICE_TR_HOUR,
    LH_ICE_TR_VOID,
    LH_ICE_TR_UNKNOWN, /* read and ignored for filtering (v3 requires it) */
} lh_ice_transform_kind;

typedef struct lh_ice_transform {
    uint8_t kind;     /* lh_ice_transform_kind */
    int32_t param;    /* bucket N, truncate W */
    const char *text; /* as written ("bucket[16]", or the unknown name) */
} lh_ice_transform;

/* "identity", "bucket[N]" (N >= 1), "truncate[W]" (W >= 1), "year",
 * "month", "day", "hour", "void"; anything else is LH_ICE_TR_UNKNOWN
 * (never an error), and a malformed bucket/truncate too. text is kept as
 * given (borrowed: copy it into an arena first). */
void lh_ice_transform_parse(const char *text, lh_ice_transform *out);
/* The type a transform gives for a source type, or false when the
 * transform does not apply to it (bucket on a float, hour on a date...). */
bool lh_ice_transform_result(const lh_ice_transform *tr, const lh_ice_type *src,
                             lh_ice_type *out);
/* Applies the transform to v (of lh_ice_type_to_lh(src)); out is of the
 * result type's lakehouse type (a truncated string borrows v's bytes).
 * NULL in, NULL out; void always NULL. LH_EINVAL when the transform does
 * not apply to the type, LH_EUNSUPPORTED for an unknown transform. */
lh_rc lh_ice_transform_apply(const lh_ice_transform *tr, const lh_ice_type *src,
                             const lh_value *v, lh_value *out, lh_err *err);

/* Murmur3 x86 32-bit, seed 0 (Appendix B). */
int32_t lh_ice_murmur3(const void *p, size_t n);
/* The Appendix B hash of a value of source type t (int and long hash as
 * long, date as int, decimal by its minimal big-endian unscaled bytes,
 * uuid big-endian, floats by canonical double bits). LH_EINVAL for a type
 * that has no hash. */
lh_rc lh_ice_hash(const lh_ice_type *t, const lh_value *v, int32_t *out,
                  lh_err *err);

typedef struct lh_ice_partition_field {
    int32_t source_id;   /* the first of source_ids */
    int32_t *source_ids; /* v3 multi-argument transforms; else one */
    uint32_t nsource_ids;
    int32_t field_id;
    const char *name;
    lh_ice_transform transform;
} lh_ice_partition_field;

typedef struct lh_ice_partition_spec {
    int32_t spec_id;
    lh_ice_partition_field *fields;
    uint32_t nfields;
} lh_ice_partition_spec;

/* The partition tuple type of a spec under a schema: a STRUCT with one
 * field per partition field (id = field id, the transform's result type;
 * an unknown transform or a missing source gives a BINARY placeholder that
 * filtering ignores). Allocated in a. */
lh_rc lh_ice_spec_partition_type(const lh_ice_partition_spec *spec,
                                 const lh_ice_schema *schema, lh_arena *a,
                                 lh_ice_type *out, lh_err *err);

typedef struct lh_ice_sort_field {
    int32_t source_id;
    int32_t *source_ids;
    uint32_t nsource_ids;
    lh_ice_transform transform;
    bool descending;
    bool nulls_first;
} lh_ice_sort_field;

typedef struct lh_ice_sort_order {
    int32_t order_id;
    lh_ice_sort_field *fields;
    uint32_t nfields;
} lh_ice_sort_order;

/* ---- snapshots and table metadata ---------------------------------------- */

typedef struct lh_ice_kv {
    const char *key;
    const char *value;
} lh_ice_kv;

typedef struct lh_ice_snapshot {
    int64_t snapshot_id;
    bool has_parent;
    int64_t parent_id;
    int64_t sequence_number; /* 0 for v1 */
    int64_t timestamp_ms;
    const char *manifest_list; /* NULL for v1 snapshots with "manifests" */
    const char **manifests;    /* v1 only */
    uint32_t nmanifests;
    const char *operation; /* the summary's "operation"; NULL in v1 */
    lh_ice_kv *summary;    /* every summary entry, operation included */
    uint32_t nsummary;
    bool has_schema_id;
    int32_t schema_id;
    bool has_first_row_id; /* v3 */
    int64_t first_row_id;
    bool has_added_rows;
    int64_t added_rows;
    const char *key_id; /* v3 encryption; NULL when absent */
} lh_ice_snapshot;

typedef struct lh_ice_ref {
    const char *name;
    int64_t snapshot_id;
    bool is_tag;                   /* else a branch */
    int32_t min_snapshots_to_keep; /* 0 = unset */
    int64_t max_snapshot_age_ms;   /* 0 = unset */
    int64_t max_ref_age_ms;        /* 0 = unset */
} lh_ice_ref;

typedef struct lh_ice_log_entry {
    int64_t timestamp_ms;
    int64_t snapshot_id;       /* snapshot-log */
    const char *metadata_file; /* metadata-log */
} lh_ice_log_entry;

typedef struct lh_ice_blob_meta {
    const char *type;
    int64_t snapshot_id;
    int64_t sequence_number;
    int32_t *fields;
    uint32_t nfields;
    lh_ice_kv *properties;
    uint32_t nproperties;
} lh_ice_blob_meta;

typedef struct lh_ice_statistics {
    int64_t snapshot_id;
    const char *path;
    int64_t file_size;
    int64_t footer_size;      /* table statistics only */
    const char *key_metadata; /* base64; NULL when absent */
    lh_ice_blob_meta *blobs;
    uint32_t nblobs;
} lh_ice_statistics;

typedef struct lh_ice_encryption_key {
    const char *key_id;
    const char *encrypted_key_metadata;
    const char *encrypted_by_id;
    lh_ice_kv *properties;
    uint32_t nproperties;
} lh_ice_encryption_key;

/* Table metadata (spec "Table Metadata Fields"), normalized: v1's single
 * schema and partition-spec become one-element lists, v1 defaults fill
 * the v2 fields (Appendix E), "-1" current snapshots become none, and the
 * main branch is in refs whenever there is a current snapshot. */
typedef struct lh_ice_meta {
    int format_version;
    const char *table_uuid; /* NULL in a v1 table without one */
    const char *location;
    int64_t last_sequence_number;
    int64_t last_updated_ms;
    int32_t last_column_id;
    lh_ice_schema *schemas;
    uint32_t nschemas;
    int32_t current_schema_id;
    lh_ice_partition_spec *specs;
    uint32_t nspecs;
    int32_t default_spec_id;
    int32_t last_partition_id;
    lh_ice_kv *properties;
    uint32_t nproperties;
    bool has_current_snapshot;
    int64_t current_snapshot_id;
    lh_ice_snapshot *snapshots;
    uint32_t nsnapshots;
    lh_ice_log_entry *snapshot_log;
    uint32_t nsnapshot_log;
    lh_ice_log_entry *metadata_log;
    uint32_t nmetadata_log;
    lh_ice_sort_order *sort_orders;
    uint32_t nsort_orders;
    int32_t default_sort_order_id;
    lh_ice_ref *refs;
    uint32_t nrefs;
    lh_ice_statistics *statistics;
    uint32_t nstatistics;
    lh_ice_statistics *partition_statistics;
    uint32_t npartition_statistics;
    bool has_next_row_id;
    int64_t next_row_id;
    lh_ice_encryption_key *encryption_keys;
    uint32_t nencryption_keys;
} lh_ice_meta;

/* Parses table metadata JSON (spec "Table Metadata", Appendix C): p[0..n)
 * may be gzip- or zstd-compressed (sniffed by magic bytes, whatever the
 * file is called). Every field of v1, v2 and v3 is read and checked: the
 * fields a version requires, their JSON types, that ids referenced
 * (current-schema-id, default-spec-id, default-sort-order-id,
 * current-snapshot-id, refs, parents, partition and sort source ids) exist,
 * and that field ids are unique. LH_EFORMAT with a message that starts
 * "table metadata: " and names the field; LH_EUNSUPPORTED for a
 * format-version above LH_ICE_FORMAT_MAX. *out lives in a. */
lh_rc lh_ice_meta_parse(const uint8_t *p, size_t n, lh_arena *a,
                        lh_ice_meta **out, lh_err *err);

/* Appends the metadata as JSON for its format version (v2 and v3 writing
 * rules: no v1-only fields). */
lh_rc lh_ice_meta_to_json(const lh_ice_meta *m, lh_buf *out, lh_err *err);

/* Look-ups (NULL when absent). */
const lh_ice_schema *lh_ice_meta_schema(const lh_ice_meta *m, int32_t id);
const lh_ice_schema *lh_ice_meta_current_schema(const lh_ice_meta *m);
const lh_ice_partition_spec *lh_ice_meta_spec(const lh_ice_meta *m, int32_t id);
const lh_ice_snapshot *lh_ice_meta_snapshot(const lh_ice_meta *m, int64_t id);
const lh_ice_snapshot *lh_ice_meta_current_snapshot(const lh_ice_meta *m);
const lh_ice_ref *lh_ice_meta_ref(const lh_ice_meta *m, const char *name);
const char *lh_ice_meta_property(const lh_ice_meta *m, const char *key);
/* The snapshot that was current at timestamp_ms (the snapshot log's last
 * entry at or before it; without a log, the newest snapshot at or before
 * it). LH_ENOENT naming the time when there is none. */
lh_rc lh_ice_meta_snapshot_at(const lh_ice_meta *m, int64_t timestamp_ms,
                              const lh_ice_snapshot **out, lh_err *err);

/* Decompresses gzip or zstd input (by magic) into out; anything else is
 * copied. At most `limit` bytes come out (LH_ELIMIT past it). */
lh_rc lh_ice_decompress_sniff(const uint8_t *p, size_t n, size_t limit,
                              lh_buf *out, lh_err *err);

/* ---- manifests and manifest lists ------------------------------------------
 */

typedef enum lh_ice_content {
    LH_ICE_CONTENT_DATA = 0,
    LH_ICE_CONTENT_POSITION_DELETES = 1,
    LH_ICE_CONTENT_EQUALITY_DELETES = 2,
} lh_ice_content;

typedef enum lh_ice_status {
    LH_ICE_EXISTING = 0,
    LH_ICE_ADDED = 1,
    LH_ICE_DELETED = 2,
} lh_ice_status;

/* A per-column count or size (column_sizes, value_counts, ...). */
typedef struct lh_ice_metric {
    int32_t id;
    int64_t v;
} lh_ice_metric;

/* A lower or upper bound in the binary single-value form. */
typedef struct lh_ice_bound {
    int32_t id;
    const uint8_t *p;
    uint32_t n;
} lh_ice_bound;

/* A data file or delete file (spec "Data File Fields"). */
typedef struct lh_ice_data_file {
    uint8_t content; /* lh_ice_content */
    const char *path;
    const char *format; /* "parquet", "avro", "orc", "puffin" */
    int32_t spec_id;
    lh_value *partition; /* one per field of the spec, in its order */
    uint32_t npartition;
    int64_t record_count;
    int64_t file_size;
    lh_ice_metric *column_sizes, *value_counts, *null_counts, *nan_counts;
    uint32_t ncolumn_sizes, nvalue_counts, nnull_counts, nnan_counts;
    lh_ice_bound *lower, *upper;
    uint32_t nlower, nupper;
    const uint8_t *key_metadata;
    size_t nkey_metadata;
    int64_t *split_offsets;
    uint32_t nsplit_offsets;
    int32_t *equality_ids;
    uint32_t nequality_ids;
    bool has_sort_order_id;
    int32_t sort_order_id;
    bool has_first_row_id; /* inherited when the manifest has one */
    int64_t first_row_id;
    const char *referenced_data_file; /* NULL when absent */
    bool has_content_offset;          /* deletion vectors */
    int64_t content_offset, content_size;
} lh_ice_data_file;

/* A manifest entry with its inherited values filled in: snapshot_id and
 * the sequence numbers are never "null" here. */
typedef struct lh_ice_entry {
    uint8_t status; /* lh_ice_status */
    int64_t snapshot_id;
    int64_t sequence_number; /* the data sequence number */
    int64_t file_sequence_number;
    lh_ice_data_file file;
} lh_ice_entry;

typedef struct lh_ice_manifest {
    int format_version;
    uint8_t content; /* 0 data, 1 deletes */
    int32_t spec_id;
    int32_t schema_id;          /* -1 when the header has none */
    const char *schema_json;    /* header "schema", NULL when absent */
    const char *spec_json;      /* header "partition-spec" */
    lh_ice_type partition_type; /* the STRUCT the partition values have */
    lh_ice_entry *entries;
    uint32_t nentries;
} lh_ice_manifest;

typedef struct lh_ice_field_summary {
    bool contains_null;
    bool has_contains_nan, contains_nan;
    bool has_lower, has_upper;
    const uint8_t *lower, *upper;
    uint32_t nlower, nupper;
} lh_ice_field_summary;

/* A manifest list entry (spec "Manifest Lists"). Counts are -1 when the
 * writer left them null (v1: "assumed non-zero"). */
typedef struct lh_ice_manifest_file {
    const char *path;
    int64_t length;
    int32_t spec_id;
    uint8_t content;                              /* 0 data, 1 deletes */
    int64_t sequence_number, min_sequence_number; /* 0 in v1 */
    int64_t added_snapshot_id;
    int64_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    lh_ice_field_summary *partitions;
    uint32_t npartitions;
    const uint8_t *key_metadata;
    size_t nkey_metadata;
    bool has_first_row_id;
    int64_t first_row_id;
} lh_ice_manifest_file;

typedef struct lh_ice_manifest_list {
    int format_version; /* header "format-version", 1 when absent */
    bool has_snapshot_id, has_sequence_number;
    int64_t snapshot_id, sequence_number;
    lh_ice_manifest_file *files;
    uint32_t nfiles;
} lh_ice_manifest_list;

/* Reads a manifest list from the bytes of its Avro file (p[0..n), borrowed
 * for the call; name is for messages). Fields are found by field id (by
 * name for writers that omit ids); header keys are optional. LH_EFORMAT /
 * LH_ECORRUPT naming the file and the record; LH_EUNSUPPORTED for codecs
 * other than null, deflate, snappy and zstandard. */
lh_rc lh_ice_manifest_list_read(const uint8_t *p, size_t n, const char *name,
                                lh_arena *a, lh_ice_manifest_list *out,
                                lh_err *err);
/* Reads a manifest. mf (may be NULL) is its manifest list entry, whose
 * snapshot id, sequence number and first row id are inherited; meta (may
 * be NULL) gives the partition spec and schema that type the partition
 * values (without it they are typed from the Avro schema). */
lh_rc lh_ice_manifest_read(const uint8_t *p, size_t n, const char *name,
                           const lh_ice_manifest_file *mf,
                           const lh_ice_meta *meta, lh_arena *a,
                           lh_ice_manifest *out, lh_err *err);

/* ---- Puffin and deletion vectors --------------------------------------------
 */

typedef struct lh_ice_puffin_blob {
    const char *type;
    int32_t *fields;
    uint32_t nfields;
    int64_t snapshot_id, sequence_number;
    int64_t offset, length;
    const char *codec; /* NULL, "zstd" or "lz4" */
    lh_ice_kv *properties;
    uint32_t nproperties;
} lh_ice_puffin_blob;

typedef struct lh_ice_puffin {
    lh_ice_puffin_blob *blobs;
    uint32_t nblobs;
    lh_ice_kv *properties;
    uint32_t nproperties;
    size_t footer_size; /* the footer's bytes, magic to magic */
} lh_ice_puffin;

/* Reads a Puffin file's footer (both magics, the payload size, an LZ4
 * payload, every blob's metadata; blobs must lie between the magics).
 * LH_EFORMAT / LH_ECORRUPT naming the file; LH_EUNSUPPORTED for a codec
 * other than zstd and lz4. */
lh_rc lh_ice_puffin_read(const uint8_t *p, size_t n, const char *name,
                         lh_arena *a, lh_ice_puffin *out, lh_err *err);
const char *lh_ice_puffin_blob_property(const lh_ice_puffin_blob *b,
                                        const char *key);
/* The blob's bytes, decompressed, into out. */
lh_rc lh_ice_puffin_blob_bytes(const uint8_t *file, size_t n,
                               const lh_ice_puffin_blob *b, lh_buf *out,
                               lh_err *err);
/* Writes a Puffin file of n blobs (payloads[i] the bytes of blobs[i], whose
 * offset and length are computed; uncompressed) into out. */
lh_rc lh_ice_puffin_write(lh_buf *out, const lh_ice_puffin_blob *blobs,
                          const lh_buf *payloads, uint32_t n,
                          const char *created_by, lh_err *err);

/* A set of 64-bit row positions (a deletion vector). Heap object: free
 * with lh_ice_dv_free. */
typedef struct lh_ice_dv lh_ice_dv;
lh_rc lh_ice_dv_new(lh_ice_dv **out, lh_err *err);
void lh_ice_dv_free(lh_ice_dv *dv);
/* LH_EINVAL for a negative position. */
lh_rc lh_ice_dv_add(lh_ice_dv *dv, int64_t pos, lh_err *err);
bool lh_ice_dv_contains(const lh_ice_dv *dv, int64_t pos);
uint64_t lh_ice_dv_cardinality(const lh_ice_dv *dv);
/* Up to max positions in ascending order into out; *n how many. */
lh_rc lh_ice_dv_positions(const lh_ice_dv *dv, int64_t *out, uint64_t max,
                          uint64_t *n);
/* The portable 64-bit Roaring form (count, then key + 32-bit bitmap), as
 * the RoaringFormatSpec's 64map*.bin files hold it. Keys must ascend and
 * stay below 2^31 (positions below 2^63). LH_ECORRUPT otherwise. */
lh_rc lh_ice_roaring64_parse(const uint8_t *p, size_t n, lh_ice_dv **out,
                             lh_err *err);
/* A deletion-vector-v1 blob: length, magic, vector, CRC-32 all checked. */
lh_rc lh_ice_dv_parse(const uint8_t *p, size_t n, lh_ice_dv **out, lh_err *err);
/* Appends the blob form. */
lh_rc lh_ice_dv_serialize(const lh_ice_dv *dv, lh_buf *out, lh_err *err);

/* ---- tables: store, paths, metadata
 * ------------------------------------------ */

/* A table opened read-only from its metadata file, on an object store.
 * Locations inside the metadata (manifest lists, manifests, data files)
 * become store keys by these rules, in order:
 *   1. the first path map whose `from` prefixes the location replaces
 *      that prefix with `to` (tables written elsewhere: hdfs://, s3://);
 *   2. a location with a URI scheme must lie under the store's URI
 *      ("s3://bucket/prefix", "file:///root"); "file:/x" and "/x" are
 *      local paths and must lie under a local store's root;
 *   3. a relative location (no scheme) resolves against the folder that
 *      holds the table folder when its first segment is the table
 *      folder's name (duckdb-iceberg's relativized tables), else against
 *      the table folder (v4 relative paths).
 * Heap object; lh_ice_table_close frees it. Thread rules: immutable after
 * open; any number of threads may plan and read with it. */
typedef struct lh_ice_table lh_ice_table;

typedef struct lh_ice_path_map {
    const char *from;
    const char *to;
} lh_ice_path_map;

typedef struct lh_ice_open_opts {
    const char *store; /* object store URI (lh_io_open); NULL = the local
                          filesystem, the table a local path */
    const lh_ice_path_map *maps; /* copied */
    uint32_t nmaps;
} lh_ice_open_opts;

/* Opens `table`: a metadata file (*.metadata.json, gzip/zstd sniffed), or
 * a table folder (its metadata/version-hint.text, else the highest
 * numbered metadata/ *.metadata.json). With a store, `table` is a key in
 * it, or a URI under the store's. LH_ENOENT naming what is missing, the
 * metadata's codes (lh_ice_meta_parse), LH_EIO from the store. */
lh_rc lh_ice_table_open(const char *table, const lh_ice_open_opts *opts,
                        lh_ice_table **out, lh_err *err);
void lh_ice_table_close(lh_ice_table *t);
const lh_ice_meta *lh_ice_table_meta(const lh_ice_table *t);
/* The store key of the metadata file the table was opened from. */
const char *lh_ice_table_metadata_key(const lh_ice_table *t);
lh_io_store *lh_ice_table_store(const lh_ice_table *t);
/* The store key of a location (rules above) into buf; LH_EINVAL naming
 * the location when it is outside the store. */
lh_rc lh_ice_table_key(const lh_ice_table *t, const char *location, char *buf,
                       size_t n, lh_err *err);
/* The whole object at a location into out. */
lh_rc lh_ice_table_get(const lh_ice_table *t, const char *location, lh_buf *out,
                       lh_err *err);

/* ---- expressions
 * ------------------------------------------------------------- */

typedef enum lh_ice_op {
    LH_ICE_OP_TRUE = 0,
    LH_ICE_OP_FALSE,
    LH_ICE_OP_AND,
    LH_ICE_OP_OR,
    LH_ICE_OP_NOT,
    LH_ICE_OP_EQ,
    LH_ICE_OP_NE,
    LH_ICE_OP_LT,
    LH_ICE_OP_LE,
    LH_ICE_OP_GT,
    LH_ICE_OP_GE,
    LH_ICE_OP_IS_NULL,
    LH_ICE_OP_NOT_NULL,
    LH_ICE_OP_IS_NAN,
    LH_ICE_OP_NOT_NAN,
    LH_ICE_OP_IN,
    LH_ICE_OP_NOT_IN,
    LH_ICE_OP_STARTS_WITH,
} lh_ice_op;

/* A bound predicate: leaves name a field by id (any depth, primitive) and
 * carry literals of that field's lakehouse type (lh_ice_type_to_lh); the
 * binder (the SQL engine, the CLI's --where) converts. */
typedef struct lh_ice_expr {
    uint8_t op; /* lh_ice_op */
    int32_t field_id;
    const lh_value *lits; /* EQ..GE, STARTS_WITH: 1; IN, NOT_IN: n */
    uint32_t nlits;
    const struct lh_ice_expr *a, *b; /* AND, OR: both; NOT: a */
} lh_ice_expr;

/* The expression with NOT pushed down to the leaves (allocated in a). */
lh_rc lh_ice_expr_normalize(const lh_ice_expr *e, lh_arena *a,
                            const lh_ice_expr **out, lh_err *err);
/* Pruning tests (true: may match). Inclusive projection through the
 * spec's transforms onto a manifest's partition summaries or one file's
 * partition values, and the file's column metrics. e must be normalized. */
bool lh_ice_expr_may_match_summaries(const lh_ice_expr *e,
                                     const lh_ice_partition_spec *spec,
                                     const lh_ice_schema *schema,
                                     const lh_ice_type *partition_type,
                                     const lh_ice_manifest_file *mf);
bool lh_ice_expr_may_match_partition(const lh_ice_expr *e,
                                     const lh_ice_partition_spec *spec,
                                     const lh_ice_schema *schema,
                                     const lh_ice_data_file *f);
bool lh_ice_expr_may_match_metrics(const lh_ice_expr *e,
                                   const lh_ice_schema *schema,
                                   const lh_ice_data_file *f);
/* Evaluates e on one row: value(ctx, field_id, &v) gives the row's value
 * of a field (false when it has none: read as NULL). SQL's three-valued
 * logic; true only when the row matches. */
typedef bool (*lh_ice_value_fn)(void *ctx, int32_t field_id, lh_value *out);
bool lh_ice_expr_eval(const lh_ice_expr *e, lh_ice_value_fn value, void *ctx);

/* ---- scan planning
 * ------------------------------------------------------------- */

typedef struct lh_ice_scan_opts {
    bool has_snapshot_id; /* else as_of, ref, then the current snapshot */
    int64_t snapshot_id;
    bool has_as_of;
    int64_t as_of_ms;
    const char *ref;           /* a branch or tag; NULL = main */
    const lh_ice_expr *filter; /* NULL = everything */
} lh_ice_scan_opts;

/* One data file to read, with the delete files that apply to it (spec
 * "Scan Planning": deletion vectors by referenced file, position deletes
 * of the same partition and an equal or newer sequence number, equality
 * deletes of the same partition or unpartitioned with a newer one; a
 * deletion vector makes the position delete files moot). residual is the
 * filter rows must still pass (the planner only prunes whole files). */
typedef struct lh_ice_task {
    const lh_ice_data_file *file;
    int64_t data_sequence_number;
    const lh_ice_data_file *const *deletes;
    uint32_t ndeletes;
    const lh_ice_expr *residual;
    const lh_ice_partition_spec *spec;
} lh_ice_task;

typedef struct lh_ice_plan_stats {
    uint32_t manifests, manifests_pruned, delete_manifests;
    uint64_t files, files_pruned_partition, files_pruned_metrics;
    uint64_t delete_files;
    uint64_t records; /* in the tasks' files, before deletes */
} lh_ice_plan_stats;

typedef struct lh_ice_plan {
    const lh_ice_snapshot *snapshot; /* NULL: the table has none (empty) */
    const lh_ice_schema *schema;     /* the snapshot's schema, else current */
    lh_ice_task *tasks;
    uint32_t ntasks;
    lh_ice_plan_stats stats;
} lh_ice_plan;

/* Plans a scan; everything lives in a. LH_ENOENT for an unknown snapshot,
 * ref or a time before the first snapshot; the readers' codes for the
 * manifest list and manifests. */
lh_rc lh_ice_plan_scan(const lh_ice_table *t, const lh_ice_scan_opts *opts,
                       lh_arena *a, lh_ice_plan *out, lh_err *err);

/* ---- the cache of parsed metadata and manifests --------------------------
 *
 * Opening a table and planning a scan parse its metadata file, the
 * snapshot's manifest list and the manifests not pruned; the results are
 * kept in one cache for the whole process (iceberg_int.h, "cache.c":
 * keyed on each object's location plus what proves its bytes unchanged,
 * so a commit by anyone is seen at once), bounded by a byte budget with
 * the least recently used evicted first. Plans copy what they keep
 * (lh_ice_plan needs no cache entry to stay valid). Thread-safe. */
typedef struct lh_ice_cache_stats {
    uint64_t hits, misses, evictions;
    uint64_t entries, bytes; /* held now */
} lh_ice_cache_stats;
/* The budget in bytes (default 64 MiB); 0 turns the cache off. Entries
 * past a smaller budget go at once. */
void lh_ice_cache_set_budget(size_t bytes);
size_t lh_ice_cache_budget(void);
/* Empties the cache (entries in use live on until released). */
void lh_ice_cache_clear(void);
void lh_ice_cache_stats_get(lh_ice_cache_stats *out);

/* ---- reading tasks
 * ----------------------------------------------------------------- */

/* Reads one task's rows as batches of the projected fields (top-level
 * field ids of plan->schema, in order; columns typed lh_ice_type_to_lh).
 * Parquet columns are found by field id (the table's name mapping
 * `schema.name-mapping.default` for files without ids); a field the file
 * lacks is its identity partition value, else its initial-default, else
 * NULL; promoted types are widened (int to long, float to double, decimal
 * precision, date to timestamp). Deleted rows (position deletes, deletion
 * vectors, equality deletes) are left out of the batch's selection
 * (lh_batch.sel). The residual is not applied: rows are a superset.
 * LH_EUNSUPPORTED "unsupported: ORC data files" for other formats. */
typedef struct lh_ice_reader lh_ice_reader;
lh_rc lh_ice_read_open(const lh_ice_table *t, const lh_ice_plan *plan,
                       const lh_ice_task *task, const int32_t *field_ids,
                       uint32_t nfields, lh_ice_reader **out, lh_err *err);
/* The batch is the reader's, valid until the next call; count 0 at the
 * end. */
lh_rc lh_ice_read_next(lh_ice_reader *r, lh_batch *out, lh_err *err);
void lh_ice_read_close(lh_ice_reader *r);

/* ---- writing
 * -----------------------------------------------------------------------------
 */

typedef struct lh_ice_manifest_write_opts {
    int format_version;
    uint8_t content; /* 0 data, 1 deletes */
    const lh_ice_schema *schema;
    const lh_ice_partition_spec *spec;
    const lh_ice_type *partition_type; /* lh_ice_spec_partition_type */
    bool inherit; /* ADDED entries leave snapshot id and sequence numbers
                     null, inherited from the manifest list */
} lh_ice_manifest_write_opts;

/* A manifest (Avro, deflate) with the header keys the spec requires:
 * schema, schema-id, partition-spec, partition-spec-id, format-version,
 * content; records by the spec's v2 (v3) manifest_entry schema. */
lh_rc lh_ice_manifest_write(const lh_ice_manifest_write_opts *o,
                            const lh_ice_entry *entries, uint32_t n,
                            lh_buf *out, lh_err *err);
/* A manifest list with the header keys snapshot-id, parent-snapshot-id,
 * sequence-number, format-version. */
lh_rc lh_ice_manifest_list_write(const lh_ice_manifest_list *ml,
                                 int format_version, bool has_parent,
                                 int64_t parent_id, lh_buf *out, lh_err *err);
/* The partition field summaries of a manifest's entries (in a). */
lh_rc lh_ice_summarize(const lh_ice_type *ptype, const lh_ice_entry *entries,
                       uint32_t n, lh_arena *a, lh_ice_field_summary **out,
                       lh_err *err);

/* A data file being written: Parquet with the schema's field ids and the
 * Iceberg schema in the footer ("iceberg.schema", as Spark writes it),
 * every row of one partition of the spec (LH_EINVAL otherwise), metrics
 * (value, null and NaN counts, bounds in the single-value form, column
 * sizes, split offsets) counted as the rows go by. Heap object: close or
 * abort frees it. */
typedef struct lh_ice_data_writer lh_ice_data_writer;
lh_rc lh_ice_data_writer_open(const lh_ice_schema *schema,
                              const lh_ice_partition_spec *spec,
                              lh_ice_data_writer **out, lh_err *err);
/* The Parquet layout of a data file (lh_ice_data_writer_open_opts). */
typedef struct lh_ice_data_writer_opts {
    uint64_t row_group_rows; /* 0 = the Parquet writer's default */
    /* Top-level field ids whose chunks get a Bloom filter (borrowed for
     * the open call). */
    const int32_t *bloom_ids;
    uint32_t nbloom;
} lh_ice_data_writer_opts;
/* lh_ice_data_writer_open with a layout; o NULL = the defaults. */
lh_rc lh_ice_data_writer_open_opts(const lh_ice_schema *schema,
                                   const lh_ice_partition_spec *spec,
                                   const lh_ice_data_writer_opts *o,
                                   lh_ice_data_writer **out, lh_err *err);
/* The batch's columns are the schema's top-level fields, in order, of
 * their lakehouse types (lh_ice_type_to_lh). */
lh_rc lh_ice_data_writer_write(lh_ice_data_writer *w, const lh_batch *b,
                               lh_err *err);
/* Finishes the file, stores it at `location` (a location of table t) and
 * describes it in *out (in a). Frees w. */
lh_rc lh_ice_data_writer_close(lh_ice_data_writer *w, const lh_ice_table *t,
                               const char *location, lh_arena *a,
                               lh_ice_data_file *out, lh_err *err);
void lh_ice_data_writer_abort(lh_ice_data_writer *w);

typedef struct lh_ice_create_opts {
    const char *store; /* as lh_ice_open_opts */
    const lh_ice_path_map *maps;
    uint32_t nmaps;
    const char *location; /* the table's location URI, recorded in the
                             metadata ("file:///abs/t", "s3://b/t",
                             "http://127.0.0.1:8080/t" with a path map) */
    int format_version;   /* 2 (0) or 3 */
    const lh_ice_kv *properties;
    uint32_t nproperties;
} lh_ice_create_opts;

/* Creates an empty table in the folder `table` (a path or store key as
 * lh_ice_table_open takes): metadata/v1.metadata.json, put-if-absent, and
 * version-hint.text. spec NULL = unpartitioned. LH_EEXIST when a table is
 * there. *out is open on it. */
lh_rc lh_ice_table_create(const char *table, const lh_ice_schema *schema,
                          const lh_ice_partition_spec *spec,
                          const lh_ice_create_opts *o, lh_ice_table **out,
                          lh_err *err);

/* One commit: files to add, data files to remove (by path; replace,
 * overwrite, delete), delete files to add (position deletes, deletion
 * vectors), extra snapshot summary entries. The pipeline records what a
 * snapshot covers there (e.g. "lakehouse.hot-positions" = "0:1200,1:877":
 * the last hot-tier position per shard), so the router can read the hot
 * tier past it. */
typedef struct lh_ice_change {
    const char *operation; /* NULL: append, delete or overwrite by content */
    const lh_ice_data_file *add;
    uint32_t nadd;
    const char *const *remove;
    uint32_t nremove;
    const lh_ice_data_file *deletes;
    uint32_t ndeletes;
    const lh_ice_kv *summary;
    uint32_t nsummary;
    int max_retries; /* 0 = 100 */
    /* The snapshot's time: 0 = the real clock; the pipeline passes its
     * lh_now() so that LH_NOW drives time travel. Either way it is moved
     * past the table's last update, so snapshot times never go back. */
    int64_t timestamp_ms;
} lh_ice_change;

/* Commits the change as a new snapshot on the main branch, with
 * optimistic concurrency (top of commit.c): on a lost race it re-reads the
 * table and retries; files to remove that a concurrent commit removed make
 * it LH_ECONFLICT ("commit conflict: ..."), as do max_retries lost races.
 * *snapshot_id (may be NULL) gets the new snapshot's id; t is refreshed to
 * the new version. Tables opened from a metadata file not named
 * v<N>.metadata.json are LH_EREADONLY. */
lh_rc lh_ice_commit(lh_ice_table *t, const lh_ice_change *c,
                    int64_t *snapshot_id, lh_err *err);
/* Re-reads the table's latest version (version-hint.text, then forward
 * while v<N+1> exists). */
lh_rc lh_ice_table_refresh(lh_ice_table *t, lh_err *err);

/* Makes `schema` the table's current schema (a new schema id), as a
 * metadata-only commit. Fields keep their ids: a rename changes only the
 * name, a drop leaves the field out, a reorder moves it, and a type may
 * widen by "Schema Evolution" (int to long, float to double, decimal
 * precision; date to timestamp in v3); new fields take ids above
 * last-column-id, and a new required field needs an initial-default. Data
 * files are not rewritten: reads project by field id. LH_EINVAL naming the
 * field for anything else (or for dropping a partition source);
 * LH_ECONFLICT when the schema changed concurrently. */
lh_rc lh_ice_update_schema(lh_ice_table *t, const lh_ice_schema *schema,
                           lh_err *err);
/* Makes `spec` (its fields; the id is assigned) the default partition
 * spec; field ids of equivalent existing fields are reused, an equal
 * existing spec becomes the default again. Old files keep their spec. */
lh_rc lh_ice_update_spec(lh_ice_table *t, const lh_ice_partition_spec *spec,
                         lh_err *err);

/* ---- the SQLite catalog ---------------------------------------------- */

/* An embedded catalog with the tables of Iceberg's JDBC catalog and
 * pyiceberg's SqlCatalog (iceberg_tables, iceberg_namespace_properties;
 * top of catalog.c), so those tools can open the file. Commits of its
 * tables swap the metadata pointer with a conditional UPDATE. Heap object;
 * it must outlive the tables loaded from it. Thread rules: one catalog may
 * be shared (SQLite serialized mode). */
typedef struct lh_ice_catalog lh_ice_catalog;
/* Opens (creating the file and tables when missing) the catalog `name`
 * (NULL = "lakehouse") in the SQLite file at path. LH_EIO naming it. */
lh_rc lh_ice_catalog_open(const char *path, const char *name,
                          lh_ice_catalog **out, lh_err *err);
void lh_ice_catalog_close(lh_ice_catalog *c);
/* Creates table ns.name in the folder `table` (as lh_ice_table_create:
 * o->location is the recorded URI) and registers it. LH_EEXIST when the
 * catalog has it. */
lh_rc lh_ice_catalog_create_table(lh_ice_catalog *c, const char *ns,
                                  const char *name, const char *table,
                                  const lh_ice_schema *schema,
                                  const lh_ice_partition_spec *spec,
                                  const lh_ice_create_opts *o,
                                  lh_ice_table **out, lh_err *err);
/* The table the catalog points at. LH_ENOENT naming it when absent. */
lh_rc lh_ice_catalog_load_table(lh_ice_catalog *c, const char *ns,
                                const char *name, const lh_ice_open_opts *o,
                                lh_ice_table **out, lh_err *err);
/* The names of a namespace's tables, one a line, into out. */
lh_rc lh_ice_catalog_list(lh_ice_catalog *c, const char *ns, lh_buf *out,
                          lh_err *err);

/* ---- maintenance
 * --------------------------------------------------------------------- */

typedef struct lh_ice_maintain_stats {
    uint64_t expired_snapshots;
    uint64_t deleted_files; /* data, delete, manifest and list files */
    uint64_t orphans_removed;
} lh_ice_maintain_stats;

/* Expires the snapshots the retention policy lets go (spec "Snapshot
 * Retention Policy": refs' snapshots stay; a branch keeps its ancestors
 * newer than older_than_ms and at least its first retain_last, or the
 * ref's min-snapshots-to-keep), commits the new metadata, then deletes the
 * files no retained snapshot lists as live and the manifests and lists no
 * retained snapshot uses. Counts go to *st (may be NULL; added to). */
lh_rc lh_ice_expire_snapshots(lh_ice_table *t, int64_t older_than_ms,
                              int retain_last, lh_ice_maintain_stats *st,
                              lh_err *err);
/* Deletes the files under the table's data/ and metadata/ that no snapshot
 * references (metadata versions and version-hint.text excepted), last
 * modified before older_than_ms (younger ones may belong to a commit in
 * flight). */
lh_rc lh_ice_remove_orphans(lh_ice_table *t, int64_t older_than_ms,
                            lh_ice_maintain_stats *st, lh_err *err);

#endif
