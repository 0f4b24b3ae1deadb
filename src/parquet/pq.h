/*
 * pq.h: Parquet files, written by `sluice extract` and read by `sluice sql`.
 * This header is the whole contract of src/parquet (prefix pq_); the format
 * facts are in /work/shared/design/parquet.md and docs/internals/parquet.md.
 *
 * Writer: a flat schema of BOOLEAN, INT64, DOUBLE, STRING and TIMESTAMP
 * columns, each OPTIONAL (nullable) or REQUIRED. Rows stream in one at a time
 * (set a value or null per column, then end the row); the writer keeps only
 * the current row group in memory (encoded and compressed), so memory is
 * bounded by PQ_ROW_GROUP_BYTES, not by the file. Data pages are v1, values
 * PLAIN or RLE_DICTIONARY (strings, int64, timestamps and doubles; a chunk
 * falls back to PLAIN when its dictionary outgrows opts.dict_max_bytes or
 * holds more than half as many entries as values), definition levels in the RLE/
 * bit-packed hybrid, statistics with null_count and min/max (strings by
 * unsigned byte order, ColumnOrder TYPE_ORDER), key-value metadata holding
 * the sluice schema ("sluice.schema"), and created_by.
 *
 * Default codec: SNAPPY. It is what DuckDB and Spark write by default, it is
 * the only codec besides UNCOMPRESSED that hyparquet (and other small
 * readers) decode without plugins, and it compresses and decompresses at
 * GB/s, so neither extract nor sql is slowed by it. ZSTD gives smaller files
 * (opt in with PQ_ZSTD), GZIP exists for old tools.
 *
 * Reader: opens a file (mmap) or a buffer, decodes the footer and schema with
 * every length and count bounds-checked, exposes row groups with per-column
 * statistics decoded to typed values, and reads projected column chunks in
 * batches (PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE booleans,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT;
 * data pages v1 and v2; codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW).
 * Physical types are widened to the five sluice kinds (enum pq_type): INT32 and
 * unsigned/small ints to int64, FLOAT and DECIMAL to double, INT96 to a
 * nanosecond timestamp. A malformed file is an error naming the file, never a
 * crash or an unbounded allocation (every page is capped at PQ_PAGE_MAX).
 *
 * Threads: a writer or a reader object belongs to one thread at a time; a
 * struct pq_file may be shared read-only by several column readers on one
 * thread (or on many, as nothing in it is mutated after pq_file_open()).
 */
#ifndef PQ_H
#define PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/* ---------------------------------------------------------------- MARK: types */

/* The value kinds sluice knows; every column reads and writes as one of these. */
enum pq_type {
    PQ_BOOL = 1,   /* BOOLEAN; value .b */
    PQ_INT64 = 2,  /* INT64 (reader: also INT32, INT_8..64, UINT_8..32, TIME; UINT_64
                      keeps its 64 bits, so values over INT64_MAX read negative); value .i */
    PQ_DOUBLE = 3, /* DOUBLE (reader: also FLOAT, DECIMAL scaled); value .d */
    PQ_STRING = 4, /* BYTE_ARRAY UTF8 (reader: any BYTE_ARRAY/FIXED); value .s */
    PQ_TIMESTAMP = 5, /* INT64 count of `unit` since 1970-01-01 UTC; value .i */
    PQ_DATE = 6,   /* reader only: INT32 DATE, days since 1970-01-01; value .i */
};

enum pq_time_unit {
    PQ_MILLIS = 1,
    PQ_MICROS = 2, /* the writer's default for PQ_TIMESTAMP */
    PQ_NANOS = 3,  /* reader only (TIMESTAMP(NANOS), INT96) */
};

/* Parquet CompressionCodec ids. */
enum pq_codec {
    PQ_UNCOMPRESSED = 0,
    PQ_SNAPPY = 1, /* the writer's default, see above */
    PQ_GZIP = 2,
    PQ_ZSTD = 6,
    PQ_LZ4_RAW = 7, /* reader only */
};

/* Parquet Encoding ids, as bits in pq_chunk.encodings (1u << id). */
enum pq_encoding {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9,
};

/* One typed value (statistics, row-wise reading). Strings are borrowed: the
 * owner of the struct that holds the value says how long they live. */
