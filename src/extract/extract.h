/*
 * extract.h: `sluice extract`, the transform job of the pipeline (the course's
 * Spark jobs): records from a Kafka topic (or an NDJSON file) become typed,
 * filtered, flattened Parquet tables in a lake directory.
 *
 *   source (kclient | --input) -> json_parse -> flatten -> + timestamp
 *     -> --set -> --where -> split (--split-by) -> table buffers (schema
 *     inference, widening) -> Parquet part files -> commit (atomic swap)
 *
 * This header is the whole contract of src/extract (prefix extract_); the
 * rules users see (column order, widening, the lake layout and the commit
 * protocol) are in docs/internals/extract.md. Pieces:
 *   where.c    the --where predicate language: compile once, evaluate per row
 *   flatten.c  a JSON object -> a flat row of typed fields
 *   table.c    per-table column buffers, schema union and widening, part writing
 *   commit.c   the lake commit protocol (design notes there)
 *   job.c      sources, the per-record pipeline, counts, progress
 *
 * Threads: extract_run() blocks until the job is done (or *conf->stop
 * becomes non-zero in --follow). For a regular --input file, and for a
 * batch (not --follow) topic read, it parses and writes with conf->threads
 * worker threads (each with its own tables; their schemas are unified
 * before writing): file workers take slices of the file in turn, topic
 * workers take batches the calling thread consumes. stdin and --follow run
 * on the caller's thread. The other functions here are not thread-safe: a
 * table, row or where object belongs to one thread (a compiled where may be
 * evaluated by many at once: it is read-only).
 */
#ifndef EXTRACT_EXTRACT_H
#define EXTRACT_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"
#include "json/json.h"

/* ---------------------------------------------------------------- MARK: rows */

/* The value kinds of a flattened field (also the column types, plus NONE). */
enum extract_kind {
    EXTRACT_NULL = 0,   /* JSON null; as a column type: "only nulls seen so far" */
    EXTRACT_BOOL = 1,
    EXTRACT_INT = 2,    /* int64 */
    EXTRACT_DOUBLE = 3,
    EXTRACT_STRING = 4, /* also arrays (their JSON text) */
};

/* One field of a flattened record. */
struct extract_field {
    struct sl_slice name; /* borrowed: the record's input or the row's arena */
    uint8_t kind;         /* enum extract_kind */
    bool b;               /* EXTRACT_BOOL */
    int64_t i;            /* EXTRACT_INT */
    double d;             /* EXTRACT_DOUBLE */
    struct sl_slice s;    /* EXTRACT_STRING: valid UTF-8, borrowed like name */
};

/*
 * A flattened record: fields in document order (nested objects depth first).
 * Memory for composed names ("parent_child") and unescaped strings comes from
 * `arena`, cleared by extract_row_reset(). Field names may repeat (case
 * variants, duplicate keys); extract_row_set() and lookups treat names
 * ASCII-case-insensitively and the last occurrence wins.
 */
struct extract_row {
    struct extract_field *f; /* owned (malloc) */
    size_t n;                /* fields in use */
    size_t cap;              /* fields allocated */
    size_t max_fields;       /* cap on n (EXTRACT_FIELDS_MAX); beyond it flatten fails */
    struct sl_arena arena;   /* owned: names and strings of this row */
    struct sl_buf scratch;   /* owned: json_str decode buffer */
};

#define EXTRACT_FIELDS_MAX 10000 /* columns of one record after flattening */
#define EXTRACT_NAME_MAX 1024    /* bytes of a flattened column name (PQ_NAME_MAX) */

void extract_row_init(struct extract_row *row);
void extract_row_release(struct extract_row *row);
void extract_row_reset(struct extract_row *row);

/*
 * Flatten JSON object `obj` of doc into row (appending): nested objects give
 * `parent_child` names (joined by '_'), arrays are kept as their JSON text
 * (string), an empty nested object gives no field, numbers become INT when
 * integral and within int64 else DOUBLE. Returns SL_OK, SL_EUSAGE if obj is
 * not an object ("record is not a JSON object"), or SL_ELIMIT (too many
 * fields / name too long), with the message in err.
 */
int extract_flatten(struct extract_row *row, const struct json_doc *doc,
                    const struct json_val *obj, struct sl_error *err);

/* Index of the last field named name (ASCII case-insensitive), or -1. */
long extract_row_find(const struct extract_row *row, const char *name, size_t n);

/* Set string field `name` to s, replacing every field of that name
 * (case-insensitive; the first such field keeps its place and spelling).
 * Both are borrowed, like the record's own fields: their bytes must stay
 * unchanged until the row is reset (tables copy what they keep). */
void extract_row_set_str(struct extract_row *row, struct sl_slice name, struct sl_slice s);
/* Same for an int64 field / a NULL field. */
void extract_row_set_int(struct extract_row *row, struct sl_slice name, int64_t v);

