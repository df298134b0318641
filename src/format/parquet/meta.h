/*
 * meta: the Parquet metadata structs (parquet.thrift) in C, with their
 * Thrift compact decoders and encoders. The footer (FileMetaData), the page
 * header before every page, the page index (ColumnIndex, OffsetIndex) and
 * the Bloom filter header.
 *
 * The structs mirror parquet.thrift field by field, in snake_case
 * (logicalType is logical_type, numBytes num_bytes, isAdjustedToUTC
 * is_adjusted_to_utc). The rules:
 *
 * - An optional scalar, binary or struct field has `bool has_<name>` next
 *   to it; when false the value is 0 / empty and means nothing.
 * - A list is `T *<name>; uint32_t n_<name>;`. A decoded optional list that
 *   was absent is NULL with n 0; one present but empty is non-NULL with n 0.
 * - Thrift `binary` fields are lh_pq_bytes pointing into the decoded input
 *   (borrowed: valid while that input is).
 * - Thrift `string` fields are NUL-terminated copies in the arena, NULL
 *   when an optional one is absent. KeyValue.value also keeps its length,
 *   since values may hold any bytes (a NUL too).
 * - Enums are int32_t holding the wire value, unchecked: a value unknown
 *   here (a newer encoding or codec, or garbage) is kept as is, and whoever
 *   uses the field decides. The LH_PQ_ constants below name the known ones.
 * - Unions are an `int32_t kind` holding the id of the member that was set
 *   (0 when none), plus the members' fields flattened into the same struct.
 *   A member unknown here decodes to kind = its id and nothing else.
 *
 * Memory: everything a decoder allocates (lists, strings) is in the arena
 * given; binary fields point into the input. A list takes at least one
 * input byte per element, but its C elements are bigger (a ColumnChunk is a
 * few hundred bytes), so decoding n input bytes may allocate a few hundred
 * times n: give the arena a budget when the input is not trusted.
 *
 * Errors: decoders return LH_ECORRUPT for bytes that are not a valid
 * encoding of the struct, with a message naming the struct and field, e.g.
 * `parquet footer: ColumnMetaData.path_in_schema: list of 4000000 elements
 * exceeds the 812 bytes left`, err->field holding "ColumnMetaData.path_in_
 * schema" and err->offset the byte offset into the input. A required field
 * that is missing is LH_ECORRUPT naming it. LH_ENOMEM when the arena runs
 * out. On error *out holds a partial decode: do not use it.
 *
 * Leniency, as Thrift's own C++ and Java readers (so files they read, we
 * read): fields and union members unknown here are skipped whatever their
 * type; a known field sent with another wire type is skipped too (an error
 * only when it is required: "required field sent as binary, not i32"); the
 * integer types i16, i32 and i64, which share one encoding, pass for one
 * another when the value fits; a repeated field or union member replaces
 * the earlier one; bytes after the struct's end are not looked at.
 *
 * Encoders append to an lh_buf: required fields always, optional ones only
 * when present (has_ set, string non-NULL, list non-NULL or n > 0), in field
 * id order, so the same struct always gives the same bytes, and a decoded
 * struct encodes to bytes that decode to an equal struct. LH_ENOMEM when
 * the buffer cannot grow; LH_EINVAL when the struct cannot be encoded (a
 * required string is NULL, a list has n > 0 but no elements, a union kind
 * past the i16 range).
 *
 * Thread rules: none; the functions keep no state.
 */
#ifndef LH_FORMAT_PARQUET_META_H
#define LH_FORMAT_PARQUET_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- enums ----------------------------------------------------------------
 */

/* Type: physical types. */
enum {
    LH_PQ_TYPE_BOOLEAN = 0,
    LH_PQ_TYPE_INT32 = 1,
    LH_PQ_TYPE_INT64 = 2,
    LH_PQ_TYPE_INT96 = 3,
    LH_PQ_TYPE_FLOAT = 4,
    LH_PQ_TYPE_DOUBLE = 5,
    LH_PQ_TYPE_BYTE_ARRAY = 6,
    LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY = 7,
};

/* ConvertedType (deprecated by LogicalType, still written for old
 * readers). */
