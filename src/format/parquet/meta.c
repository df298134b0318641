/*
 * The Parquet metadata structs: decoding, encoding and comparing, all three
 * driven by one table per struct.
 *
 * Each Thrift struct of parquet.thrift has a `sdesc`: its name and a list
 * of `fdesc`, one per field in field-id order, saying the field's id, Thrift
 * type, whether it is required, and where it lives in the C struct (offset
 * of the value, of its has_ flag, of a list's count). One walker per
 * operation reads these tables, so decoder, encoder and comparison cannot
 * disagree about a field, and a field added to parquet.thrift is one line
 * here. The price is offsets instead of names in the walkers; the sizes
 * recorded with each offset are asserted in debug builds, so a table entry
 * that points at a member of the wrong type fails the first test that
 * touches it.
 *
 * Unions are tables too: a union's "fields" are its members, each with the
 * table of the member struct, whose offsets are relative to the same C
 * struct (the members' fields are flattened into it, next to `kind`). So
 * TimestampType.isAdjustedToUTC is at offsetof(lh_pq_logical_type,
 * is_adjusted_to_utc). Unions whose members are all empty structs
 * (TimeUnit, ColumnOrder, the Bloom filter ones) are just a kind. When a
 * union holds several members (invalid Thrift), the last one wins, as a
 * repeated field does in a struct.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "format/parquet/meta.h"
#include "format/parquet/thrift.h"

/* ---- tables -------------------------------------------------------------- */

enum ftype {
    F_BOOL,
    F_I8,
    F_I16,
    F_I32,
    F_I64,
    F_DOUBLE,
    F_BINARY, /* lh_pq_bytes, borrowed */
    F_STRING, /* char *, in the arena */
    F_STRUCT,
    F_UNION,
    F_LIST,
};

#define F_REQ 1u      /* required */
#define F_DEF_TRUE 2u /* optional bool whose default is true */

typedef struct sdesc sdesc;

typedef struct fdesc {
    int16_t id;
    uint8_t type;  /* enum ftype */
    uint8_t elem;  /* F_LIST: the element's ftype */
    uint8_t flags; /* F_REQ, F_DEF_TRUE */
    const char *name;
    uint32_t off;     /* the value, or a list's pointer */
    int32_t has_off;  /* the bool has_<name>, or -1 */
    int32_t n_off;    /* F_LIST: the uint32_t count */
    int32_t len_off;  /* F_STRING: a uint32_t length kept, or -1 */
    uint32_t csize;   /* sizeof the member at off (0: not checked) */
    const sdesc *sub; /* F_STRUCT, F_UNION, list of those */
} fdesc;

struct sdesc {
    const char *name;
    uint32_t size; /* of the C struct; 0 for union members (flattened) */
    bool is_union;
    uint32_t kind_off; /* unions: the int32_t kind */
    const fdesc *fields;
    size_t n_fields;
};

#define MSIZE(S, m) ((uint32_t)sizeof(((S *)0)->m))

#define FIELD(S, id, t, m, name, flags, has, sub)                              \
    {                                                                          \
        id, t, 0, flags, name, offsetof(S, m), has, -1, -1, MSIZE(S, m), sub   \
    }