struct pq_value {
    bool null; /* true: no value (the union is zero) */
    union {
        bool b;          /* PQ_BOOL */
        int64_t i;       /* PQ_INT64, PQ_TIMESTAMP, PQ_DATE */
        double d;        /* PQ_DOUBLE */
        struct sl_slice s; /* PQ_STRING: borrowed bytes, not NUL-terminated */
    };
};

/* Limits. Sizes read from a file are checked against these before allocating. */
#define PQ_PAGE_MAX (256u << 20)      /* bytes of one page, either side of the codec */
#define PQ_FOOTER_MAX (64u << 20)     /* bytes of FileMetaData */
#define PQ_COLUMNS_MAX 10000          /* leaf columns of a schema */
#define PQ_NAME_MAX 1024              /* bytes of a column name */
#define PQ_STAT_TRUNC 256             /* writer: string min/max longer than this is truncated */

/* Writer defaults (the sluice profile, design/parquet.md §0 and §9). */
#define PQ_ROW_GROUP_ROWS 1048576      /* rows per row group */
#define PQ_ROW_GROUP_BYTES (128u << 20) /* uncompressed bytes per row group (about) */
#define PQ_PAGE_ROWS 20000             /* rows per data page */
#define PQ_PAGE_BYTES (1u << 20)       /* uncompressed value bytes per data page */
#define PQ_DICT_MAX_BYTES (1u << 20)   /* dictionary size before falling back to PLAIN */

/* ---------------------------------------------------------------- MARK: writer */

/* One column of a schema to write. */
struct pq_column_def {
    const char *name;         /* borrowed for the call; UTF-8, unique, <= PQ_NAME_MAX */
    enum pq_type type;        /* PQ_BOOL, PQ_INT64, PQ_DOUBLE, PQ_STRING or PQ_TIMESTAMP */
    enum pq_time_unit unit;   /* PQ_TIMESTAMP only: PQ_MILLIS or PQ_MICROS (0 = MICROS) */
    bool required;            /* false (the default): OPTIONAL, nulls allowed */
};

/* Key-value metadata entry (borrowed for the call). */
struct pq_kv {
    const char *key;
    const char *value; /* may be NULL */
};

/* Writer options; zero-initialise and set what you need (0 = the default). */
struct pq_writer_opts {
    enum pq_codec codec;     /* default PQ_SNAPPY; set use_codec to pick PQ_UNCOMPRESSED */
    bool use_codec;          /* true: `codec` is used even when it is 0 (UNCOMPRESSED) */
    int level;               /* codec level (gzip 1..9, zstd 1..19); 0 = library default */
    size_t row_group_rows;   /* default PQ_ROW_GROUP_ROWS */
    size_t row_group_bytes;  /* default PQ_ROW_GROUP_BYTES (uncompressed estimate) */
    size_t page_rows;        /* default PQ_PAGE_ROWS */
    size_t page_bytes;       /* default PQ_PAGE_BYTES */
    size_t dict_max_bytes;   /* default PQ_DICT_MAX_BYTES */
    bool no_dictionary;      /* true: strings are always PLAIN */
    const struct pq_kv *kv;  /* extra key-value metadata (borrowed for the call) */
    size_t nkv;
    const char *created_by;  /* default "sluice version X.Y.Z (build sluice)" */
};

struct pq_writer;

/*
 * Create a writer for `ncols` columns (1..PQ_COLUMNS_MAX). The file starts
 * with "PAR1" at once; nothing is complete until pq_writer_finish().
 *   pq_writer_open:     creates/truncates `path` (mode 0644); the writer
 *                       closes it in pq_writer_free().
 *   pq_writer_open_fd:  writes at fd's current position, which must be the
 *                       start of the file (footer offsets count from there);
 *                       the caller keeps and closes fd (and fsyncs/renames:
 *                       not the writer's business).
 *   pq_writer_open_buf: appends the file to `out` (borrowed; must outlive the
 *                       writer); for tests and in-memory use.
 * Returns a writer the caller frees with pq_writer_free(), or NULL with err
 * set (SL_EUSAGE for a bad schema, SL_EIO when the file cannot be created).
 */