enum {
    LH_PQ_CONV_UTF8 = 0,
    LH_PQ_CONV_MAP = 1,
    LH_PQ_CONV_MAP_KEY_VALUE = 2,
    LH_PQ_CONV_LIST = 3,
    LH_PQ_CONV_ENUM = 4,
    LH_PQ_CONV_DECIMAL = 5,
    LH_PQ_CONV_DATE = 6,
    LH_PQ_CONV_TIME_MILLIS = 7,
    LH_PQ_CONV_TIME_MICROS = 8,
    LH_PQ_CONV_TIMESTAMP_MILLIS = 9,
    LH_PQ_CONV_TIMESTAMP_MICROS = 10,
    LH_PQ_CONV_UINT_8 = 11,
    LH_PQ_CONV_UINT_16 = 12,
    LH_PQ_CONV_UINT_32 = 13,
    LH_PQ_CONV_UINT_64 = 14,
    LH_PQ_CONV_INT_8 = 15,
    LH_PQ_CONV_INT_16 = 16,
    LH_PQ_CONV_INT_32 = 17,
    LH_PQ_CONV_INT_64 = 18,
    LH_PQ_CONV_JSON = 19,
    LH_PQ_CONV_BSON = 20,
    LH_PQ_CONV_INTERVAL = 21,
};

/* FieldRepetitionType. */
enum {
    LH_PQ_REP_REQUIRED = 0,
    LH_PQ_REP_OPTIONAL = 1,
    LH_PQ_REP_REPEATED = 2,
};

/* Encoding (1, GROUP_VAR_INT, was never used). */
enum {
    LH_PQ_ENC_PLAIN = 0,
    LH_PQ_ENC_PLAIN_DICTIONARY = 2,
    LH_PQ_ENC_RLE = 3,
    LH_PQ_ENC_BIT_PACKED = 4,
    LH_PQ_ENC_DELTA_BINARY_PACKED = 5,
    LH_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    LH_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    LH_PQ_ENC_RLE_DICTIONARY = 8,
    LH_PQ_ENC_BYTE_STREAM_SPLIT = 9,
    LH_PQ_ENC_ALP = 10,
};

/* CompressionCodec. */
enum {
    LH_PQ_CODEC_UNCOMPRESSED = 0,
    LH_PQ_CODEC_SNAPPY = 1,
    LH_PQ_CODEC_GZIP = 2,
    LH_PQ_CODEC_LZO = 3,
    LH_PQ_CODEC_BROTLI = 4,
    LH_PQ_CODEC_LZ4 = 5, /* Hadoop-framed, deprecated */
    LH_PQ_CODEC_ZSTD = 6,
    LH_PQ_CODEC_LZ4_RAW = 7,
};

/* PageType. */
enum {
    LH_PQ_PAGE_DATA_PAGE = 0,
    LH_PQ_PAGE_INDEX_PAGE = 1,
    LH_PQ_PAGE_DICTIONARY_PAGE = 2,
    LH_PQ_PAGE_DATA_PAGE_V2 = 3,
};

/* BoundaryOrder (ColumnIndex). */
enum {
    LH_PQ_BOUNDARY_UNORDERED = 0,
    LH_PQ_BOUNDARY_ASCENDING = 1,
    LH_PQ_BOUNDARY_DESCENDING = 2,
};

/* LogicalType union: lh_pq_logical_type.kind is the member's field id. */
enum {
    LH_PQ_LT_STRING = 1,
    LH_PQ_LT_MAP = 2,
    LH_PQ_LT_LIST = 3,
    LH_PQ_LT_ENUM = 4,
    LH_PQ_LT_DECIMAL = 5,
    LH_PQ_LT_DATE = 6,
    LH_PQ_LT_TIME = 7,
    LH_PQ_LT_TIMESTAMP = 8,
    /* 9 is reserved for INTERVAL */
    LH_PQ_LT_INTEGER = 10,
    LH_PQ_LT_UNKNOWN = 11, /* NullType: always null */
    LH_PQ_LT_JSON = 12,
    LH_PQ_LT_BSON = 13,
    LH_PQ_LT_UUID = 14,
    LH_PQ_LT_FLOAT16 = 15,
    LH_PQ_LT_VARIANT = 16,
    LH_PQ_LT_GEOMETRY = 17,
    LH_PQ_LT_GEOGRAPHY = 18,
    LH_PQ_LT_FILE = 19,
};