/* Required and optional scalars, binaries, structs and unions. */
#define REQ(S, id, t, m, name) FIELD(S, id, t, m, name, F_REQ, -1, NULL)
#define OPT(S, id, t, m, name)                                                 \
    FIELD(S, id, t, m, name, 0, (int32_t)offsetof(S, has_##m), NULL)
#define REQ_SUB(S, id, t, m, name, sub) FIELD(S, id, t, m, name, F_REQ, -1, sub)
#define OPT_SUB(S, id, t, m, name, sub)                                        \
    FIELD(S, id, t, m, name, 0, (int32_t)offsetof(S, has_##m), sub)
/* Strings: an optional one is absent when NULL. */
#define REQ_STR(S, id, m, name) FIELD(S, id, F_STRING, m, name, F_REQ, -1, NULL)
#define OPT_STR(S, id, m, name) FIELD(S, id, F_STRING, m, name, 0, -1, NULL)
/* Lists: an optional one is absent when NULL with n 0. */
#define LIST(S, id, e, m, name, flags, sub)                                    \
    {                                                                          \
        id, F_LIST, e, flags, name, offsetof(S, m), -1,                        \
            (int32_t)offsetof(S, n_##m), -1, MSIZE(S, m), sub                  \
    }
/* A union member whose fields are flattened into the union's struct. */
#define MEMBER(id, name, sub)                                                  \
    {                                                                          \
        id, F_STRUCT, 0, 0, name, 0, -1, -1, -1, 0, sub                        \
    }

#define STRUCT(var, cname, S, table)                                           \
    static const sdesc var = {cname, sizeof(S), false,                         \
                              0,     table,     LH_ARRAY_LEN(table)}
#define MEMBER_STRUCT(var, cname, table)                                       \
    static const sdesc var = {cname, 0, false, 0, table, LH_ARRAY_LEN(table)}
#define UNION(var, cname, S, kind_m, table)                                    \
    static const sdesc var = {cname, sizeof(S),                                \
                              true,  offsetof(S, kind_m),                      \
                              table, LH_ARRAY_LEN(table)}

/* Members that are empty structs. */
static const sdesc empty_desc = {"empty struct", 0, false, 0, NULL, 0};

/* Statistics, SizeStatistics, geospatial statistics. */

#define S lh_pq_statistics
static const fdesc statistics_fields[] = {
    OPT(S, 1, F_BINARY, max, "max"),
    OPT(S, 2, F_BINARY, min, "min"),
    OPT(S, 3, F_I64, null_count, "null_count"),
    OPT(S, 4, F_I64, distinct_count, "distinct_count"),
    OPT(S, 5, F_BINARY, max_value, "max_value"),
    OPT(S, 6, F_BINARY, min_value, "min_value"),
    OPT(S, 7, F_BOOL, is_max_value_exact, "is_max_value_exact"),
    OPT(S, 8, F_BOOL, is_min_value_exact, "is_min_value_exact"),
    OPT(S, 9, F_I64, nan_count, "nan_count"),
};
STRUCT(statistics_desc, "Statistics", S, statistics_fields);
#undef S

#define S lh_pq_size_statistics
static const fdesc size_statistics_fields[] = {
    OPT(S, 1, F_I64, unencoded_byte_array_data_bytes,
        "unencoded_byte_array_data_bytes"),
    LIST(S, 2, F_I64, repetition_level_histogram, "repetition_level_histogram",
         0, NULL),
    LIST(S, 3, F_I64, definition_level_histogram, "definition_level_histogram",
         0, NULL),
};
STRUCT(size_statistics_desc, "SizeStatistics", S, size_statistics_fields);
#undef S

#define S lh_pq_bounding_box
static const fdesc bounding_box_fields[] = {
    REQ(S, 1, F_DOUBLE, xmin, "xmin"), REQ(S, 2, F_DOUBLE, xmax, "xmax"),
    REQ(S, 3, F_DOUBLE, ymin, "ymin"), REQ(S, 4, F_DOUBLE, ymax, "ymax"),
    OPT(S, 5, F_DOUBLE, zmin, "zmin"), OPT(S, 6, F_DOUBLE, zmax, "zmax"),
    OPT(S, 7, F_DOUBLE, mmin, "mmin"), OPT(S, 8, F_DOUBLE, mmax, "mmax"),
};
STRUCT(bounding_box_desc, "BoundingBox", S, bounding_box_fields);
#undef S

#define S lh_pq_geospatial_statistics
static const fdesc geospatial_statistics_fields[] = {
    OPT_SUB(S, 1, F_STRUCT, bbox, "bbox", &bounding_box_desc),
    LIST(S, 2, F_I32, geospatial_types, "geospatial_types", 0, NULL),
};
STRUCT(geospatial_statistics_desc, "GeospatialStatistics", S,
       geospatial_statistics_fields);
#undef S

/* LogicalType and its members. */

/* TimeUnit: a kind (LH_PQ_UNIT_*) stored in lh_pq_logical_type.unit. */
static const fdesc time_unit_fields[] = {
    MEMBER(1, "MILLIS", &empty_desc),
    MEMBER(2, "MICROS", &empty_desc),
    MEMBER(3, "NANOS", &empty_desc),
};
static const sdesc time_unit_desc = {
    "TimeUnit", sizeof(int32_t),  true,
    0,          time_unit_fields, LH_ARRAY_LEN(time_unit_fields)};

#define S lh_pq_logical_type
static const fdesc decimal_type_fields[] = {
    REQ(S, 1, F_I32, scale, "scale"),
    REQ(S, 2, F_I32, precision, "precision"),
};
MEMBER_STRUCT(decimal_type_desc, "DecimalType", decimal_type_fields);

static const fdesc time_type_fields[] = {
    REQ(S, 1, F_BOOL, is_adjusted_to_utc, "isAdjustedToUTC"),
    REQ_SUB(S, 2, F_UNION, unit, "unit", &time_unit_desc),
};
MEMBER_STRUCT(time_type_desc, "TimeType", time_type_fields);
MEMBER_STRUCT(timestamp_type_desc, "TimestampType", time_type_fields);

static const fdesc int_type_fields[] = {
    REQ(S, 1, F_I8, bit_width, "bitWidth"),
    REQ(S, 2, F_BOOL, is_signed, "isSigned"),
};
MEMBER_STRUCT(int_type_desc, "IntType", int_type_fields);

static const fdesc variant_type_fields[] = {
    OPT(S, 1, F_I8, specification_version, "specification_version"),
};
MEMBER_STRUCT(variant_type_desc, "VariantType", variant_type_fields);

static const fdesc geometry_type_fields[] = {
    OPT_STR(S, 1, crs, "crs"),
};
MEMBER_STRUCT(geometry_type_desc, "GeometryType", geometry_type_fields);

static const fdesc geography_type_fields[] = {
    OPT_STR(S, 1, crs, "crs"),
    OPT(S, 2, F_I32, algorithm, "algorithm"),
};
MEMBER_STRUCT(geography_type_desc, "GeographyType", geography_type_fields);

static const fdesc logical_type_fields[] = {
    MEMBER(LH_PQ_LT_STRING, "STRING", &empty_desc),
    MEMBER(LH_PQ_LT_MAP, "MAP", &empty_desc),
    MEMBER(LH_PQ_LT_LIST, "LIST", &empty_desc),
    MEMBER(LH_PQ_LT_ENUM, "ENUM", &empty_desc),
    MEMBER(LH_PQ_LT_DECIMAL, "DECIMAL", &decimal_type_desc),
    MEMBER(LH_PQ_LT_DATE, "DATE", &empty_desc),
    MEMBER(LH_PQ_LT_TIME, "TIME", &time_type_desc),
    MEMBER(LH_PQ_LT_TIMESTAMP, "TIMESTAMP", &timestamp_type_desc),
    MEMBER(LH_PQ_LT_INTEGER, "INTEGER", &int_type_desc),
    MEMBER(LH_PQ_LT_UNKNOWN, "UNKNOWN", &empty_desc),
    MEMBER(LH_PQ_LT_JSON, "JSON", &empty_desc),
    MEMBER(LH_PQ_LT_BSON, "BSON", &empty_desc),
    MEMBER(LH_PQ_LT_UUID, "UUID", &empty_desc),
    MEMBER(LH_PQ_LT_FLOAT16, "FLOAT16", &empty_desc),
    MEMBER(LH_PQ_LT_VARIANT, "VARIANT", &variant_type_desc),
    MEMBER(LH_PQ_LT_GEOMETRY, "GEOMETRY", &geometry_type_desc),
    MEMBER(LH_PQ_LT_GEOGRAPHY, "GEOGRAPHY", &geography_type_desc),
    MEMBER(LH_PQ_LT_FILE, "FILE", &empty_desc),
};
UNION(logical_type_desc, "LogicalType", S, kind, logical_type_fields);
#undef S

/* The footer. */

#define S lh_pq_schema_element
static const fdesc schema_element_fields[] = {
    OPT(S, 1, F_I32, type, "type"),
    OPT(S, 2, F_I32, type_length, "type_length"),
    OPT(S, 3, F_I32, repetition_type, "repetition_type"),
    REQ_STR(S, 4, name, "name"),
    OPT(S, 5, F_I32, num_children, "num_children"),
    OPT(S, 6, F_I32, converted_type, "converted_type"),
    OPT(S, 7, F_I32, scale, "scale"),
    OPT(S, 8, F_I32, precision, "precision"),
    OPT(S, 9, F_I32, field_id, "field_id"),
    OPT_SUB(S, 10, F_UNION, logical_type, "logicalType", &logical_type_desc),
};
STRUCT(schema_element_desc, "SchemaElement", S, schema_element_fields);
#undef S

#define S lh_pq_key_value
static const fdesc key_value_fields[] = {
    REQ_STR(S, 1, key, "key"),
    {2, F_STRING, 0, 0, "value", offsetof(S, value), -1, -1,
     (int32_t)offsetof(S, value_len), MSIZE(S, value), NULL},
};
STRUCT(key_value_desc, "KeyValue", S, key_value_fields);
#undef S

#define S lh_pq_sorting_column
static const fdesc sorting_column_fields[] = {
    REQ(S, 1, F_I32, column_idx, "column_idx"),
    REQ(S, 2, F_BOOL, descending, "descending"),
    REQ(S, 3, F_BOOL, nulls_first, "nulls_first"),
};
STRUCT(sorting_column_desc, "SortingColumn", S, sorting_column_fields);
#undef S

#define S lh_pq_page_encoding_stats
static const fdesc page_encoding_stats_fields[] = {
    REQ(S, 1, F_I32, page_type, "page_type"),
    REQ(S, 2, F_I32, encoding, "encoding"),
    REQ(S, 3, F_I32, count, "count"),
};
STRUCT(page_encoding_stats_desc, "PageEncodingStats", S,
       page_encoding_stats_fields);
#undef S

#define S lh_pq_column_metadata
static const fdesc column_metadata_fields[] = {
    REQ(S, 1, F_I32, type, "type"),
    LIST(S, 2, F_I32, encodings, "encodings", F_REQ, NULL),
    LIST(S, 3, F_STRING, path_in_schema, "path_in_schema", F_REQ, NULL),
    REQ(S, 4, F_I32, codec, "codec"),
    REQ(S, 5, F_I64, num_values, "num_values"),
    REQ(S, 6, F_I64, total_uncompressed_size, "total_uncompressed_size"),
    REQ(S, 7, F_I64, total_compressed_size, "total_compressed_size"),
    LIST(S, 8, F_STRUCT, key_value_metadata, "key_value_metadata", 0,
         &key_value_desc),
    REQ(S, 9, F_I64, data_page_offset, "data_page_offset"),
    OPT(S, 10, F_I64, index_page_offset, "index_page_offset"),
    OPT(S, 11, F_I64, dictionary_page_offset, "dictionary_page_offset"),
    OPT_SUB(S, 12, F_STRUCT, statistics, "statistics", &statistics_desc),
    LIST(S, 13, F_STRUCT, encoding_stats, "encoding_stats", 0,
         &page_encoding_stats_desc),
    OPT(S, 14, F_I64, bloom_filter_offset, "bloom_filter_offset"),
    OPT(S, 15, F_I32, bloom_filter_length, "bloom_filter_length"),
    OPT_SUB(S, 16, F_STRUCT, size_statistics, "size_statistics",
            &size_statistics_desc),
    OPT_SUB(S, 17, F_STRUCT, geospatial_statistics, "geospatial_statistics",
            &geospatial_statistics_desc),
};
STRUCT(column_metadata_desc, "ColumnMetaData", S, column_metadata_fields);
#undef S

#define S lh_pq_column_crypto_metadata
static const fdesc encryption_with_column_key_fields[] = {
    LIST(S, 1, F_STRING, path_in_schema, "path_in_schema", F_REQ, NULL),
    OPT(S, 2, F_BINARY, key_metadata, "key_metadata"),
};
MEMBER_STRUCT(encryption_with_column_key_desc, "EncryptionWithColumnKey",
              encryption_with_column_key_fields);
static const fdesc column_crypto_metadata_fields[] = {
    MEMBER(LH_PQ_CRYPT_WITH_FOOTER_KEY, "ENCRYPTION_WITH_FOOTER_KEY",
           &empty_desc),
    MEMBER(LH_PQ_CRYPT_WITH_COLUMN_KEY, "ENCRYPTION_WITH_COLUMN_KEY",
           &encryption_with_column_key_desc),
};
UNION(column_crypto_metadata_desc, "ColumnCryptoMetaData", S, kind,
      column_crypto_metadata_fields);
#undef S

#define S lh_pq_column_chunk
static const fdesc column_chunk_fields[] = {
    OPT_STR(S, 1, file_path, "file_path"),
    REQ(S, 2, F_I64, file_offset, "file_offset"),
    OPT_SUB(S, 3, F_STRUCT, meta_data, "meta_data", &column_metadata_desc),
    OPT(S, 4, F_I64, offset_index_offset, "offset_index_offset"),
    OPT(S, 5, F_I32, offset_index_length, "offset_index_length"),
    OPT(S, 6, F_I64, column_index_offset, "column_index_offset"),
    OPT(S, 7, F_I32, column_index_length, "column_index_length"),
    OPT_SUB(S, 8, F_UNION, crypto_metadata, "crypto_metadata",
            &column_crypto_metadata_desc),
    OPT(S, 9, F_BINARY, encrypted_column_metadata, "encrypted_column_metadata"),
};
STRUCT(column_chunk_desc, "ColumnChunk", S, column_chunk_fields);
#undef S

#define S lh_pq_row_group
static const fdesc row_group_fields[] = {
    LIST(S, 1, F_STRUCT, columns, "columns", F_REQ, &column_chunk_desc),
    REQ(S, 2, F_I64, total_byte_size, "total_byte_size"),
    REQ(S, 3, F_I64, num_rows, "num_rows"),
    LIST(S, 4, F_STRUCT, sorting_columns, "sorting_columns", 0,
         &sorting_column_desc),
    OPT(S, 5, F_I64, file_offset, "file_offset"),
    OPT(S, 6, F_I64, total_compressed_size, "total_compressed_size"),
    OPT(S, 7, F_I16, ordinal, "ordinal"),
};
STRUCT(row_group_desc, "RowGroup", S, row_group_fields);
#undef S

static const fdesc column_order_fields[] = {
    MEMBER(LH_PQ_ORDER_TYPE_DEFINED, "TYPE_ORDER", &empty_desc),
    MEMBER(LH_PQ_ORDER_IEEE_754_TOTAL, "IEEE_754_TOTAL_ORDER", &empty_desc),
    MEMBER(LH_PQ_ORDER_INT96_TIMESTAMP, "INT96_TIMESTAMP_ORDER", &empty_desc),
};
UNION(column_order_desc, "ColumnOrder", lh_pq_column_order, kind,
      column_order_fields);

#define S lh_pq_encryption_algorithm
static const fdesc aes_gcm_fields[] = {
    OPT(S, 1, F_BINARY, aad_prefix, "aad_prefix"),
    OPT(S, 2, F_BINARY, aad_file_unique, "aad_file_unique"),
    OPT(S, 3, F_BOOL, supply_aad_prefix, "supply_aad_prefix"),
};
MEMBER_STRUCT(aes_gcm_v1_desc, "AesGcmV1", aes_gcm_fields);
MEMBER_STRUCT(aes_gcm_ctr_v1_desc, "AesGcmCtrV1", aes_gcm_fields);
static const fdesc encryption_algorithm_fields[] = {
    MEMBER(LH_PQ_CRYPT_AES_GCM_V1, "AES_GCM_V1", &aes_gcm_v1_desc),
    MEMBER(LH_PQ_CRYPT_AES_GCM_CTR_V1, "AES_GCM_CTR_V1", &aes_gcm_ctr_v1_desc),
};
UNION(encryption_algorithm_desc, "EncryptionAlgorithm", S, kind,
      encryption_algorithm_fields);
#undef S

#define S lh_pq_file_metadata
static const fdesc file_metadata_fields[] = {
    REQ(S, 1, F_I32, version, "version"),
    LIST(S, 2, F_STRUCT, schema, "schema", F_REQ, &schema_element_desc),
    REQ(S, 3, F_I64, num_rows, "num_rows"),
    LIST(S, 4, F_STRUCT, row_groups, "row_groups", F_REQ, &row_group_desc),
    LIST(S, 5, F_STRUCT, key_value_metadata, "key_value_metadata", 0,
         &key_value_desc),
    OPT_STR(S, 6, created_by, "created_by"),
    LIST(S, 7, F_UNION, column_orders, "column_orders", 0, &column_order_desc),
    OPT_SUB(S, 8, F_UNION, encryption_algorithm, "encryption_algorithm",
            &encryption_algorithm_desc),
    OPT(S, 9, F_BINARY, footer_signing_key_metadata,
        "footer_signing_key_metadata"),
};
STRUCT(file_metadata_desc, "FileMetaData", S, file_metadata_fields);
#undef S

/* Page headers. */

#define S lh_pq_data_page_header
static const fdesc data_page_header_fields[] = {
    REQ(S, 1, F_I32, num_values, "num_values"),
    REQ(S, 2, F_I32, encoding, "encoding"),
    REQ(S, 3, F_I32, definition_level_encoding, "definition_level_encoding"),
    REQ(S, 4, F_I32, repetition_level_encoding, "repetition_level_encoding"),
    OPT_SUB(S, 5, F_STRUCT, statistics, "statistics", &statistics_desc),
};
STRUCT(data_page_header_desc, "DataPageHeader", S, data_page_header_fields);
#undef S

static const sdesc index_page_header_desc = {
    "IndexPageHeader", sizeof(lh_pq_index_page_header), false, 0, NULL, 0};

#define S lh_pq_dictionary_page_header
static const fdesc dictionary_page_header_fields[] = {
    REQ(S, 1, F_I32, num_values, "num_values"),
    REQ(S, 2, F_I32, encoding, "encoding"),
    OPT(S, 3, F_BOOL, is_sorted, "is_sorted"),
};
STRUCT(dictionary_page_header_desc, "DictionaryPageHeader", S,
       dictionary_page_header_fields);
#undef S

#define S lh_pq_data_page_header_v2
static const fdesc data_page_header_v2_fields[] = {
    REQ(S, 1, F_I32, num_values, "num_values"),
    REQ(S, 2, F_I32, num_nulls, "num_nulls"),
    REQ(S, 3, F_I32, num_rows, "num_rows"),
    REQ(S, 4, F_I32, encoding, "encoding"),
    REQ(S, 5, F_I32, definition_levels_byte_length,
        "definition_levels_byte_length"),
    REQ(S, 6, F_I32, repetition_levels_byte_length,
        "repetition_levels_byte_length"),
    FIELD(S, 7, F_BOOL, is_compressed, "is_compressed", F_DEF_TRUE,
          (int32_t)offsetof(S, has_is_compressed), NULL),
    OPT_SUB(S, 8, F_STRUCT, statistics, "statistics", &statistics_desc),
};
STRUCT(data_page_header_v2_desc, "DataPageHeaderV2", S,
       data_page_header_v2_fields);
#undef S

#define S lh_pq_page_header
static const fdesc page_header_fields[] = {
    REQ(S, 1, F_I32, type, "type"),
    REQ(S, 2, F_I32, uncompressed_page_size, "uncompressed_page_size"),
    REQ(S, 3, F_I32, compressed_page_size, "compressed_page_size"),
    OPT(S, 4, F_I32, crc, "crc"),
    OPT_SUB(S, 5, F_STRUCT, data_page_header, "data_page_header",
            &data_page_header_desc),
    OPT_SUB(S, 6, F_STRUCT, index_page_header, "index_page_header",
            &index_page_header_desc),
    OPT_SUB(S, 7, F_STRUCT, dictionary_page_header, "dictionary_page_header",
            &dictionary_page_header_desc),
    OPT_SUB(S, 8, F_STRUCT, data_page_header_v2, "data_page_header_v2",
            &data_page_header_v2_desc),
};
STRUCT(page_header_desc, "PageHeader", S, page_header_fields);
#undef S

/* The page index. */

#define S lh_pq_page_location
static const fdesc page_location_fields[] = {
    REQ(S, 1, F_I64, offset, "offset"),
    REQ(S, 2, F_I32, compressed_page_size, "compressed_page_size"),
    REQ(S, 3, F_I64, first_row_index, "first_row_index"),
};
STRUCT(page_location_desc, "PageLocation", S, page_location_fields);
#undef S

#define S lh_pq_offset_index
static const fdesc offset_index_fields[] = {
    LIST(S, 1, F_STRUCT, page_locations, "page_locations", F_REQ,
         &page_location_desc),
    LIST(S, 2, F_I64, unencoded_byte_array_data_bytes,
         "unencoded_byte_array_data_bytes", 0, NULL),
};
STRUCT(offset_index_desc, "OffsetIndex", S, offset_index_fields);
#undef S

#define S lh_pq_column_index
static const fdesc column_index_fields[] = {
    LIST(S, 1, F_BOOL, null_pages, "null_pages", F_REQ, NULL),
    LIST(S, 2, F_BINARY, min_values, "min_values", F_REQ, NULL),
    LIST(S, 3, F_BINARY, max_values, "max_values", F_REQ, NULL),
    REQ(S, 4, F_I32, boundary_order, "boundary_order"),
    LIST(S, 5, F_I64, null_counts, "null_counts", 0, NULL),
    LIST(S, 6, F_I64, repetition_level_histograms,
         "repetition_level_histograms", 0, NULL),
    LIST(S, 7, F_I64, definition_level_histograms,
         "definition_level_histograms", 0, NULL),
    LIST(S, 8, F_I64, nan_counts, "nan_counts", 0, NULL),
};
STRUCT(column_index_desc, "ColumnIndex", S, column_index_fields);
#undef S

/* The Bloom filter header: its unions are kinds in int32_t fields. */

static const fdesc bloom_algorithm_fields[] = {
    MEMBER(LH_PQ_BLOOM_ALGORITHM_BLOCK, "BLOCK", &empty_desc),
};
static const sdesc bloom_algorithm_desc = {
    "BloomFilterAlgorithm",
    sizeof(int32_t),
    true,
    0,
    bloom_algorithm_fields,
    LH_ARRAY_LEN(bloom_algorithm_fields)};
static const fdesc bloom_hash_fields[] = {
    MEMBER(LH_PQ_BLOOM_HASH_XXHASH, "XXHASH", &empty_desc),
};
static const sdesc bloom_hash_desc = {"BloomFilterHash",
                                      sizeof(int32_t),
                                      true,
                                      0,
                                      bloom_hash_fields,
                                      LH_ARRAY_LEN(bloom_hash_fields)};
static const fdesc bloom_compression_fields[] = {
    MEMBER(LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED, "UNCOMPRESSED", &empty_desc),
};
static const sdesc bloom_compression_desc = {
    "BloomFilterCompression",
    sizeof(int32_t),
    true,
    0,
    bloom_compression_fields,
    LH_ARRAY_LEN(bloom_compression_fields)};

#define S lh_pq_bloom_filter_header
static const fdesc bloom_filter_header_fields[] = {
    REQ(S, 1, F_I32, num_bytes, "numBytes"),
    REQ_SUB(S, 2, F_UNION, algorithm, "algorithm", &bloom_algorithm_desc),
    REQ_SUB(S, 3, F_UNION, hash, "hash", &bloom_hash_desc),
    REQ_SUB(S, 4, F_UNION, compression, "compression", &bloom_compression_desc),
};
STRUCT(bloom_filter_header_desc, "BloomFilterHeader", S,
       bloom_filter_header_fields);
#undef S

/* ---- helpers shared by the walkers -------------------------------------- */

#define AT(base, off, T) ((T *)(void *)((base) + (off)))
#define CAT(base, off, T) ((const T *)(const void *)((base) + (off)))

static uint8_t
wire_type(uint8_t t)
{
    switch (t) {
    case F_BOOL:
        return LH_TC_BOOL;
    case F_I8:
        return LH_TC_I8;
    case F_I16:
        return LH_TC_I16;
    case F_I32:
        return LH_TC_I32;
    case F_I64:
        return LH_TC_I64;
    case F_DOUBLE:
        return LH_TC_DOUBLE;
    case F_BINARY:
    case F_STRING:
        return LH_TC_BINARY;
    case F_LIST:
        return LH_TC_LIST;
    default:
        return LH_TC_STRUCT;
    }
}

/* i16, i32 and i64 share their encoding (a zigzag varint), and Thrift's
 * C++ and Java readers take one for another in lists (they read what the
 * IDL says whatever the list header claims), so writers got away with it:
 * an integer of any of them is read into any other, range-checked. */
static bool
wire_ok(uint8_t got, uint8_t want)
{
    if (got == want) {
        return true;
    }
    bool got_int = got == LH_TC_I16 || got == LH_TC_I32 || got == LH_TC_I64;
    bool want_int = want == LH_TC_I16 || want == LH_TC_I32 || want == LH_TC_I64;
    return got_int && want_int;
}

/* The size of one value of type t in C. */
static size_t
value_size(uint8_t t, const sdesc *sub)
{
    switch (t) {
    case F_BOOL:
        return sizeof(bool);
    case F_I8:
        return sizeof(int8_t);
    case F_I16:
        return sizeof(int16_t);
    case F_I32:
        return sizeof(int32_t);
    case F_I64:
        return sizeof(int64_t);
    case F_DOUBLE:
        return sizeof(double);
    case F_BINARY:
        return sizeof(lh_pq_bytes);
    case F_STRING:
        return sizeof(char *);
    case F_LIST:
        return sizeof(void *);
    default:
        return sub->size;
    }
}

/* A table entry and the member it points at agree on the size. */
static bool
field_ok(const fdesc *f)
{
    return f->csize == 0 || f->csize == value_size(f->type, f->sub);
}

static const fdesc *
find_field(const sdesc *s, int16_t id, size_t *index)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        if (s->fields[i].id == id) {
            *index = i;
            return &s->fields[i];
        }
    }
    return NULL;
}

/* Is the field there (to encode, to compare)? */
static bool
present(const fdesc *f, const uint8_t *base)
{
    if (f->flags & F_REQ) {
        return true;
    }
    if (f->has_off >= 0) {
        return *CAT(base, f->has_off, bool);
    }
    if (f->type == F_LIST) {
        return *CAT(base, f->off, void *) != NULL ||
               *CAT(base, f->n_off, uint32_t) > 0;
    }
    if (ALWAYS(f->type == F_STRING)) {
        return *CAT(base, f->off, char *) != NULL;
    }
    return false;
}

/* The bytes of a string field as the encoder writes them. */
static size_t
string_len(const fdesc *f, const uint8_t *base, const char *s)
{
    if (f != NULL && base != NULL && f->len_off >= 0) {
        uint32_t len = *CAT(base, f->len_off, uint32_t);
        if (len > 0) {
            return len;
        }
    }
    return strlen(s);
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct dec {
    lh_tc_reader r;
    lh_arena *a;
    bool named; /* the innermost struct and field named the error */
} dec;

/* No field id: the error is in the struct's framing. */
#define NO_ID INT32_MIN

/* Names the struct and field of an error once, from the innermost level,
 * which knows best what it was reading: f, or else the id of a field
 * unknown here. */
static lh_rc
name_error(dec *d, lh_rc rc, const sdesc *s, const fdesc *f, int32_t id)
{
    lh_err *err = d->r.err;
    if (d->named || err == NULL) {
        d->named = true;
        return rc;
    }
    d->named = true;
    if (f != NULL) {
        lh_err_prefix(err, "%s.%s", s->name, f->name);
        snprintf(err->field, sizeof(err->field), "%s.%s", s->name, f->name);
    } else if (id != NO_ID) {
        lh_err_prefix(err, "%s field %d", s->name, (int)id);
        snprintf(err->field, sizeof(err->field), "%s", s->name);
    } else {
        lh_err_prefix(err, "%s", s->name);
        snprintf(err->field, sizeof(err->field), "%s", s->name);
    }
    return rc;
}

static lh_rc
out_of_memory(dec *d, const char *what, size_t n)
{
    lh_err_set(d->r.err, LH_ENOMEM, "out of memory for %s of %zu bytes", what,
               n);
    if (d->r.err != NULL) {
        d->r.err->offset = (int64_t)lh_tc_offset(&d->r);
    }
    return LH_ENOMEM;
}

static lh_rc dec_struct(dec *d, const sdesc *s, uint8_t *base);
static lh_rc dec_union(dec *d, const sdesc *u, uint8_t *base);

static lh_rc
dec_string(dec *d, char **out, uint32_t *len_out)
{
    const uint8_t *p;
    uint32_t len;
    lh_rc rc = lh_tc_read_binary(&d->r, &p, &len);
    if (rc != LH_OK) {
        return rc;
    }
    char *s = lh_arena_alloc(d->a, (size_t)len + 1);
    if (s == NULL) {
        return out_of_memory(d, "a string", (size_t)len + 1);
    }
    if (len > 0) {
        memcpy(s, p, len);
    }
    s[len] = '\0';
    *out = s;
    if (len_out != NULL) {
        *len_out = len;
    }
    return LH_OK;
}

/* One value of type t (a bool as a list element) into at. */
static lh_rc
dec_value(dec *d, uint8_t t, const sdesc *sub, uint8_t *at, uint32_t *len_out)
{
    switch (t) {
    case F_BOOL:
        return lh_tc_read_bool(&d->r, AT(at, 0, bool));
    case F_I8:
        return lh_tc_read_i8(&d->r, AT(at, 0, int8_t));
    case F_I16:
        return lh_tc_read_i16(&d->r, AT(at, 0, int16_t));
    case F_I32:
        return lh_tc_read_i32(&d->r, AT(at, 0, int32_t));
    case F_I64:
        return lh_tc_read_i64(&d->r, AT(at, 0, int64_t));
    case F_DOUBLE:
        return lh_tc_read_double(&d->r, AT(at, 0, double));
    case F_BINARY: {
        lh_pq_bytes *b = AT(at, 0, lh_pq_bytes);
        return lh_tc_read_binary(&d->r, &b->p, &b->len);
    }
    case F_STRING:
        return dec_string(d, AT(at, 0, char *), len_out);
    case F_STRUCT:
        return dec_struct(d, sub, at);
    case F_UNION:
        return dec_union(d, sub, at);
    }
    return lh_tc_corrupt(&d->r, "no decoder for type %u", t);
}

/* A list whose elements are of another type than the IDL's is skipped
 * whole, as a field of another type is (*mismatch gets ELEM_MISMATCH and
 * the elements' type). */
#define ELEM_MISMATCH 0x80

static lh_rc
mismatch_error(dec *d, const fdesc *f, uint8_t got)
{
    if (got & ELEM_MISMATCH) {
        return lh_tc_corrupt(&d->r,
                             "required field sent as a list of %s, not of %s",
                             lh_tc_type_name(got & ~ELEM_MISMATCH),
                             lh_tc_type_name(wire_type(f->elem)));
    }
    return lh_tc_corrupt(&d->r, "required field sent as %s, not %s",
                         lh_tc_type_name(got),
                         lh_tc_type_name(wire_type(f->type)));
}

static lh_rc
dec_list(dec *d, const fdesc *f, uint8_t *base, uint8_t *mismatch)
{
    uint8_t et;
    uint32_t n;
    lh_rc rc = lh_tc_list_begin(&d->r, &et, &n);
    if (rc != LH_OK) {
        return rc;
    }
    if (n > 0 && !wire_ok(et, wire_type(f->elem))) {
        for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
            rc = lh_tc_skip(&d->r, et);
        }
        if (rc == LH_OK) {
            lh_tc_list_end(&d->r);
            *mismatch = ELEM_MISMATCH | et;
        }
        return rc;
    }
    size_t esize = value_size(f->elem, f->sub);
    /* n is at most the bytes left, so this cannot overflow. */
    uint8_t *arr = lh_arena_alloc(d->a, (size_t)n * esize);
    if (arr == NULL) {
        return out_of_memory(d, "a list", (size_t)n * esize);
    }
    for (uint32_t i = 0; i < n; i++) {
        rc = dec_value(d, f->elem, f->sub, arr + (size_t)i * esize, NULL);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_tc_list_end(&d->r);
    *AT(base, f->off, uint8_t *) = arr;
    *AT(base, f->n_off, uint32_t) = n;
    return LH_OK;
}

/* Decodes a known field. One sent with another wire type is skipped, as
 * Thrift's own readers do (a writer's private field 15, say), and
 * *mismatch gets the type it came with: an error only if the field is
 * required. */
static lh_rc
dec_field(dec *d, const fdesc *f, const lh_tc_field *wf, uint8_t *base,
          uint8_t *mismatch)
{
    (void)ALWAYS(field_ok(f));
    if (!wire_ok(wf->type, wire_type(f->type))) {
        *mismatch = wf->type;
        return lh_tc_skip_field(&d->r, wf);
    }
    if (f->has_off >= 0) {
        *AT(base, f->has_off, bool) = true;
    }
    switch (f->type) {
    case F_BOOL:
        *AT(base, f->off, bool) = wf->bool_value;
        return LH_OK;
    case F_LIST:
        return dec_list(d, f, base, mismatch);
    default: {
        uint32_t *len_out =
            f->len_off >= 0 ? AT(base, f->len_off, uint32_t) : NULL;
        return dec_value(d, f->type, f->sub, base + f->off, len_out);
    }
    }
}

static lh_rc
dec_struct(dec *d, const sdesc *s, uint8_t *base)
{
    int16_t saved;
    lh_rc rc = lh_tc_struct_begin(&d->r, &saved);
    if (rc != LH_OK) {
        return name_error(d, rc, s, NULL, NO_ID);
    }
    /* A repeated struct field replaces the earlier value whole. */
    memset(base, 0, s->size);
    for (size_t i = 0; i < s->n_fields; i++) {
        const fdesc *f = &s->fields[i];
        if (f->flags & F_DEF_TRUE) {
            *AT(base, f->off, bool) = true;
        }
    }
    uint64_t seen = 0;
    /* The wire type of a known field skipped for its type, or 0. */
    uint8_t mismatch[64];
    assert(s->n_fields <= LH_ARRAY_LEN(mismatch));
    memset(mismatch, 0, s->n_fields);
    for (;;) {
        lh_tc_field wf;
        rc = lh_tc_field_next(&d->r, &wf);
        if (rc != LH_OK) {
            return name_error(d, rc, s, NULL, NO_ID);
        }
        if (wf.type == LH_TC_STOP) {
            break;
        }
        size_t index;
        const fdesc *f = find_field(s, wf.id, &index);
        if (f == NULL) {
            rc = lh_tc_skip_field(&d->r, &wf);
            if (rc != LH_OK) {
                return name_error(d, rc, s, NULL, wf.id);
            }
            continue;
        }
        uint8_t wrong = 0;
        rc = dec_field(d, f, &wf, base, &wrong);
        if (rc != LH_OK) {
            return name_error(d, rc, s, f, NO_ID);
        }
        if (wrong != 0) {
            mismatch[index] = wrong;
        } else {
            seen |= UINT64_C(1) << index;
        }
    }
    for (size_t i = 0; i < s->n_fields; i++) {
        const fdesc *f = &s->fields[i];
        if (!(f->flags & F_REQ) || (seen & (UINT64_C(1) << i))) {
            continue;
        }
        rc = mismatch[i] != 0
                 ? mismatch_error(d, f, mismatch[i])
                 : lh_tc_corrupt(&d->r, "required field is missing");
        return name_error(d, rc, s, f, NO_ID);
    }
    lh_tc_struct_end(&d->r, saved);
    return LH_OK;
}

static lh_rc
dec_union(dec *d, const sdesc *u, uint8_t *base)
{
    int16_t saved;
    lh_rc rc = lh_tc_struct_begin(&d->r, &saved);
    if (rc != LH_OK) {
        return name_error(d, rc, u, NULL, NO_ID);
    }
    memset(base, 0, u->size);
    for (;;) {
        lh_tc_field wf;
        rc = lh_tc_field_next(&d->r, &wf);
        if (rc != LH_OK) {
            return name_error(d, rc, u, NULL, NO_ID);
        }
        if (wf.type == LH_TC_STOP) {
            break;
        }
        size_t index;
        const fdesc *f = find_field(u, wf.id, &index);
        if (f != NULL && wf.type != LH_TC_STRUCT) {
            /* A known member that is not a struct: skipped as Thrift
             * would, the union staying as it was. */
            rc = lh_tc_skip_field(&d->r, &wf);
            if (rc != LH_OK) {
                return name_error(d, rc, u, f, NO_ID);
            }
            continue;
        }
        /* The last member wins: forget what an earlier one set. */
        memset(base, 0, u->size);
        *AT(base, u->kind_off, int32_t) = wf.id;
        if (f == NULL) {
            rc = lh_tc_skip_field(&d->r, &wf);
            if (rc != LH_OK) {
                return name_error(d, rc, u, NULL, wf.id);
            }
            continue;
        }
        rc = dec_struct(d, f->sub, base + f->off);
        if (rc != LH_OK) {
            return name_error(d, rc, u, f, NO_ID);
        }
    }
    lh_tc_struct_end(&d->r, saved);
    return LH_OK;
}

/* An empty range still needs a non-NULL pointer: NULL + 0 is undefined. */
static const uint8_t no_bytes[1];

static lh_rc
decode_top(const sdesc *s, const char *what, const uint8_t *p, size_t len,
           lh_arena *a, void *out, size_t *consumed, lh_err *err)
{
    dec d;
    lh_tc_reader_init(&d.r, p != NULL ? p : no_bytes, p != NULL ? len : 0, err);
    d.a = a;
    d.named = false;
    memset(out, 0, s->size);
    lh_rc rc = dec_struct(&d, s, out);
    if (rc != LH_OK) {
        lh_err_prefix(err, "%s", what);
        return rc;
    }
    if (consumed != NULL) {
        *consumed = lh_tc_offset(&d.r);
    }
    return LH_OK;
}

/* What the encoding alone does not rule out but no valid file has. */
static lh_rc
check_file_metadata(const lh_pq_file_metadata *m, lh_err *err)
{
    for (uint32_t i = 0; i < m->n_row_groups; i++) {
        const lh_pq_row_group *rg = &m->row_groups[i];
        /* Every column chunk is a distinct leaf of the schema. */
        if (rg->n_columns >= m->n_schema && rg->n_columns > 0) {
            lh_err_set(err, LH_ECORRUPT,
                       "parquet footer: RowGroup.columns: row group %u has %u "
                       "columns but the schema only %u elements",
                       i, rg->n_columns, m->n_schema);
            if (err != NULL) {
                err->index = i;
                snprintf(err->field, sizeof(err->field), "RowGroup.columns");
            }
            return LH_ECORRUPT;
        }
    }
    return LH_OK;
}

lh_rc
lh_pq_decode_file_metadata(const uint8_t *p, size_t len, lh_arena *a,
                           lh_pq_file_metadata *out, lh_err *err)
{
    lh_rc rc = decode_top(&file_metadata_desc, "parquet footer", p, len, a, out,
                          NULL, err);
    if (rc != LH_OK) {
        return rc;
    }
    return check_file_metadata(out, err);
}

lh_rc
lh_pq_decode_page_header(const uint8_t *p, size_t len, lh_arena *a,
                         lh_pq_page_header *out, size_t *consumed, lh_err *err)
{
    return decode_top(&page_header_desc, "parquet page header", p, len, a, out,
                      consumed, err);
}

lh_rc
lh_pq_decode_column_index(const uint8_t *p, size_t len, lh_arena *a,
                          lh_pq_column_index *out, size_t *consumed,
                          lh_err *err)
{
    return decode_top(&column_index_desc, "parquet column index", p, len, a,
                      out, consumed, err);
}

lh_rc
lh_pq_decode_offset_index(const uint8_t *p, size_t len, lh_arena *a,
                          lh_pq_offset_index *out, size_t *consumed,
                          lh_err *err)
{
    return decode_top(&offset_index_desc, "parquet offset index", p, len, a,
                      out, consumed, err);
}

lh_rc
lh_pq_decode_bloom_filter_header(const uint8_t *p, size_t len, lh_arena *a,
                                 lh_pq_bloom_filter_header *out,
                                 size_t *consumed, lh_err *err)
{
    return decode_top(&bloom_filter_header_desc, "parquet bloom filter header",
                      p, len, a, out, consumed, err);
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct enc {
    lh_tc_writer w;
    lh_err *err;
} enc;

static lh_rc
cannot_encode(enc *e, const sdesc *s, const fdesc *f, const char *why)
{
    return lh_err_set(e->err, LH_EINVAL, "%s.%s: %s", s->name, f->name, why);
}

static lh_rc enc_struct(enc *e, const sdesc *s, const uint8_t *base);
static lh_rc enc_union(enc *e, const sdesc *u, const uint8_t *base);

/* One value (a bool as a list element) from at. */
static lh_rc
enc_value(enc *e, const sdesc *s, const fdesc *f, uint8_t t, const sdesc *sub,
          const uint8_t *base, const uint8_t *at)
{
    switch (t) {
    case F_BOOL:
        lh_tc_write_bool(&e->w, *CAT(at, 0, bool));
        return LH_OK;
    case F_I8:
        lh_tc_write_i8(&e->w, *CAT(at, 0, int8_t));
        return LH_OK;
    case F_I16:
        lh_tc_write_i16(&e->w, *CAT(at, 0, int16_t));
        return LH_OK;
    case F_I32:
        lh_tc_write_i32(&e->w, *CAT(at, 0, int32_t));
        return LH_OK;
    case F_I64:
        lh_tc_write_i64(&e->w, *CAT(at, 0, int64_t));
        return LH_OK;
    case F_DOUBLE:
        lh_tc_write_double(&e->w, *CAT(at, 0, double));
        return LH_OK;
    case F_BINARY: {
        const lh_pq_bytes *b = CAT(at, 0, lh_pq_bytes);
        if (b->len > 0 && b->p == NULL) {
            return cannot_encode(e, s, f, "binary of non-zero length is NULL");
        }
        lh_tc_write_binary(&e->w, b->p, b->len);
        return LH_OK;
    }
    case F_STRING: {
        const char *str = *CAT(at, 0, char *);
        if (str == NULL) {
            return cannot_encode(e, s, f, "required string is NULL");
        }
        lh_tc_write_binary(&e->w, str, string_len(f, base, str));
        return LH_OK;
    }
    case F_STRUCT:
        return enc_struct(e, sub, at);
    case F_UNION:
        return enc_union(e, sub, at);
    }
    return cannot_encode(e, s, f, "no encoder for the type");
}

static lh_rc
enc_list(enc *e, const sdesc *s, const fdesc *f, const uint8_t *base)
{
    const uint8_t *arr = *CAT(base, f->off, uint8_t *);
    uint32_t n = *CAT(base, f->n_off, uint32_t);
    if (n > 0 && arr == NULL) {
        return cannot_encode(e, s, f, "list has elements but is NULL");
    }
    lh_tc_write_list_begin(&e->w, wire_type(f->elem), n);
    size_t esize = value_size(f->elem, f->sub);
    for (uint32_t i = 0; i < n; i++) {
        /* Elements keep no lengths of their own (len_off is the field's):
         * no base. */
        lh_rc rc =
            enc_value(e, s, f, f->elem, f->sub, NULL, arr + (size_t)i * esize);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
enc_fields(enc *e, const sdesc *s, const uint8_t *base)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        const fdesc *f = &s->fields[i];
        (void)ALWAYS(field_ok(f));
        assert(i == 0 || s->fields[i - 1].id < f->id);
        if (!present(f, base)) {
            continue;
        }
        lh_rc rc = LH_OK;
        if (f->type == F_BOOL) {
            lh_tc_write_bool_field(&e->w, f->id, *CAT(base, f->off, bool));
            continue;
        }
        lh_tc_write_field(&e->w, f->id, wire_type(f->type));
        if (f->type == F_LIST) {
            rc = enc_list(e, s, f, base);
        } else {
            rc = enc_value(e, s, f, f->type, f->sub, base, base + f->off);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
enc_struct(enc *e, const sdesc *s, const uint8_t *base)
{
    int16_t saved;
    lh_tc_write_struct_begin(&e->w, &saved);
    lh_rc rc = enc_fields(e, s, base);
    lh_tc_write_struct_end(&e->w, saved);
    return rc;
}

static lh_rc
enc_union(enc *e, const sdesc *u, const uint8_t *base)
{
    int32_t kind = *CAT(base, u->kind_off, int32_t);
    int16_t saved;
    lh_rc rc = LH_OK;
    lh_tc_write_struct_begin(&e->w, &saved);
    if (kind != 0) {
        if (kind < INT16_MIN || kind > INT16_MAX) {
            return lh_err_set(e->err, LH_EINVAL,
                              "%s: member %ld is not a Thrift field id",
                              u->name, (long)kind);
        }
        lh_tc_write_field(&e->w, (int16_t)kind, LH_TC_STRUCT);
        size_t index;
        const fdesc *f = find_field(u, (int16_t)kind, &index);
        /* A member unknown here was decoded as its id alone. */
        rc = enc_struct(e, f != NULL ? f->sub : &empty_desc,
                        base + (f != NULL ? f->off : 0));
    }
    lh_tc_write_struct_end(&e->w, saved);
    return rc;
}

static lh_rc
encode_top(const sdesc *s, const char *what, const void *in, lh_buf *out,
           lh_err *err)
{
    enc e;
    lh_tc_writer_init(&e.w, out);
    e.err = err;
    lh_rc rc = enc_struct(&e, s, in);
    if (rc == LH_OK && !lh_buf_ok(out)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "encoding %s", what);
    }
    return rc;
}

lh_rc
lh_pq_encode_file_metadata(const lh_pq_file_metadata *m, lh_buf *out,
                           lh_err *err)
{
    return encode_top(&file_metadata_desc, "parquet footer", m, out, err);
}

lh_rc
lh_pq_encode_page_header(const lh_pq_page_header *h, lh_buf *out, lh_err *err)
{
    return encode_top(&page_header_desc, "parquet page header", h, out, err);
}

lh_rc
lh_pq_encode_column_index(const lh_pq_column_index *ci, lh_buf *out,
                          lh_err *err)
{
    return encode_top(&column_index_desc, "parquet column index", ci, out, err);
}

lh_rc
lh_pq_encode_offset_index(const lh_pq_offset_index *oi, lh_buf *out,
                          lh_err *err)
{
    return encode_top(&offset_index_desc, "parquet offset index", oi, out, err);
}

lh_rc
lh_pq_encode_bloom_filter_header(const lh_pq_bloom_filter_header *h,
                                 lh_buf *out, lh_err *err)
{
    return encode_top(&bloom_filter_header_desc, "parquet bloom filter header",
                      h, out, err);
}

/* ---- comparing ----------------------------------------------------------- */

static bool eq_struct(const sdesc *s, const uint8_t *a, const uint8_t *b);
static bool eq_union(const sdesc *u, const uint8_t *a, const uint8_t *b);

static bool
eq_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
eq_value(const fdesc *f, uint8_t t, const sdesc *sub, const uint8_t *abase,
         const uint8_t *a, const uint8_t *bbase, const uint8_t *b)
{
    switch (t) {
    case F_BOOL:
        return *CAT(a, 0, bool) == *CAT(b, 0, bool);
    case F_I8:
    case F_I16:
    case F_I32:
    case F_I64:
    case F_DOUBLE: /* by bits: a NaN equals itself */
        return memcmp(a, b, value_size(t, NULL)) == 0;
    case F_BINARY: {
        const lh_pq_bytes *x = CAT(a, 0, lh_pq_bytes);
        const lh_pq_bytes *y = CAT(b, 0, lh_pq_bytes);
        return eq_bytes(x->p, x->len, y->p, y->len);
    }
    case F_STRING: {
        const char *x = *CAT(a, 0, char *);
        const char *y = *CAT(b, 0, char *);
        if (x == NULL || y == NULL) {
            return x == y;
        }
        return eq_bytes(x, string_len(f, abase, x), y, string_len(f, bbase, y));
    }
    case F_STRUCT:
        return eq_struct(sub, a, b);
    case F_UNION:
        return eq_union(sub, a, b);
    }
    return false;
}

static bool
eq_list(const fdesc *f, const uint8_t *abase, const uint8_t *bbase)
{
    uint32_t n = *CAT(abase, f->n_off, uint32_t);
    if (n != *CAT(bbase, f->n_off, uint32_t)) {
        return false;
    }
    const uint8_t *a = *CAT(abase, f->off, uint8_t *);
    const uint8_t *b = *CAT(bbase, f->off, uint8_t *);
    size_t esize = value_size(f->elem, f->sub);
    for (uint32_t i = 0; i < n; i++) {
        size_t at = (size_t)i * esize;
        if (!eq_value(NULL, f->elem, f->sub, NULL, a + at, NULL, b + at)) {
            return false;
        }
    }
    return true;
}

static bool
eq_struct(const sdesc *s, const uint8_t *a, const uint8_t *b)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        const fdesc *f = &s->fields[i];
        (void)ALWAYS(field_ok(f));
        bool pa = present(f, a);
        if (pa != present(f, b)) {
            return false;
        }
        if (!pa) {
            continue;
        }
        bool same = f->type == F_LIST ? eq_list(f, a, b)
                                      : eq_value(f, f->type, f->sub, a,
                                                 a + f->off, b, b + f->off);
        if (!same) {
            return false;
        }
    }
    return true;
}

static bool
eq_union(const sdesc *u, const uint8_t *a, const uint8_t *b)
{
    int32_t kind = *CAT(a, u->kind_off, int32_t);
    if (kind != *CAT(b, u->kind_off, int32_t)) {
        return false;
    }
    size_t index;
    const fdesc *f = kind >= INT16_MIN && kind <= INT16_MAX
                         ? find_field(u, (int16_t)kind, &index)
                         : NULL;
    return f == NULL || eq_struct(f->sub, a + f->off, b + f->off);
}

bool
lh_pq_file_metadata_equal(const lh_pq_file_metadata *a,
                          const lh_pq_file_metadata *b)
{
    return eq_struct(&file_metadata_desc, (const uint8_t *)a,
                     (const uint8_t *)b);
}

bool
lh_pq_page_header_equal(const lh_pq_page_header *a, const lh_pq_page_header *b)
{
    return eq_struct(&page_header_desc, (const uint8_t *)a, (const uint8_t *)b);
}

bool
lh_pq_column_index_equal(const lh_pq_column_index *a,
                         const lh_pq_column_index *b)
{
    return eq_struct(&column_index_desc, (const uint8_t *)a,
                     (const uint8_t *)b);
}

bool
lh_pq_offset_index_equal(const lh_pq_offset_index *a,
                         const lh_pq_offset_index *b)
{
    return eq_struct(&offset_index_desc, (const uint8_t *)a,
                     (const uint8_t *)b);
}

bool
lh_pq_bloom_filter_header_equal(const lh_pq_bloom_filter_header *a,
                                const lh_pq_bloom_filter_header *b)
{
    return eq_struct(&bloom_filter_header_desc, (const uint8_t *)a,
                     (const uint8_t *)b);
}