struct pq_writer *pq_writer_open(const char *path, const struct pq_column_def *cols,
                                 size_t ncols, const struct pq_writer_opts *opts,
                                 struct sl_error *err);
struct pq_writer *pq_writer_open_fd(int fd, const char *name, const struct pq_column_def *cols,
                                    size_t ncols, const struct pq_writer_opts *opts,
                                    struct sl_error *err);
struct pq_writer *pq_writer_open_buf(struct sl_buf *out, const struct pq_column_def *cols,
                                     size_t ncols, const struct pq_writer_opts *opts,
                                     struct sl_error *err);

/*
 * Set column `col` (0-based, schema order) of the current row. A column not
 * set before pq_writer_end_row() is null. Setting a column twice in a row
 * keeps the last value. The setter must match the column's type (PQ_TIMESTAMP
 * takes set_int64 in the column's unit); a mismatch is a bug (asserted).
 * Strings are copied; they should be valid UTF-8 (not checked here: DuckDB
 * rejects files with invalid UTF-8, so callers sanitise at ingest).
 */
void pq_writer_set_null(struct pq_writer *w, size_t col);
void pq_writer_set_bool(struct pq_writer *w, size_t col, bool v);
void pq_writer_set_int64(struct pq_writer *w, size_t col, int64_t v);
void pq_writer_set_double(struct pq_writer *w, size_t col, double v);
void pq_writer_set_string(struct pq_writer *w, size_t col, const void *p, size_t len);

/*
 * End the current row. May flush a page or a whole row group (writes to the
 * file). Returns SL_OK, SL_EUSAGE (a REQUIRED column was left null; the row
 * is dropped), SL_ELIMIT (a string longer than PQ_PAGE_MAX / 2) or SL_EIO.
 * After an SL_EIO the writer can only be freed.
 */
int pq_writer_end_row(struct pq_writer *w, struct sl_error *err);

/*
 * Column-at-a-time writing, for callers that hold their rows in columns (it
 * writes the same file as set_* + end_row, with the per-value work in tight
 * loops and no copy of the strings):
 *
 *   pq_writer_batch_begin(w, want, &n)  opens a batch of n rows, 1 <= n <=
 *                                       want: never more than the open row
 *                                       group has room for;
 *   pq_writer_put_*(w, col, ...)        exactly n values for every column,
 *                                       each column's in row order (columns
 *                                       in any order);
 *   pq_writer_batch_end(w)              completes the n rows (and the row
 *                                       group when it is full).
 *
 * Bytes given to pq_writer_put_string() must stay unchanged until
 * pq_writer_batch_end(): the writer recognises a repeated string by its
 * address and length. The put functions record the first failure; batch_end
 * reports it: SL_EUSAGE (a null in a REQUIRED column, or a column that did
 * not get n values), SL_ELIMIT (a string longer than PQ_PAGE_MAX / 2),
 * SL_EIO. After any of them the writer can only be freed. batch_begin fails
 * (SL_EUSAGE) on a finished or failed writer, or inside a batch. Do not call
 * set_* or end_row inside a batch.
 */
int pq_writer_batch_begin(struct pq_writer *w, size_t want, size_t *n, struct sl_error *err);
void pq_writer_put_null(struct pq_writer *w, size_t col);
void pq_writer_put_bool(struct pq_writer *w, size_t col, bool v);
void pq_writer_put_int64(struct pq_writer *w, size_t col, int64_t v);
void pq_writer_put_double(struct pq_writer *w, size_t col, double v);
void pq_writer_put_string(struct pq_writer *w, size_t col, const void *p, size_t len);
/* n values (no nulls) of an INT64, TIMESTAMP or DOUBLE column at once, each
 * as its 8 bytes read as a uint64_t (an int64's value; a double's bits, as
 * memcpy gives them): what n put_int64/put_double calls would write. */
void pq_writer_put_fixed64(struct pq_writer *w, size_t col, const uint64_t *bits, size_t n);
/* n strings (no nulls) of a STRING column at once: what n put_string calls
 * would write. Their bytes stay borrowed until batch_end, as there; a value
 * at the same address and length as the one before costs no lookup. */