/* TimeUnit union (TIME, TIMESTAMP): the member's field id. */
enum {
    LH_PQ_UNIT_MILLIS = 1,
    LH_PQ_UNIT_MICROS = 2,
    LH_PQ_UNIT_NANOS = 3,
};

/* EdgeInterpolationAlgorithm (GEOGRAPHY). */
enum {
    LH_PQ_EDGE_SPHERICAL = 0,
    LH_PQ_EDGE_VINCENTY = 1,
    LH_PQ_EDGE_THOMAS = 2,
    LH_PQ_EDGE_ANDOYER = 3,
    LH_PQ_EDGE_KARNEY = 4,
};

/* ColumnOrder union: lh_pq_column_order.kind. */
enum {
    LH_PQ_ORDER_TYPE_DEFINED = 1,
    LH_PQ_ORDER_IEEE_754_TOTAL = 2,
    LH_PQ_ORDER_INT96_TIMESTAMP = 3,
};

/* The Bloom filter unions (BloomFilterAlgorithm, BloomFilterHash,
 * BloomFilterCompression) each have one member so far. */
enum {
    LH_PQ_BLOOM_ALGORITHM_BLOCK = 1,
    LH_PQ_BLOOM_HASH_XXHASH = 1,
    LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED = 1,
};

/* EncryptionAlgorithm and ColumnCryptoMetaData unions. */
enum {
    LH_PQ_CRYPT_AES_GCM_V1 = 1,
    LH_PQ_CRYPT_AES_GCM_CTR_V1 = 2,
};
enum {
    LH_PQ_CRYPT_WITH_FOOTER_KEY = 1,
    LH_PQ_CRYPT_WITH_COLUMN_KEY = 2,
};

/* ---- structs ------------------------------------------------------------- */

/* A Thrift binary value: borrowed from the decoded input. */
typedef struct lh_pq_bytes {
    const uint8_t *p;
    uint32_t len;
} lh_pq_bytes;

typedef struct lh_pq_size_statistics {
    int64_t unencoded_byte_array_data_bytes;
    bool has_unencoded_byte_array_data_bytes;
    int64_t *repetition_level_histogram;
    uint32_t n_repetition_level_histogram;
    int64_t *definition_level_histogram;
    uint32_t n_definition_level_histogram;
} lh_pq_size_statistics;

typedef struct lh_pq_bounding_box {
    double xmin;
    double xmax;
    double ymin;
    double ymax;
    double zmin;
    bool has_zmin;
    double zmax;
    bool has_zmax;
    double mmin;
    bool has_mmin;
    double mmax;
    bool has_mmax;
} lh_pq_bounding_box;

typedef struct lh_pq_geospatial_statistics {
    lh_pq_bounding_box bbox;
    bool has_bbox;
    int32_t *geospatial_types;
    uint32_t n_geospatial_types;
} lh_pq_geospatial_statistics;

typedef struct lh_pq_statistics {
    lh_pq_bytes max; /* deprecated: signed order */
    bool has_max;
    lh_pq_bytes min;
    bool has_min;
    int64_t null_count;
    bool has_null_count;
    int64_t distinct_count;
    bool has_distinct_count;
    lh_pq_bytes max_value; /* in the column's ColumnOrder */
    bool has_max_value;
    lh_pq_bytes min_value;
    bool has_min_value;
    bool is_max_value_exact;
    bool has_is_max_value_exact;
    bool is_min_value_exact;
    bool has_is_min_value_exact;
    int64_t nan_count;
    bool has_nan_count;
} lh_pq_statistics;

/* LogicalType: kind is LH_PQ_LT_*; the fields below belong to the kinds
 * named and are 0 / NULL for the others. */