/* ---------------------------------------------------------------- MARK: where */

/*
 * A compiled --where predicate. Grammar (keywords case-insensitive):
 *   expr  := and { OR and }          and := not { AND not }
 *   not   := NOT not | pred
 *   pred  := operand [ cmp operand | [NOT] IN ( lit {, lit} )
 *                    | [NOT] LIKE 'pattern' | IS [NOT] NULL
 *                    | [NOT] BETWEEN operand AND operand ]
 *   cmp   := = | == | != | <> | < | > | <= | >=
 *   operand := column | 'string' | number | TRUE | FALSE | NULL | ( expr )
 *   column  := [A-Za-z_][A-Za-z0-9_]* | "quoted" | `quoted`  (e.g. "User-Agent")
 * Columns match field names case-insensitively (`host` finds `Host`); a
 * missing column is NULL. SQL three-valued logic: a comparison with NULL is
 * unknown, and only rows where the predicate is TRUE are kept. Numbers
 * compare numerically (int64 exactly), strings bytewise; a string compared
 * with a number is converted when it is a valid number, else unknown. LIKE
 * is case-sensitive with % (any run) and _ (one character).
 */
struct extract_where;

/* Compile; NULL with a message naming the column of the error on failure
 * (SL_EUSAGE). Caller frees with extract_where_free(). */
struct extract_where *extract_where_compile(const char *text, struct sl_error *err);
void extract_where_free(struct extract_where *w);
/* Whether the row passes (TRUE; FALSE and unknown fail). */
bool extract_where_eval(const struct extract_where *w, const struct extract_row *row);

/* ---------------------------------------------------------------- MARK: tables */

/*
 * One output table being filled: its columns (the union of the fields of the
 * rows added, each with a type widened as needed) and the buffered rows,
 * column by column. Column types only widen: NULL -> BOOL/INT/DOUBLE/STRING;
 * INT + DOUBLE -> DOUBLE; any other mix -> STRING, where numbers and bools
 * are written as JSON text (1, 1.5, true). Column order in files: the meta
 * columns (_partition, _offset, _ts) first, then the rest sorted bytewise by
 * name (as PySpark's Row(**fields) orders them). Names are unique
 * case-insensitively; the first spelling seen names the column.
 */
struct extract_table;

struct extract_table *extract_table_new(const char *name, bool meta);
void extract_table_free(struct extract_table *t);
const char *extract_table_name(const struct extract_table *t);
/* Buffer one row (with its meta values when the table has meta columns). */
void extract_table_add(struct extract_table *t, const struct extract_row *row,
                       int32_t partition, int64_t offset, int64_t ts_ms);
/* Rows buffered, rows written so far (all parts), bytes of memory buffered. */
int64_t extract_table_rows(const struct extract_table *t);
int64_t extract_table_written(const struct extract_table *t);
size_t extract_table_mem(const struct extract_table *t);
/*
 * Write the buffered rows as one Parquet file at `path` (created), fsync it,
 * and clear the rows (columns and their types are kept, so later parts of
 * the same run never narrow). With a part open (extract_table_stream) the
 * rows finish that part instead and `path` is not used. A table with no
 * buffered rows and no open part writes nothing and returns SL_OK. Errors
 * (SL_EIO...) name the path.
 */
int extract_table_write(struct extract_table *t, const char *path, struct sl_error *err);

/*
 * Streaming, so that a long run holds a few rows per table, not all: write
 * the buffered rows into the part file at `path` (created by the first
 * call, with the table's columns as they are then; later calls' paths are
 * not used), keep it open, and clear the buffers. Later calls append while
 * the columns, their types and the kinds of the values stay as the part
 * began; extract_table_write() finishes the part. When they change (a new
 * column, a wider type, a value that will become text, or
 * extract_table_unify()), the rows streamed so far are read back from the
 * file into the buffers, the file is removed, and the table buffers until
 * it is written: the file comes out the same either way.
 */
int extract_table_stream(struct extract_table *t, const char *path, struct sl_error *err);
/* Whether t has a part open (streamed to, not yet finished). */
bool extract_table_streaming(const struct extract_table *t);
/* Whether extract_table_stream() may still open a part for t (false once
 * its rows were of mixed kinds or its part was taken back). */
bool extract_table_may_stream(const struct extract_table *t);

/*
 * After the last write of a run (or of a follow commit), when the schema
 * can move no more: the table's parts finished before its columns or
 * types last changed (spilled at --mem-max, or written before
 * extract_table_unify() widened them) are written again with the table's
 * final schema, so that every part of the version agrees and a reader
 * without schema merging (Spark, DuckDB without union_by_name) can read
 * them together. Values come out as if they had been buffered to the end.
 * Forgets the parts either way. SL_OK or an error naming the file.
 */
int extract_table_settle(struct extract_table *t, struct sl_error *err);