void pq_writer_put_strings(struct pq_writer *w, size_t col, const struct sl_slice *s, size_t n);
int pq_writer_batch_end(struct pq_writer *w, struct sl_error *err);

/* Flush the current row group now (no-op when it is empty). */
int pq_writer_flush(struct pq_writer *w, struct sl_error *err);

/* Rows ended so far, and bytes written so far (without the open row group). */
int64_t pq_writer_rows(const struct pq_writer *w);
int64_t pq_writer_bytes(const struct pq_writer *w);

/*
 * Flush the last row group and write the footer. After this the file is
 * complete (a file with zero rows is valid: schema, no row groups). Returns
 * SL_OK or an error (SL_EIO). Call at most once; then free.
 */
int pq_writer_finish(struct pq_writer *w, struct sl_error *err);

/* Free the writer (closing the file if pq_writer_open opened it). Without a
 * successful pq_writer_finish() the file is incomplete. NULL-safe. */
void pq_writer_free(struct pq_writer *w);

/* ---------------------------------------------------------------- MARK: reader */

/* One leaf column of a file's schema (flat; nested files are rejected). */
struct pq_column {
    char *name;              /* owned by the file; NUL-terminated */
    enum pq_type type;       /* what values read as */
    enum pq_time_unit unit;  /* PQ_TIMESTAMP: unit of the int64 values */
    bool utc;                /* PQ_TIMESTAMP: isAdjustedToUTC */
    bool required;           /* REQUIRED: never null */
    int physical;            /* Parquet Type: 0 BOOLEAN .. 7 FIXED_LEN_BYTE_ARRAY */
    int converted;           /* ConvertedType, or -1 */
    int type_length;         /* FIXED_LEN_BYTE_ARRAY width, else 0 */
    int scale, precision;    /* DECIMAL (read as double), else 0 */
    bool is_utf8;            /* STRING: annotated UTF8/STRING/JSON/ENUM (false: binary) */
};

/* Statistics of one column chunk, decoded to the column's pq_type. */
struct pq_stats {
    bool has_null_count;     /* null_count is known */
    int64_t null_count;
    bool has_min_max;        /* min and max are set (both or neither) */
    struct pq_value min, max; /* strings borrowed from the file (live as long as it) */
    bool min_exact, max_exact; /* false: a truncated string bound (still a true bound) */
};

/* One column chunk of a row group. */
struct pq_chunk {
    enum pq_codec codec;     /* any CompressionCodec id (reading 3, 4, 5 fails) */
    uint32_t encodings;      /* bit (1u << enum pq_encoding) for each listed encoding */
    int64_t num_values;      /* level entries, nulls included */
    int64_t offset;          /* first byte of the chunk in the file */
    int64_t compressed_size; /* bytes on disk, page headers included */
    int64_t uncompressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* 0: none */
    struct pq_stats stats;
};

struct pq_row_group {
    int64_t num_rows;
    int64_t total_byte_size;      /* uncompressed */
    int64_t total_compressed_size;
    struct pq_chunk *chunks;      /* owned by the file; ncols entries, schema order */
};

struct pq_file {
    char *name;                /* owned; the path or the name given, for messages */
    int64_t num_rows;
    size_t ncols;
    struct pq_column *cols;    /* owned; leaf columns */
    size_t nrow_groups;
    struct pq_row_group *row_groups; /* owned */
    char *created_by;          /* owned; NULL if absent */
    size_t nkv;
    struct pq_kv *kv;          /* owned strings; the writer's "sluice.schema" is here */
    /* private: the bytes (mapped or borrowed) */
    const uint8_t *data;
    size_t size;
    bool mapped;
};

/*
 * Open `path`, map it, and decode the footer. Returns a file the caller frees
 * with pq_file_free(), or NULL with err set: SL_EIO (cannot open/map),
 * SL_ECORRUPT (bad magic, footer, schema, offsets), SL_EUNSUPPORTED (nested
 * schema, encryption), SL_ELIMIT (caps). Messages name the path.
 */
struct pq_file *pq_file_open(const char *path, struct sl_error *err);
/* Same over bytes the caller keeps alive until pq_file_free() (borrowed). */
struct pq_file *pq_file_open_mem(const void *p, size_t len, const char *name,
                                 struct sl_error *err);