typedef struct lh_pq_logical_type {
    int32_t kind;
    int32_t scale;                /* DECIMAL */
    int32_t precision;            /* DECIMAL */
    bool is_adjusted_to_utc;      /* TIME, TIMESTAMP */
    int32_t unit;                 /* TIME, TIMESTAMP: LH_PQ_UNIT_* */
    int8_t bit_width;             /* INTEGER: 8, 16, 32 or 64 */
    bool is_signed;               /* INTEGER */
    int8_t specification_version; /* VARIANT */
    bool has_specification_version;
    char *crs;         /* GEOMETRY, GEOGRAPHY; NULL when absent */
    int32_t algorithm; /* GEOGRAPHY: LH_PQ_EDGE_* */
    bool has_algorithm;
} lh_pq_logical_type;

typedef struct lh_pq_schema_element {
    int32_t type; /* LH_PQ_TYPE_*; absent for groups */
    bool has_type;
    int32_t type_length;
    bool has_type_length;
    int32_t repetition_type; /* LH_PQ_REP_*; absent for the root */
    bool has_repetition_type;
    char *name; /* required */
    int32_t num_children;
    bool has_num_children;
    int32_t converted_type; /* LH_PQ_CONV_* */
    bool has_converted_type;
    int32_t scale;
    bool has_scale;
    int32_t precision;
    bool has_precision;
    int32_t field_id;
    bool has_field_id;
    lh_pq_logical_type logical_type;
    bool has_logical_type;
} lh_pq_schema_element;

/* KeyValue: the encoder takes value_len bytes of value, or strlen(value)
 * when value_len is 0 (so a hand-built value need not set value_len). */
typedef struct lh_pq_key_value {
    char *key; /* required */
    char *value;
    uint32_t value_len;
} lh_pq_key_value;

typedef struct lh_pq_sorting_column {
    int32_t column_idx;
    bool descending;
    bool nulls_first;
} lh_pq_sorting_column;

typedef struct lh_pq_page_encoding_stats {
    int32_t page_type; /* LH_PQ_PAGE_* */
    int32_t encoding;  /* LH_PQ_ENC_* */
    int32_t count;
} lh_pq_page_encoding_stats;

typedef struct lh_pq_column_metadata {
    int32_t type;       /* LH_PQ_TYPE_* */
    int32_t *encodings; /* LH_PQ_ENC_* */
    uint32_t n_encodings;
    char **path_in_schema;
    uint32_t n_path_in_schema;
    int32_t codec; /* LH_PQ_CODEC_* */
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    lh_pq_key_value *key_value_metadata;
    uint32_t n_key_value_metadata;
    int64_t data_page_offset;
    int64_t index_page_offset;
    bool has_index_page_offset;
    int64_t dictionary_page_offset;
    bool has_dictionary_page_offset;
    lh_pq_statistics statistics;
    bool has_statistics;
    lh_pq_page_encoding_stats *encoding_stats;
    uint32_t n_encoding_stats;
    int64_t bloom_filter_offset;
    bool has_bloom_filter_offset;
    int32_t bloom_filter_length;
    bool has_bloom_filter_length;
    lh_pq_size_statistics size_statistics;
    bool has_size_statistics;
    lh_pq_geospatial_statistics geospatial_statistics;
    bool has_geospatial_statistics;
} lh_pq_column_metadata;

/* ColumnCryptoMetaData union: kind LH_PQ_CRYPT_WITH_*; path_in_schema and
 * key_metadata belong to WITH_COLUMN_KEY. */
typedef struct lh_pq_column_crypto_metadata {
    int32_t kind;
    char **path_in_schema;
    uint32_t n_path_in_schema;
    lh_pq_bytes key_metadata;
    bool has_key_metadata;
} lh_pq_column_crypto_metadata;

typedef struct lh_pq_column_chunk {
    char *file_path;
    int64_t file_offset; /* required, deprecated: writers put 0 */
    lh_pq_column_metadata meta_data;
    bool has_meta_data;
    int64_t offset_index_offset;
    bool has_offset_index_offset;
    int32_t offset_index_length;
    bool has_offset_index_length;
    int64_t column_index_offset;
    bool has_column_index_offset;
    int32_t column_index_length;
    bool has_column_index_length;
    lh_pq_column_crypto_metadata crypto_metadata;
    bool has_crypto_metadata;
    lh_pq_bytes encrypted_column_metadata;
    bool has_encrypted_column_metadata;
} lh_pq_column_chunk;