/* Free the row buffers of a table whose rows are all written, keeping its
 * columns and counts (rows added later allocate them again): a batch job
 * calls it on each worker's thread, so the memory is returned in parallel. */
void extract_table_trim(struct extract_table *t);
/*
 * Give tables that hold parts of one table (same name, filled by different
 * threads) one schema: every table gets every column of the others, each
 * with the widest type. Call before writing them, so their parts agree.
 */
void extract_table_unify(struct extract_table *const *ts, size_t n);

/* ---------------------------------------------------------------- MARK: commit */

enum extract_mode {
    EXTRACT_MODE_ERROR = 0, /* refuse if --out exists (not empty) */
    EXTRACT_MODE_APPEND,    /* keep what is there, add part files */
    EXTRACT_MODE_OVERWRITE, /* replace --out atomically */
};

/*
 * The lake commit protocol over one output directory (--out): see the design
 * notes in commit.c. A commit atomically replaces --out with a new version
 * directory built beside it, holding (hard links to) the parts to keep, the
 * new parts, `_SUCCESS` in every table directory, and `_offsets`.
 */
struct extract_commit;

/*
 * Prepare to write --out: remove leftovers of crashed runs, check the mode
 * (SL_EEXIST for mode error and an existing non-empty out), and take an
 * exclusive lock (SL_EAGAIN: "another extract is writing 'out'").
 */
struct extract_commit *extract_commit_open(const char *out, enum extract_mode mode,
                                           struct sl_error *err);
void extract_commit_free(struct extract_commit *c);
/* The committed `_offsets` text of --out (NUL-terminated, owned by c), or NULL. */
const char *extract_commit_offsets(const struct extract_commit *c);
/*
 * The path of a new part file for table `table` in the pending version
 * (`table` NULL or "" for a single-table out: parts go to out itself). The
 * version is started on first use. Returns a path (owned by c, valid until
 * the next call) or NULL with err set.
 */
const char *extract_commit_part_path(struct extract_commit *c, const char *table,
                                     struct sl_error *err);
/*
 * Commit the pending version with `offsets_json` (may be NULL) as its
 * `_offsets`: fsync, swap into place, remove the old version. With nothing
 * pending and no offsets change it is a no-op, except that the first commit
 * of an overwrite (and of a fresh out) always publishes (an empty table is a
 * table). Returns SL_OK or SL_EIO.
 */
int extract_commit_publish(struct extract_commit *c, const char *offsets_json,
                           struct sl_error *err);

/* ---------------------------------------------------------------- MARK: job */

struct extract_counts {
    int64_t read;      /* records taken from the source */
    int64_t corrupt;   /* not JSON / not an object: went to _corrupt */
    int64_t filtered;  /* failed --where */
    int64_t written;   /* rows buffered for tables (all tables) */
    int64_t commits;   /* successful commits */
};

struct extract_conf {
    const char *bootstrap;    /* Kafka source: bootstrap servers */
    const char *topic;        /* Kafka source: topic (NULL when input is set) */
    const char *input;        /* NDJSON source: a path or "-" for stdin */
    const char *out;          /* required: the output directory */
    const char *where;        /* optional predicate text */
    const char *const *sets;  /* "K=V" strings, nsets of them (borrowed) */
    int nsets;
    const char *split_by;     /* optional field name */
    enum extract_mode mode;
    bool mode_given;          /* false: ERROR in batch, APPEND with follow */
    bool follow;              /* keep reading, commit every interval */
    int64_t commit_ms;        /* follow: commit at least this often (default 10000) */
    int64_t commit_rows;      /* follow: commit after this many records (0: no row trigger) */
    bool meta;                /* add _partition, _offset, _ts */
    bool progress;            /* draw a progress bar on stderr */
    size_t mem_max;           /* buffered bytes before parts are spilled (default 512 MiB) */
    size_t record_max;        /* longest record accepted (default 16 MiB) */
    int64_t max_records;      /* stop after this many records (0: no limit; tests) */
    int threads;              /* workers for files and batch topic reads (0: one per CPU, at most 4) */
    volatile const int *stop; /* optional: set non-zero (signal) to end --follow cleanly */
    /* results */
    struct extract_counts counts;
    char **table_names;       /* owned by the job until extract_conf_release */
    int64_t *table_rows;
    int ntables;
};

/*
 * Run the job. Everything is validated (the where expression, the set
 * pairs, the mode) before any record is read: SL_EUSAGE for those. Runtime
 * failures return SL_EIO etc. with err set. Per-table row counts of the
 * run are left in conf (free with extract_conf_release).
 */
int extract_run(struct extract_conf *conf, struct sl_error *err);
void extract_conf_release(struct extract_conf *conf);

/* Format ms since the epoch as "YYYY-MM-DD HH:MM:SS.mmm" (UTC) into out[24]. */
void extract_ts_format(int64_t ms, char out[24]);

#endif