void pq_file_free(struct pq_file *file);

/* Column index of `name` (exact match, then ASCII case-insensitive), or -1. */
int pq_file_column_index(const struct pq_file *file, const char *name);

/* Value kind name: "bool", "int64", "double", "string", "timestamp", "date". */
const char *pq_type_name(enum pq_type type);
/* Codec name: "UNCOMPRESSED", "SNAPPY", ...; "?" for unknown ids. */
const char *pq_codec_name(int codec);
/* Encoding name: "PLAIN", "RLE_DICTIONARY", ...; "?" for unknown ids. */
const char *pq_encoding_name(int enc);

/*
 * A batch of values of one column, aligned by row: entry i is row
 * (first row of the batch + i). Everything is borrowed from the reader and
 * valid until its next read or free. Only the array matching the column's
 * pq_type is set; entries where valid[i] == 0 are null (and zero).
 */
struct pq_batch {
    size_t n;                 /* rows in the batch */
    const uint8_t *valid;     /* n entries: 1 value, 0 null */
    const int64_t *i64;       /* PQ_INT64, PQ_TIMESTAMP, PQ_DATE */
    const double *f64;        /* PQ_DOUBLE */
    const uint8_t *b;         /* PQ_BOOL: 0 or 1 */
    const struct sl_slice *str; /* PQ_STRING: borrowed from the page or dictionary */
    size_t nulls;             /* entries with valid[i] == 0 */
};

struct pq_column_reader;

/*
 * A reader of one column chunk (row group `rg`, column `col`). `file` is
 * borrowed and must outlive the reader. Returns NULL with err set on bad
 * arguments (SL_EUSAGE) or an unusable chunk (SL_ECORRUPT, SL_EUNSUPPORTED).
 */
struct pq_column_reader *pq_column_reader_new(const struct pq_file *file, size_t rg,
                                              size_t col, struct sl_error *err);
/*
 * Read the next min(max, rows left) rows into `batch` (max >= 1), decoding
 * pages as needed. Returns the row count (0 at the end of the chunk) or an
 * sl_err (SL_ECORRUPT/SL_EPROTO for a bad page, SL_ELIMIT, SL_EUNSUPPORTED),
 * with a message naming the file, row group and column.
 */
int64_t pq_column_reader_read(struct pq_column_reader *r, size_t max, struct pq_batch *batch,
                              struct sl_error *err);
/* Skip the next min(n, rows left) rows, stepping over whole pages without
 * decompressing them where it can. Returns rows skipped or an sl_err. Like a
 * read, it ends the life of the previous batch. */
int64_t pq_column_reader_skip(struct pq_column_reader *r, size_t n, struct sl_error *err);
void pq_column_reader_free(struct pq_column_reader *r);

/*
 * Row-wise reading over projected columns of one row group: a convenience on
 * top of the column readers (one per projected column, read in lockstep).
 */
struct pq_rows;

/* `cols` (ncols entries, each < file->ncols, may repeat) is copied. */
struct pq_rows *pq_rows_new(const struct pq_file *file, size_t rg, const size_t *cols,
                            size_t ncols, struct sl_error *err);
/* Advance to the next row: 1 = a row is current, 0 = end of the row group, < 0 error. */
int pq_rows_next(struct pq_rows *rows, struct sl_error *err);
/* Value of projected column i (0..ncols) of the current row; strings valid
 * until the next pq_rows_next(). */
struct pq_value pq_rows_value(const struct pq_rows *rows, size_t i);
void pq_rows_free(struct pq_rows *rows);

/* ---------------------------------------------------------------- MARK: describe */

/*
 * Append a human-readable description of `file` to out: schema, row groups,
 * and per column chunk: codec, encodings, sizes, statistics. What
 * `sluice parquet FILE` prints.
 */
int pq_file_describe(const struct pq_file *file, struct sl_buf *out);
/* Append `v` of a column of `col`'s type as a JSON value (null, true, 1, 1.5,
 * "text"; timestamps as integers in the column's unit). */
int pq_value_json(const struct pq_column *col, struct pq_value v, struct sl_buf *out);

#endif