typedef struct lh_pq_row_group {
    lh_pq_column_chunk *columns;
    uint32_t n_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    lh_pq_sorting_column *sorting_columns;
    uint32_t n_sorting_columns;
    int64_t file_offset;
    bool has_file_offset;
    int64_t total_compressed_size;
    bool has_total_compressed_size;
    int16_t ordinal;
    bool has_ordinal;
} lh_pq_row_group;

/* ColumnOrder union: kind LH_PQ_ORDER_*. */
typedef struct lh_pq_column_order {
    int32_t kind;
} lh_pq_column_order;

/* EncryptionAlgorithm union: kind LH_PQ_CRYPT_AES_GCM_*; both members
 * (AesGcmV1, AesGcmCtrV1) have the same fields. */
typedef struct lh_pq_encryption_algorithm {
    int32_t kind;
    lh_pq_bytes aad_prefix;
    bool has_aad_prefix;
    lh_pq_bytes aad_file_unique;
    bool has_aad_file_unique;
    bool supply_aad_prefix;
    bool has_supply_aad_prefix;
} lh_pq_encryption_algorithm;

typedef struct lh_pq_file_metadata {
    int32_t version;
    lh_pq_schema_element *schema; /* depth-first; [0] is the root */
    uint32_t n_schema;
    int64_t num_rows;
    lh_pq_row_group *row_groups;
    uint32_t n_row_groups;
    lh_pq_key_value *key_value_metadata;
    uint32_t n_key_value_metadata;
    char *created_by;
    lh_pq_column_order *column_orders; /* one per leaf column */
    uint32_t n_column_orders;
    lh_pq_encryption_algorithm encryption_algorithm;
    bool has_encryption_algorithm;
    lh_pq_bytes footer_signing_key_metadata;
    bool has_footer_signing_key_metadata;
} lh_pq_file_metadata;

typedef struct lh_pq_data_page_header {
    int32_t num_values; /* including nulls */
    int32_t encoding;
    int32_t definition_level_encoding;
    int32_t repetition_level_encoding;
    lh_pq_statistics statistics;
    bool has_statistics;
} lh_pq_data_page_header;

/* IndexPageHeader has no fields yet (a "TODO" in parquet.thrift); C wants
 * a member. */
typedef struct lh_pq_index_page_header {
    uint8_t unused_;
} lh_pq_index_page_header;

typedef struct lh_pq_dictionary_page_header {
    int32_t num_values;
    int32_t encoding;
    bool is_sorted;
    bool has_is_sorted;
} lh_pq_dictionary_page_header;

/* is_compressed defaults to true: a decoded header without it has
 * is_compressed true and has_is_compressed false. */
typedef struct lh_pq_data_page_header_v2 {
    int32_t num_values;
    int32_t num_nulls;
    int32_t num_rows;
    int32_t encoding;
    int32_t definition_levels_byte_length;
    int32_t repetition_levels_byte_length;
    bool is_compressed;
    bool has_is_compressed;
    lh_pq_statistics statistics;
    bool has_statistics;
} lh_pq_data_page_header_v2;

typedef struct lh_pq_page_header {
    int32_t type; /* LH_PQ_PAGE_* */
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    int32_t crc;
    bool has_crc;
    lh_pq_data_page_header data_page_header;
    bool has_data_page_header;
    lh_pq_index_page_header index_page_header;
    bool has_index_page_header;
    lh_pq_dictionary_page_header dictionary_page_header;
    bool has_dictionary_page_header;
    lh_pq_data_page_header_v2 data_page_header_v2;
    bool has_data_page_header_v2;
} lh_pq_page_header;

typedef struct lh_pq_page_location {
    int64_t offset;
    int32_t compressed_page_size; /* including the page header */
    int64_t first_row_index;
} lh_pq_page_location;

typedef struct lh_pq_offset_index {
    lh_pq_page_location *page_locations;
    uint32_t n_page_locations;
    int64_t *unencoded_byte_array_data_bytes;
    uint32_t n_unencoded_byte_array_data_bytes;
} lh_pq_offset_index;

typedef struct lh_pq_column_index {
    bool *null_pages;
    uint32_t n_null_pages;
    lh_pq_bytes *min_values;
    uint32_t n_min_values;
    lh_pq_bytes *max_values;
    uint32_t n_max_values;
    int32_t boundary_order; /* LH_PQ_BOUNDARY_* */
    int64_t *null_counts;
    uint32_t n_null_counts;
    int64_t *repetition_level_histograms;
    uint32_t n_repetition_level_histograms;
    int64_t *definition_level_histograms;
    uint32_t n_definition_level_histograms;
    int64_t *nan_counts;
    uint32_t n_nan_counts;
} lh_pq_column_index;

/* BloomFilterHeader: its three union fields as kinds (LH_PQ_BLOOM_*). */
typedef struct lh_pq_bloom_filter_header {
    int32_t num_bytes; /* of the bitset that follows the header */
    int32_t algorithm;
    int32_t hash;
    int32_t compression;
} lh_pq_bloom_filter_header;

/* ---- decoding ------------------------------------------------------------ */

/* Decodes the footer's FileMetaData from the len bytes at p (the bytes
 * before the 4-byte length and "PAR1"; bytes after the struct's end are
 * ignored). Besides the encoding, checks that no row group has more columns
 * than the schema has elements. Errors are prefixed "parquet footer". */
lh_rc lh_pq_decode_file_metadata(const uint8_t *p, size_t len, lh_arena *a,
                                 lh_pq_file_metadata *out, lh_err *err);

/* Decodes the PageHeader at the start of p[0..len) and sets *consumed to
 * its size (the page's bytes follow). Errors are prefixed "parquet page
 * header". */
lh_rc lh_pq_decode_page_header(const uint8_t *p, size_t len, lh_arena *a,
                               lh_pq_page_header *out, size_t *consumed,
                               lh_err *err);

/* The page index structs, read from ColumnChunk.column_index_offset and
 * offset_index_offset, and the Bloom filter header at bloom_filter_offset
 * (its bitset, num_bytes long, follows at p + *consumed). consumed may be
 * NULL. Errors are prefixed "parquet column index", "parquet offset index",
 * "parquet bloom filter header". */
lh_rc lh_pq_decode_column_index(const uint8_t *p, size_t len, lh_arena *a,
                                lh_pq_column_index *out, size_t *consumed,
                                lh_err *err);
lh_rc lh_pq_decode_offset_index(const uint8_t *p, size_t len, lh_arena *a,
                                lh_pq_offset_index *out, size_t *consumed,
                                lh_err *err);
lh_rc lh_pq_decode_bloom_filter_header(const uint8_t *p, size_t len,
                                       lh_arena *a,
                                       lh_pq_bloom_filter_header *out,
                                       size_t *consumed, lh_err *err);

/* ---- encoding ------------------------------------------------------------ */

/* Each appends the compact encoding to out (see the top of this file). */
lh_rc lh_pq_encode_file_metadata(const lh_pq_file_metadata *m, lh_buf *out,
                                 lh_err *err);
lh_rc lh_pq_encode_page_header(const lh_pq_page_header *h, lh_buf *out,
                               lh_err *err);
lh_rc lh_pq_encode_column_index(const lh_pq_column_index *ci, lh_buf *out,
                                lh_err *err);
lh_rc lh_pq_encode_offset_index(const lh_pq_offset_index *oi, lh_buf *out,
                                lh_err *err);
lh_rc lh_pq_encode_bloom_filter_header(const lh_pq_bloom_filter_header *h,
                                       lh_buf *out, lh_err *err);

/* ---- comparing ----------------------------------------------------------- */

/* Deep equality as the encoding sees it: fields that are absent are not
 * compared, binary values and strings by content, doubles by bits (so a
 * NaN equals itself). What the round-trip tests use. */
bool lh_pq_file_metadata_equal(const lh_pq_file_metadata *a,
                               const lh_pq_file_metadata *b);
bool lh_pq_page_header_equal(const lh_pq_page_header *a,
                             const lh_pq_page_header *b);
bool lh_pq_column_index_equal(const lh_pq_column_index *a,
                              const lh_pq_column_index *b);
bool lh_pq_offset_index_equal(const lh_pq_offset_index *a,
                              const lh_pq_offset_index *b);
bool lh_pq_bloom_filter_header_equal(const lh_pq_bloom_filter_header *a,
                                     const lh_pq_bloom_filter_header *b);

#endif
