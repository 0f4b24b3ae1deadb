/*
 * job.c: the extract job: read records from a source, run each through the
 * per-record pipeline, keep the tables' buffers within --mem-max, and commit.
 *
 *   record -> json_parse -> extract_flatten -> + timestamp -> --set
 *          -> --where -> table (by --split-by) -> extract_table_add
 *   corrupt (not JSON, not an object, too long, null) -> the _corrupt table
 *
 * Sources: a Kafka topic through kclient (all partitions, earliest to the
 * high watermarks seen at start; --follow keeps going and resumes from the
 * committed `_offsets`), or NDJSON lines from a file or stdin (--input; the
 * record's timestamp is the time it was read, its partition 0 and its
 * offset the line number).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "extract/extract.h"
#include "kclient/kclient.h"

#define CORRUPT_TABLE "_corrupt"
#define CORRUPT_RAW_MAX 65536     /* bytes of a corrupt record's raw text kept */
#define TABLES_MAX 10000          /* distinct --split-by values */
#define TABLE_NAME_MAX 200        /* bytes of a table directory name */
#define PARTITIONS_MAX 100000     /* partitions tracked in _offsets */
#define MEM_CHECK_EVERY 1024      /* records between buffer-size checks */
/* Rows a table buffers before a batch run streams them to its part: two of
 * the writer's batches, so the buffers stay small enough for the cache. */
#define STREAM_ROWS 16384
/* Parts a worker streams to at once (an open part holds a file and a row
 * group's pages): tables beyond it buffer, as with --split-by into
 * thousands of tables. */
#define STREAM_PARTS_MAX 16
#define EXTRACT_THREADS_MAX 16    /* --input file workers */

/* ---------------------------------------------------------------- MARK: time */

void extract_ts_format(int64_t ms, char out[24])
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)s * 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    int year = tm.tm_year + 1900;
    if (year < 0)
        year = 0;
    if (year > 9999)
        year = 9999;
    int parts[7] = { year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac };
    /* YYYY-MM-DD HH:MM:SS.mmm */
    static const char layout[] = "0000-00-00 00:00:00.000";
    static const int at[7] = { 0, 5, 8, 11, 14, 17, 20 }, width[7] = { 4, 2, 2, 2, 2, 2, 3 };
    memcpy(out, layout, sizeof layout);
    for (int k = 0; k < 7; k++) {
        int v = parts[k];
        for (int d = width[k] - 1; d >= 0; d--) {
            out[at[k] + d] = (char)('0' + v % 10);
            v /= 10;
        }
    }
}

/* ---------------------------------------------------------------- MARK: job state */

struct set_pair {
    struct sl_slice key; /* borrowed from conf->sets */
    struct sl_slice val;
};

struct job;

/* A piece of a mapped --input file, whole lines; workers take them in turn. */
struct file_slice {
    const uint8_t *p;   /* borrowed: the mapped file */
    size_t len;
    int64_t first_line; /* line number of p[0] minus one */
    int64_t nlines;     /* newlines in the slice */
    bool inner_unmapped; /* its worker unmapped the pages wholly inside it */
};

/*
 * Per-thread state of the record pipeline: its parse tape, rows, tables and
 * counts. A Kafka or stdin job has one worker; a file job has one per
 * thread, each over its own slice of the file.
 */
struct worker {
    struct job *job;                /* borrowed */
    struct json_doc doc;
    struct extract_row row;
    struct extract_row crow;        /* the row of a corrupt record */
    struct extract_table **tables;  /* owned; [0] is the single table without split */
    int ntables;
    struct extract_table *corrupt;  /* owned; NULL until the first corrupt record */
    struct extract_table *last_table; /* borrowed: cache for --split-by */
    struct extract_counts counts;
    int64_t since_commit;           /* records read since the last commit */
    int64_t cached_ts_ms;           /* timestamp text cache */
    char cached_ts[24];
    int64_t done_bytes;             /* --input file: bytes consumed (progress) */
    struct extract_table *stream_due; /* borrowed: a table with a stream's worth of rows */
    int streaming;                  /* its tables with a part open */
    int rc;                         /* the worker's result */
    struct sl_error err;            /* its failure */
};

struct job {
    struct extract_conf *conf;      /* borrowed */
    struct extract_where *where;    /* owned; NULL: keep all; read-only once compiled */
    struct set_pair *sets;          /* owned */
    int nsets;
    struct extract_commit *commit;  /* owned; part paths handed out under `lock` */
    pthread_mutex_t lock;
    struct file_slice *slices;      /* owned: a regular --input file cut at newlines */
    size_t nslices;
    size_t next_slice;              /* atomic: the next slice a worker takes */
    struct worker *workers;         /* owned: nalloc of them */
    int nalloc;
    int nworkers;                   /* workers in use (<= nalloc) */
    int64_t *next_off;              /* owned: per partition, next offset to read (-1: none) */
    int32_t npart;
    int64_t last_commit_ms;         /* monotonic */
    /* progress */
    int64_t start_ms, last_draw_ms;
    int64_t total;                  /* records expected (watermarks) or bytes (input) */
    int64_t done_bytes;             /* --input: bytes consumed */
    bool by_bytes;
    bool stream;                    /* batch runs stream tables to their parts */
    struct sl_error *err;
};

static void ts_text(struct worker *w, int64_t ms)
{
    if (ms != w->cached_ts_ms) {
        extract_ts_format(ms, w->cached_ts);
        w->cached_ts_ms = ms;
    }
}

/* A table directory name for a --split-by value. */
static void table_name_for(const struct extract_field *f, char *out, size_t cap)
{
    char num[64];
    struct sl_slice v;
    if (!f || f->kind == EXTRACT_NULL) {
        snprintf(out, cap, "_null");
        return;
    }
    switch (f->kind) {
    case EXTRACT_BOOL:
        v = sl_slice_str(f->b ? "true" : "false");
        break;
    case EXTRACT_INT:
        snprintf(num, sizeof num, "%lld", (long long)f->i);
        v = sl_slice_str(num);
        break;
    case EXTRACT_DOUBLE:
        snprintf(num, sizeof num, "%.17g", f->d);
        v = sl_slice_str(num);
        break;
    default:
        v = f->s;
        break;
    }
    size_t n = 0;
    for (size_t i = 0; i < v.len && n + 1 < cap && n < TABLE_NAME_MAX; i++) {
        uint8_t c = v.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && n > 0);
        out[n++] = ok ? (char)c : '_';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, cap, "_empty");
    else if (strcmp(out, CORRUPT_TABLE) == 0)
        snprintf(out, cap, "%s_", CORRUPT_TABLE);
}

static struct extract_table *find_table(struct worker *w, const char *name)
{
    for (int t = 0; t < w->ntables; t++)
        if (strcmp(extract_table_name(w->tables[t]), name) == 0)
            return w->tables[t];
    return NULL;
}

static struct extract_table *add_table(struct worker *w, const char *name)
{
    w->tables = sl_xrealloc(w->tables, (size_t)(w->ntables + 1) * sizeof *w->tables);
    w->tables[w->ntables] = extract_table_new(name, w->job->conf->meta);
    return w->tables[w->ntables++];
}

static struct extract_table *table_for(struct worker *w)
{
    const struct extract_conf *conf = w->job->conf;
    if (!conf->split_by)
        return w->tables[0];
    const char *field = conf->split_by;
    long i = extract_row_find(&w->row, field, strlen(field));
    char name[TABLE_NAME_MAX + 8];
    table_name_for(i >= 0 ? &w->row.f[i] : NULL, name, sizeof name);
    if (w->last_table && strcmp(extract_table_name(w->last_table), name) == 0)
        return w->last_table;
    struct extract_table *t = find_table(w, name);
    if (!t && w->ntables < TABLES_MAX)
        t = add_table(w, name);
    return t ? (w->last_table = t) : NULL;
}

static void note_offset(struct job *job, int32_t partition, int64_t offset)
{
    if (partition < 0 || partition >= PARTITIONS_MAX)
        return;
    if (partition >= job->npart) {
        int32_t n = partition + 1;
        job->next_off = sl_xrealloc(job->next_off, (size_t)n * sizeof *job->next_off);
        for (int32_t p = job->npart; p < n; p++)
            job->next_off[p] = -1;
        job->npart = n;
    }
    job->next_off[partition] = offset + 1;
}

/* ---------------------------------------------------------------- MARK: per record */

static void add_corrupt(struct worker *w, struct sl_slice raw, const char *why, int32_t partition,
                        int64_t offset, int64_t ts_ms)
{
    w->counts.corrupt++;
    if (!w->corrupt)
        w->corrupt = extract_table_new(CORRUPT_TABLE, false);
    struct extract_row *r = &w->crow;
    extract_row_reset(r);
    /* Parquet strings must be UTF-8: invalid bytes become U+FFFD (the JSON
     * writer's escaping does that; strip its quotes and escapes by decoding). */
    size_t n = raw.len > CORRUPT_RAW_MAX ? CORRUPT_RAW_MAX : raw.len;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    json_write_str(&b, raw.p, n);
    struct json_doc d;
    json_doc_init(&d);
    struct sl_slice clean = sl_slice_make(raw.p, 0);
    struct sl_buf scratch;
    sl_buf_init(&scratch, 0);
    if (raw.p && json_parse(&d, sl_buf_slice(&b), NULL) == SL_OK)
        json_str(&d, json_root(&d), &scratch, &clean);
    if (raw.p)
        extract_row_set_str(r, sl_slice_str("raw"), clean);
    extract_row_set_str(r, sl_slice_str("error"), sl_slice_str(why));
    extract_row_set_int(r, sl_slice_str("_partition"), partition);
    extract_row_set_int(r, sl_slice_str("_offset"), offset);
    if (ts_ms >= 0) {
        ts_text(w, ts_ms);
        extract_row_set_str(r, sl_slice_str("timestamp"), sl_slice_str(w->cached_ts));
    }
    extract_table_add(w->corrupt, r, partition, offset, ts_ms);
    sl_buf_release(&scratch);
    json_doc_release(&d);
    sl_buf_release(&b);
}

static void process_doc(struct worker *w, struct sl_slice value, int32_t partition,
                        int64_t offset, int64_t ts_ms);

static void count_read(struct worker *w)
{
    /* single writer; draw_progress() reads it from another thread */
    __atomic_store_n(&w->counts.read, w->counts.read + 1, __ATOMIC_RELAXED);
    w->since_commit++;
}

static void process(struct worker *w, struct sl_slice value, int32_t partition, int64_t offset,
                    int64_t ts_ms)
{
    struct extract_conf *conf = w->job->conf;
    count_read(w);
    if (!value.p) {
        add_corrupt(w, value, "null record value", partition, offset, ts_ms);
        return;
    }
    if (value.len > conf->record_max) {
        char why[96];
        snprintf(why, sizeof why, "record of %zu bytes is longer than the cap of %zu",
                 value.len, conf->record_max);
        add_corrupt(w, value, why, partition, offset, ts_ms);
        return;
    }
    struct sl_error perr; /* cleared, not zeroed: 512 bytes a record was measurable */
    sl_error_clear(&perr);
    if (json_parse(&w->doc, value, &perr) != SL_OK) {
        add_corrupt(w, value, perr.msg, partition, offset, ts_ms);
        return;
    }
    process_doc(w, value, partition, offset, ts_ms);
}

/* The rest of process() once value is parsed into w->doc. */
static void process_doc(struct worker *w, struct sl_slice value, int32_t partition,
                        int64_t offset, int64_t ts_ms)
{
    struct job *job = w->job;
    struct sl_error perr;
    sl_error_clear(&perr);
    extract_row_reset(&w->row);
    if (extract_flatten(&w->row, &w->doc, json_root(&w->doc), &perr) != SL_OK) {
        add_corrupt(w, value, perr.msg, partition, offset, ts_ms);
        return;
    }
    if (ts_ms >= 0) {
        ts_text(w, ts_ms);
        extract_row_set_str(&w->row, sl_slice_str("timestamp"), sl_slice_str(w->cached_ts));
    }
    for (int i = 0; i < job->nsets; i++)
        extract_row_set_str(&w->row, job->sets[i].key, job->sets[i].val);
    if (job->where && !extract_where_eval(job->where, &w->row)) {
        w->counts.filtered++;
        return;
    }
    struct extract_table *t = table_for(w);
    if (!t) {
        add_corrupt(w, value, "too many --split-by tables", partition, offset, ts_ms);
        return;
    }
    extract_table_add(t, &w->row, partition, offset, ts_ms);
    w->counts.written++;
    if (job->stream && extract_table_rows(t) % STREAM_ROWS == 0)
        w->stream_due = t;
}

/* ---------------------------------------------------------------- MARK: parts and commits */

/* A new part path for `table` (NULL: the single table), copied into out. */
static int part_path(struct job *job, const char *table, char *out, size_t cap,
                     struct sl_error *err)
{
    pthread_mutex_lock(&job->lock);
    const char *p = extract_commit_part_path(job->commit, table, err);
    int rc = p ? SL_OK : (err->code ? err->code : SL_EIO);
    if (p && snprintf(out, cap, "%s", p) >= (int)cap)
        rc = sl_fail(err, SL_ELIMIT, "part path too long");
    pthread_mutex_unlock(&job->lock);
    return rc;
}

/* Write the worker's buffered rows as parts of the pending version; `last`:
 * nothing more goes into this version, so every table's earlier parts are
 * brought to its final schema (extract_table_settle). */
static int write_parts(struct worker *w, bool last, struct sl_error *err)
{
    struct job *job = w->job;
    bool single = !job->conf->split_by;
    char path[4200];
    for (int t = 0; t <= w->ntables; t++) {
        struct extract_table *tab = t < w->ntables ? w->tables[t] : w->corrupt;
        if (!tab)
            continue;
        int rc = SL_OK;
        if (extract_table_rows(tab) > 0 || extract_table_streaming(tab)) {
            const char *name = t == w->ntables ? CORRUPT_TABLE
                               : single       ? NULL
                                              : extract_table_name(tab);
            rc = part_path(job, name, path, sizeof path, err);
            if (rc == SL_OK)
                rc = extract_table_write(tab, path, err);
        }
        if (rc == SL_OK && last)
            rc = extract_table_settle(tab, err);
        if (rc != SL_OK)
            return rc;
    }
    w->streaming = 0; /* every part is finished */
    return SL_OK;
}

static size_t buffered(const struct worker *w)
{
    size_t m = w->corrupt ? extract_table_mem(w->corrupt) : 0;
    for (int t = 0; t < w->ntables; t++)
        m += extract_table_mem(w->tables[t]);
    return m;
}

static char *offsets_json(const struct job *job)
{
    if (!job->conf->topic)
        return NULL;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct json_writer w;
    json_writer_init(&w, &b);
    json_w_obj_begin(&w);
    json_w_key(&w, "topic", 5);
    json_w_str(&w, job->conf->topic, strlen(job->conf->topic));
    json_w_key(&w, "next_offsets", 12);
    json_w_obj_begin(&w);
    for (int32_t p = 0; p < job->npart; p++) {
        if (job->next_off[p] < 0)
            continue;
        char k[16];
        int n = snprintf(k, sizeof k, "%d", p);
        json_w_key(&w, k, (size_t)n);
        json_w_int(&w, job->next_off[p]);
    }
    json_w_obj_end(&w);
    json_w_obj_end(&w);
    sl_buf_append(&b, "\n", 1);
    char *text = (char *)sl_buf_detach(&b, NULL);
    sl_buf_release(&b); /* detach leaves an empty, initialised buf */
    return text;
}

/* Write every worker's rows and publish them with the offsets read so far. */
static int commit_now(struct job *job)
{
    int rc = SL_OK;
    for (int i = 0; i < job->nworkers && rc == SL_OK; i++)
        rc = write_parts(&job->workers[i], true, job->err);
    if (rc != SL_OK)
        return rc;
    char *off = offsets_json(job);
    rc = extract_commit_publish(job->commit, off, job->err);
    free(off);
    if (rc == SL_OK) {
        job->conf->counts.commits++;
        for (int i = 0; i < job->nworkers; i++)
            job->workers[i].since_commit = 0;
        sl_debug("extract: committed '%s'", job->conf->out);
    }
    job->last_commit_ms = sl_clock_mono_ms();
    return rc;
}

/* Load the committed offsets of --out as the resume point (follow mode). */
static int load_offsets(struct job *job)
{
    const char *text = extract_commit_offsets(job->commit);
    if (!text)
        return SL_OK;
    struct json_doc d;
    json_doc_init(&d);
    struct sl_error perr = { 0 };
    int rc = SL_OK;
    if (json_parse(&d, sl_slice_str(text), &perr) != SL_OK ||
        json_root(&d)->type != JSON_OBJECT) {
        rc = sl_fail(job->err, SL_ECORRUPT, "cannot read '%s/_offsets': %s", job->conf->out,
                     perr.msg[0] ? perr.msg : "not an object");
        goto out;
    }
    const struct json_val *topic = json_obj_get(&d, json_root(&d), "topic", 5);
    if (!topic || !json_str_eq(&d, topic, job->conf->topic, strlen(job->conf->topic))) {
        rc = sl_fail(job->err, SL_EUSAGE,
                     "'%s' was extracted from another topic (see its _offsets); "
                     "use --mode overwrite or another --out", job->conf->out);
        goto out;
    }
    const struct json_val *offs = json_obj_get(&d, json_root(&d), "next_offsets", 12);
    if (offs && offs->type == JSON_OBJECT) {
        struct json_iter it = json_iter_make(&d, offs);
        const struct json_val *k, *v;
        while (json_obj_next(&it, &k, &v)) {
            struct sl_slice ks = json_raw(&d, k);
            char kb[16];
            int64_t off;
            if (ks.len == 0 || ks.len >= sizeof kb || json_int(&d, v, &off) != SL_OK)
                continue;
            memcpy(kb, ks.p, ks.len);
            kb[ks.len] = '\0';
            long p = strtol(kb, NULL, 10);
            if (p < 0 || p >= PARTITIONS_MAX || off < 1)
                continue;
            note_offset(job, (int32_t)p, off - 1);
        }
    }
out:
    json_doc_release(&d);
    return rc;
}

/* ---------------------------------------------------------------- MARK: progress */

/* Records read so far, over all workers (workers update their counts
 * without locks; a torn read only makes the bar a little off). */
static int64_t records_read(const struct job *job)
{
    int64_t n = 0;
    for (int i = 0; i < job->nworkers; i++)
        n += __atomic_load_n(&job->workers[i].counts.read, __ATOMIC_RELAXED);
    return n;
}

static void draw_progress(struct job *job, bool final)
{
    if (!job->conf->progress)
        return;
    int64_t now = sl_clock_mono_ms();
    if (!final && now - job->last_draw_ms < 200)
        return;
    job->last_draw_ms = now;
    double secs = (double)(now - job->start_ms) / 1000.0;
    int64_t n = records_read(job);
    double rate = secs > 0 ? (double)n / secs : 0;
    char bar[64] = "";
    if (job->total > 0) {
        int64_t done = n;
        if (job->by_bytes) {
            done = 0;
            for (int i = 0; i < job->nworkers; i++)
                done += __atomic_load_n(&job->workers[i].done_bytes, __ATOMIC_RELAXED);
        }
        double share = (double)done / (double)job->total;
        if (share > 1 || final)
            share = share > 1 ? 1 : share;
        int width = 24, fill = (int)(share * width);
        char cells[32];
        for (int i = 0; i < width; i++)
            cells[i] = i < fill ? '#' : '.';
        cells[width] = '\0';
        snprintf(bar, sizeof bar, " [%s] %3.0f%%", cells, share * 100);
    }
    fprintf(stderr, "\rextract: %lld records, %.0f/s%s  ", (long long)n, rate, bar);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---------------------------------------------------------------- MARK: sources */

static bool want_commit(struct job *job)
{
    const struct extract_conf *conf = job->conf;
    if (!conf->follow)
        return false;
    return sl_clock_mono_ms() - job->last_commit_ms >= conf->commit_ms;
}

/* Stream t's buffered rows into its part (opened here the first time). */
static int stream_table(struct worker *w, struct extract_table *t, struct sl_error *err)
{
    char path[4200];
    path[0] = '\0';
    bool was = extract_table_streaming(t);
    if (!was) {
        if (!extract_table_may_stream(t) || w->streaming >= STREAM_PARTS_MAX)
            return SL_OK;
        int rc = part_path(w->job, w->job->conf->split_by ? extract_table_name(t) : NULL, path,
                           sizeof path, err);
        if (rc != SL_OK)
            return rc;
    }
    int rc = extract_table_stream(t, path, err);
    w->streaming += (int)extract_table_streaming(t) - (int)was;
    return rc;
}

/*
 * Housekeeping between records of worker w: follow-mode commits (only with
 * one worker, which is the case for every source --follow accepts), a
 * table's rows streamed to its part, and spilling parts when w's buffers
 * pass its share of --mem-max.
 */
static int tick(struct worker *w, bool force_check)
{
    struct job *job = w->job;
    const struct extract_conf *conf = job->conf;
    if (w->stream_due) {
        struct extract_table *t = w->stream_due;
        w->stream_due = NULL;
        int rc = stream_table(w, t, job->nworkers == 1 ? job->err : &w->err);
        if (rc != SL_OK)
            return rc;
    }
    if (conf->follow && conf->commit_rows > 0 && w->since_commit >= conf->commit_rows)
        return commit_now(job);
    if (!force_check && (w->counts.read & (MEM_CHECK_EVERY - 1)) != 0)
        return SL_OK;
    if (w == &job->workers[0])
        draw_progress(job, false);
    if (job->nworkers == 1 && want_commit(job))
        return commit_now(job);
    if (buffered(w) > conf->mem_max / (size_t)job->nworkers)
        return write_parts(w, false, job->nworkers == 1 ? job->err : &w->err);
    return SL_OK;
}

static bool stopped(const struct job *job)
{
    return job->conf->stop && *job->conf->stop;
}

/*
 * A stop request in --follow mode is a graceful shutdown: read on up to the
 * high watermarks the broker reports when the stop arrives, so that what the
 * pipeline acknowledged upstream is in the last commit (sluice up relies on
 * this). Returns true once every partition is read that far, the watermarks
 * cannot be had, or DRAIN_MS have passed; the first call fetches them.
 */
#define DRAIN_MS 10000

static bool drained(struct job *job, struct kclient_consumer *cons, int64_t **drain_to,
                    int64_t *deadline)
{
    int32_t np = kclient_consumer_partitions(cons);
    if (!*drain_to) {
        *drain_to = sl_xcalloc((size_t)np + 1, sizeof **drain_to); /* owned by caller */
        *deadline = sl_clock_mono_ms() + DRAIN_MS;
        for (int32_t p = 0; p < np; p++) {
            int64_t low, high;
            struct sl_error qerr = { 0 };
            if (kclient_consumer_query_watermarks(cons, p, &low, &high, 2000, &qerr) != SL_OK) {
                sl_warn("extract: stopping without draining: %s", qerr.msg);
                return true;
            }
            /* nothing to wait for where the partition is empty */
            (*drain_to)[p] = high > low ? high : -1;
        }
    }
    if (sl_clock_mono_ms() >= *deadline) {
        sl_warn("extract: stopping before reaching the high watermark (after %d ms)", DRAIN_MS);
        return true;
    }
    for (int32_t p = 0; p < np; p++) {
        int64_t next = p < job->npart ? job->next_off[p] : -1;
        if ((*drain_to)[p] >= 0 && next < (*drain_to)[p])
            return false;
    }
    return true;
}

static bool at_limit(const struct worker *w)
{
    return w->job->conf->max_records > 0 && w->counts.read >= w->job->conf->max_records;
}

/*
 * A batch read of a topic with several workers: this thread consumes and
 * copies records into batches, the workers parse and buffer them. librdkafka
 * costs about as much per record as the whole pipeline does, so the two
 * halves overlap. Records of one partition may reach different workers;
 * order does not matter, as every row keeps its own partition and offset.
 */
#define BATCH_RECORDS 4096
#define BATCH_BYTES (4u << 20)

static int finish_parallel(struct job *job);
#define QUEUE_BATCHES 8

struct rec {
    size_t off, len;   /* in the batch's data */
    bool null;         /* a null value */
    int32_t partition;
    int64_t offset;
    int64_t ts;        /* ms, or -1 */
};

struct batch {
    struct sl_buf data; /* owned: record values */
    struct rec *recs;   /* owned: BATCH_RECORDS entries */
    size_t n;
};

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch **ready; /* ring of filled batches */
    size_t ready_head, ready_n;
    struct batch **free;  /* stack of empty batches */
    size_t free_n;
    size_t cap;           /* batches in all */
    bool closed;          /* no more batches will come */
};

struct kafka_worker_arg {
    struct worker *w;
    struct queue *q;
};

static void *kafka_worker(void *arg)
{
    struct kafka_worker_arg *a = arg;
    struct worker *w = a->w;
    struct queue *q = a->q;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->ready_n == 0 && !q->closed)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->ready_n == 0) {
            pthread_mutex_unlock(&q->mu);
            break;
        }
        struct batch *b = q->ready[q->ready_head];
        q->ready_head = (q->ready_head + 1) % q->cap;
        q->ready_n--;
        pthread_mutex_unlock(&q->mu);
        for (size_t i = 0; i < b->n && w->rc == SL_OK; i++) {
            const struct rec *r = &b->recs[i];
            struct sl_slice v = r->null ? sl_slice_make(NULL, 0)
                                        : sl_slice_make(b->data.data + r->off, r->len);
            process(w, v, r->partition, r->offset, r->ts);
            w->rc = tick(w, false);
        }
        pthread_mutex_lock(&q->mu);
        q->free[q->free_n++] = b;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
    return NULL;
}

static int consume_parallel(struct job *job, struct kclient_consumer *cons)
{
    int n = job->nworkers;
    struct queue q;
    memset(&q, 0, sizeof q);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    q.cap = QUEUE_BATCHES + (size_t)n;
    struct batch *all = sl_xcalloc(q.cap, sizeof *all);
    q.ready = sl_xcalloc(q.cap, sizeof *q.ready);
    q.free = sl_xcalloc(q.cap, sizeof *q.free);
    for (size_t i = 0; i < q.cap; i++) {
        sl_buf_init(&all[i].data, 0);
        all[i].recs = sl_xmalloc(BATCH_RECORDS * sizeof *all[i].recs);
        q.free[q.free_n++] = &all[i];
    }
    struct kafka_worker_arg args[EXTRACT_THREADS_MAX];
    pthread_t tids[EXTRACT_THREADS_MAX];
    int started = 0;
    for (int i = 0; i < n; i++) {
        args[i].w = &job->workers[i];
        args[i].q = &q;
        if (pthread_create(&tids[i], NULL, kafka_worker, &args[i]) != 0)
            break;
        started++;
    }
    int rc = started == n ? SL_OK : sl_fail(job->err, SL_EIO, "cannot start worker threads");
    int64_t fed = 0;
    bool done = rc != SL_OK;
    while (!done) {
        pthread_mutex_lock(&q.mu);
        while (q.free_n == 0)
            pthread_cond_wait(&q.cv, &q.mu);
        struct batch *b = q.free[--q.free_n];
        pthread_mutex_unlock(&q.mu);
        b->n = 0;
        sl_buf_reset(&b->data);
        while (b->n < BATCH_RECORDS && b->data.len < BATCH_BYTES) {
            if (job->conf->max_records > 0 && fed >= job->conf->max_records) {
                done = true;
                break;
            }
            struct kclient_msg msg;
            int r = kclient_consumer_next(cons, &msg, 100, job->err);
            if (r == SL_EAGAIN) {
                if (b->n > 0)
                    break; /* keep the workers busy while the next fetch comes */
                draw_progress(job, false);
                continue;
            }
            if (r <= 0) {
                rc = r;
                done = true;
                break;
            }
            struct rec *rec = &b->recs[b->n++];
            rec->null = msg.value.p == NULL;
            rec->off = b->data.len;
            rec->len = msg.value.len;
            rec->partition = msg.partition;
            rec->offset = msg.offset;
            rec->ts = msg.timestamp_ms >= 0 ? msg.timestamp_ms : -1;
            if (!rec->null)
                sl_buf_append(&b->data, msg.value.p, msg.value.len);
            note_offset(job, msg.partition, msg.offset);
            fed++;
        }
        pthread_mutex_lock(&q.mu);
        if (b->n > 0) {
            q.ready[(q.ready_head + q.ready_n) % q.cap] = b;
            q.ready_n++;
        } else {
            q.free[q.free_n++] = b;
        }
        pthread_cond_broadcast(&q.cv);
        pthread_mutex_unlock(&q.mu);
        draw_progress(job, false);
    }
    pthread_mutex_lock(&q.mu);
    q.closed = true;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < n && rc == SL_OK; i++) {
        if (job->workers[i].rc != SL_OK) {
            if (!job->err->code)
                *job->err = job->workers[i].err;
            rc = job->workers[i].rc;
        }
    }
    if (rc == SL_OK)
        rc = finish_parallel(job);
    for (size_t i = 0; i < q.cap; i++) {
        sl_buf_release(&all[i].data);
        free(all[i].recs);
    }
    free(all);
    free(q.ready);
    free(q.free);
    pthread_cond_destroy(&q.cv);
    pthread_mutex_destroy(&q.mu);
    return rc;
}

static int run_kafka(struct job *job)
{
    struct extract_conf *conf = job->conf;
    struct worker *w = &job->workers[0];
    int64_t *starts = NULL;
    struct kclient_consumer_conf kc = { 0 };
    kc.bootstrap = conf->bootstrap;
    kc.topic = conf->topic;
    kc.partition = KCLIENT_PARTITION_ALL;
    kc.start = KCLIENT_OFFSET_BEGINNING;
    kc.stop_at_end = !conf->follow;
    if (job->npart > 0) {
        starts = sl_xmalloc((size_t)job->npart * sizeof *starts);
        for (int32_t p = 0; p < job->npart; p++)
            starts[p] = job->next_off[p] >= 0 ? job->next_off[p] : -3;
        kc.start_offsets = starts;
        kc.n_start_offsets = job->npart;
    }
    struct kclient_consumer *cons = kclient_consumer_new(&kc, job->err);
    free(starts);
    if (!cons)
        return job->err->code ? job->err->code : SL_EIO;
    if (!conf->follow) {
        int32_t np = kclient_consumer_partitions(cons);
        for (int32_t p = 0; p < np; p++) {
            int64_t lo, hi;
            if (kclient_consumer_watermarks(cons, p, &lo, &hi) == SL_OK && hi > lo)
                job->total += hi - lo;
        }
    }
    int rc = SL_OK;
    if (job->nworkers > 1) {
        rc = consume_parallel(job, cons);
        kclient_consumer_free(cons);
        return rc;
    }
    int64_t *drain_to = NULL; /* owned: per partition, the high watermark at stop */
    int64_t drain_deadline = 0;
    while (rc == SL_OK && !at_limit(w)) {
        if (stopped(job) && (!conf->follow ||
                             drained(job, cons, &drain_to, &drain_deadline)))
            break;
        struct kclient_msg msg;
        int r = kclient_consumer_next(cons, &msg, 100, job->err);
        if (r == 0)
            break;
        if (r == SL_EAGAIN) {
            rc = tick(w, true);
            continue;
        }
        if (r < 0) {
            rc = r;
            break;
        }
        note_offset(job, msg.partition, msg.offset);
        process(w, msg.value, msg.partition, msg.offset, msg.timestamp_ms >= 0 ? msg.timestamp_ms : -1);
        rc = tick(w, false);
    }
    free(drain_to);
    kclient_consumer_free(cons);
    return rc;
}

/*
 * Feed the complete lines of buf[0..len) to w; returns bytes consumed (up to
 * and including the last newline), or < 0 after a failure. *line counts lines.
 */
static int64_t feed_lines(struct worker *w, const uint8_t *buf, size_t len, int64_t *line,
                          int64_t now, int64_t base)
{
    size_t pos = 0;
    size_t record_max = w->job->conf->record_max;
    for (;;) {
        /* The common line, one object: parse it in place and look for the
         * newline after it, instead of scanning the line twice. Anything
         * else (leading blanks, a second value, a parse error, a record
         * over the cap) takes the line-by-line path below. */
        if (pos < len && buf[pos] == '{') {
            size_t used, cap = len - pos < record_max ? len - pos : record_max;
            struct sl_error perr;
            sl_error_clear(&perr);
            if (json_parse_line(&w->doc, sl_slice_make(buf + pos, cap), &used, &perr) == SL_OK) {
                size_t e = pos + used;
                while (e < len && (buf[e] == ' ' || buf[e] == '\t' || buf[e] == '\r'))
                    e++;
                if (e < len && buf[e] == '\n') {
                    size_t n = e - pos;
                    if (buf[e - 1] == '\r')
                        n--;
                    ++*line;
                    count_read(w);
                    process_doc(w, sl_slice_make(buf + pos, n), 0, *line, now);
                    int rc = tick(w, false);
                    if (rc != SL_OK)
                        return rc;
                    pos = e + 1;
                    if ((*line & 4095) == 0)
                        __atomic_store_n(&w->done_bytes, base + (int64_t)pos, __ATOMIC_RELAXED);
                    if (at_limit(w))
                        break;
                    continue;
                }
            }
        }
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            break;
        size_t end = (size_t)(nl - buf);
        size_t n = end - pos;
        ++*line;
        if (n > 0 && buf[pos + n - 1] == '\r')
            n--;
        /* blank lines are not records */
        size_t k = 0;
        while (k < n && (buf[pos + k] == ' ' || buf[pos + k] == '\t'))
            k++;
        if (k < n) {
            process(w, sl_slice_make(buf + pos, n), 0, *line, now);
            int rc = tick(w, false);
            if (rc != SL_OK)
                return rc;
            if (at_limit(w)) {
                pos = end + 1;
                break;
            }
        }
        pos = end + 1;
        if ((*line & 4095) == 0)
            __atomic_store_n(&w->done_bytes, base + (int64_t)pos, __ATOMIC_RELAXED);
    }
    return (int64_t)pos;
}

/* The streaming reader: stdin, pipes, and files run with one worker. */
static int run_stream(struct job *job, int fd)
{
    struct extract_conf *conf = job->conf;
    struct worker *w = &job->workers[0];
    size_t chunk = 8u << 20;
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    int rc = SL_OK;
    int64_t line = 0, base = 0;
    bool skipping = false; /* inside an over-long line, already reported */
    bool eof = false;
    while (rc == SL_OK && !eof && !stopped(job) && !at_limit(w)) {
        if (sl_buf_reserve(&buf, chunk) != SL_OK) {
            rc = sl_fail(job->err, SL_ELIMIT, "input buffer full");
            break;
        }
        ssize_t n = read(fd, buf.data + buf.len, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sl_fail_errno(job->err, SL_EIO, "cannot read '%s'", conf->input);
            break;
        }
        if (n == 0) {
            eof = true;
            if (buf.len == 0 || skipping)
                break;
            sl_buf_u8(&buf, '\n'); /* a last line without a newline */
        } else {
            sl_buf_setlen(&buf, buf.len + (size_t)n);
        }
        size_t pos = 0;
        if (skipping) {
            const uint8_t *nl = memchr(buf.data, '\n', buf.len);
            if (!nl) {
                base += (int64_t)buf.len;
                sl_buf_reset(&buf);
                continue;
            }
            pos = (size_t)(nl - buf.data) + 1;
            skipping = false;
        }
        int64_t used = feed_lines(w, buf.data + pos, buf.len - pos, &line, sl_clock_wall_ms(),
                                  base + (int64_t)pos);
        if (used < 0) {
            rc = (int)used;
            break;
        }
        pos += (size_t)used;
        base += (int64_t)pos;
        __atomic_store_n(&w->done_bytes, base, __ATOMIC_RELAXED);
        sl_buf_consume(&buf, pos);
        if (buf.len > conf->record_max) {
            /* no newline within the cap: report the line now, skip the rest of it */
            line++;
            process(w, sl_slice_make(buf.data, buf.len), 0, line, sl_clock_wall_ms());
            base += (int64_t)buf.len;
            sl_buf_reset(&buf);
            skipping = true;
        }
    }
    sl_buf_release(&buf);
    return rc;
}

/* The pages wholly inside a slice, [*lo, *hi) (empty when *hi <= *lo); the
 * pages it shares with its neighbours are not among them. */
static void slice_inner_pages(const struct file_slice *sl, uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    *lo = ((uintptr_t)sl->p + page - 1) & ~(page - 1);
    *hi = ((uintptr_t)sl->p + sl->len) & ~(page - 1);
}

/*
 * Unmap the file, but not what workers unmapped already: the kernel may
 * have handed those addresses out again since (to malloc, for the tables
 * written after this), and unmapping them would take that memory away.
 */
static void unmap_file(const uint8_t *map, size_t size, const struct file_slice *slices,
                       size_t n)
{
    uintptr_t from = (uintptr_t)map, end = from + size;
    for (size_t i = 0; i < n; i++) {
        uintptr_t lo, hi;
        slice_inner_pages(&slices[i], &lo, &hi);
        if (!slices[i].inner_unmapped || hi <= lo)
            continue;
        if (lo > from)
            munmap((void *)from, lo - from);
        from = hi;
    }
    if (end > from)
        munmap((void *)from, end - from);
}

/* One worker of a parallel file read. It takes slices until none are left:
 * a worker slowed by something else on the machine takes fewer, instead of
 * holding the others up at the end. */
static void *file_worker(void *arg)
{
    struct worker *w = arg;
    struct job *job = w->job;
    size_t k;
    while (w->rc == SL_OK &&
           (k = __atomic_fetch_add(&job->next_slice, 1, __ATOMIC_RELAXED)) < job->nslices) {
        const struct file_slice *sl = &job->slices[k];
        int64_t line = sl->first_line, done = w->done_bytes;
        int64_t used = feed_lines(w, sl->p, sl->len, &line, sl_clock_wall_ms(), done);
        if (used < 0) {
            w->rc = (int)used;
            break;
        }
        if ((size_t)used < sl->len) {
            /* the file's last line has no newline */
            line++;
            process(w, sl_slice_make(sl->p + used, sl->len - (size_t)used), 0, line,
                    sl_clock_wall_ms());
        }
        __atomic_store_n(&w->done_bytes, done + (int64_t)sl->len, __ATOMIC_RELAXED);
        /* Rows hold copies of what they took from the slice: unmap the pages
         * wholly inside it here, in parallel (run_file unmaps the rest). */
        uintptr_t lo, hi;
        slice_inner_pages(sl, &lo, &hi);
        if (hi > lo)
            munmap((void *)lo, hi - lo);
        job->slices[k].inner_unmapped = true;
    }
    return NULL;
}

/* Newlines in p[0..n): 16 bytes a step (a memchr call per line was 50 ms on
 * 180 MB). */
static size_t count_newlines(const uint8_t *p, size_t n)
{
    size_t count = 0, i = 0;
#ifdef __SSE2__
    /* per-lane byte counters (a match is -1), summed before they can wrap */
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), nl));
        __m128i sums = _mm_sad_epu8(acc, zero);
        count += (size_t)_mm_cvtsi128_si64(sums) + (size_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; i < n; i++)
        count += p[i] == '\n';
    return count;
}

static void *count_worker(void *arg)
{
    struct job *job = ((struct worker *)arg)->job;
    size_t k;
    while ((k = __atomic_fetch_add(&job->next_slice, 1, __ATOMIC_RELAXED)) < job->nslices)
        job->slices[k].nlines = (int64_t)count_newlines(job->slices[k].p, job->slices[k].len);
    return NULL;
}

static void *parts_worker(void *arg)
{
    struct worker *w = arg;
    w->rc = write_parts(w, true, &w->err);
    for (int t = 0; t < w->ntables; t++)
        extract_table_trim(w->tables[t]);
    if (w->corrupt)
        extract_table_trim(w->corrupt);
    return NULL;
}

/* Run fn on every worker, worker 0 on this thread; returns the first failure. */
static int run_all(struct job *job, void *(*fn)(void *))
{
    pthread_t tids[EXTRACT_THREADS_MAX];
    bool started[EXTRACT_THREADS_MAX] = { false };
    for (int i = 1; i < job->nworkers; i++)
        started[i] = pthread_create(&tids[i], NULL, fn, &job->workers[i]) == 0;
    for (int i = 1; i < job->nworkers; i++)
        if (!started[i])
            fn(&job->workers[i]);
    fn(&job->workers[0]);
    for (int i = 1; i < job->nworkers; i++)
        if (started[i])
            pthread_join(tids[i], NULL);
    for (int i = 0; i < job->nworkers; i++) {
        if (job->workers[i].rc != SL_OK) {
            if (job->err && !job->err->code)
                *job->err = job->workers[i].err;
            return job->workers[i].rc;
        }
    }
    return SL_OK;
}

/*
 * A regular file: map it, cut it at line boundaries into slices (several per
 * worker, at least SLICE_MIN bytes), parse the slices in parallel, unify
 * each table's schema across workers, and write every worker's parts in
 * parallel.
 */
#define SLICES_PER_WORKER 8
#define SLICE_MIN (4u << 20)

static int run_file(struct job *job, int fd, size_t size)
{
    const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return sl_fail_errno(job->err, SL_EIO, "cannot map '%s'", job->conf->input);
    madvise((void *)map, size, MADV_SEQUENTIAL);
    size_t n = (size_t)job->nworkers * SLICES_PER_WORKER;
    if (n > size / SLICE_MIN)
        n = size / SLICE_MIN > (size_t)job->nworkers ? size / SLICE_MIN : (size_t)job->nworkers;
    job->slices = sl_xcalloc(n, sizeof *job->slices); /* owned by job */
    size_t start = 0;
    for (size_t i = 0; i < n && start < size; i++) {
        size_t end = i == n - 1 ? size : size / n * (i + 1);
        if (end < start)
            end = start;
        if (i < n - 1) {
            const uint8_t *nl = memchr(map + end, '\n', size - end);
            end = nl ? (size_t)(nl - map) + 1 : size;
        }
        job->slices[job->nslices].p = map + start;
        job->slices[job->nslices++].len = end - start;
        start = end;
    }
    /* a slice's line numbers start after the newlines of those before it */
    int rc = run_all(job, count_worker);
    int64_t lines = 0;
    for (size_t i = 0; i < job->nslices; i++) {
        job->slices[i].first_line = lines;
        lines += job->slices[i].nlines;
    }
    job->next_slice = 0;
    if (rc == SL_OK)
        rc = run_all(job, file_worker);
    if (rc == SL_OK)
        rc = finish_parallel(job);
    unmap_file(map, size, job->slices, job->nslices);
    return rc;
}

/* After parallel workers: one schema per table across them, then every
 * worker writes its parts, in parallel. */
static int finish_parallel(struct job *job)
{
    int n = job->nworkers, rc = SL_OK;
    if (n > 1) {
        struct extract_table **same = sl_xcalloc((size_t)n, sizeof *same);
        for (int i = 0; i < n; i++) {
            struct worker *w = &job->workers[i];
            for (int t = 0; t <= w->ntables; t++) {
                struct extract_table *tab = t < w->ntables ? w->tables[t] : w->corrupt;
                if (!tab)
                    continue;
                const char *name = extract_table_name(tab);
                size_t k = 0;
                for (int j = 0; j < n; j++) {
                    struct worker *o = &job->workers[j];
                    struct extract_table *x =
                        t == w->ntables ? o->corrupt : (j == i ? tab : find_table(o, name));
                    if (x)
                        same[k++] = x;
                }
                extract_table_unify(same, k);
            }
        }
        free(same);
        rc = run_all(job, parts_worker);
    }
    return rc;
}

static int run_input(struct job *job)
{
    struct extract_conf *conf = job->conf;
    bool is_stdin = strcmp(conf->input, "-") == 0;
    int fd = is_stdin ? 0 : open(conf->input, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_fail_errno(job->err, SL_EIO, "cannot open '%s'", conf->input);
    struct stat st;
    int rc;
    if (!is_stdin && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        conf->max_records == 0) {
        job->total = st.st_size;
        job->by_bytes = true;
        rc = run_file(job, fd, (size_t)st.st_size);
    } else {
        job->nworkers = 1;
        rc = run_stream(job, fd);
    }
    if (!is_stdin)
        close(fd);
    return rc;
}

/* ---------------------------------------------------------------- MARK: run */

static void worker_init(struct worker *w, struct job *job)
{
    memset(w, 0, sizeof *w);
    w->job = job;
    w->cached_ts_ms = INT64_MIN;
    json_doc_init(&w->doc);
    extract_row_init(&w->row);
    extract_row_init(&w->crow);
    if (!job->conf->split_by) {
        const char *out = job->conf->out;
        const char *slash = strrchr(out, '/');
        add_table(w, slash && slash[1] ? slash + 1 : out);
    }
}

static void worker_release(struct worker *w)
{
    for (int t = 0; t < w->ntables; t++)
        extract_table_free(w->tables[t]);
    free(w->tables);
    extract_table_free(w->corrupt);
    extract_row_release(&w->row);
    extract_row_release(&w->crow);
    json_doc_release(&w->doc);
}

static int setup(struct job *job)
{
    struct extract_conf *conf = job->conf;
    if (!conf->out || !*conf->out)
        return sl_fail(job->err, SL_EUSAGE, "--out is required");
    if (!conf->topic == !conf->input)
        return sl_fail(job->err, SL_EUSAGE, "give either a topic (-t) or --input");
    if (conf->follow && conf->input)
        return sl_fail(job->err, SL_EUSAGE, "--follow works with a topic, not --input");
    if (conf->split_by && !*conf->split_by)
        return sl_fail(job->err, SL_EUSAGE, "--split-by needs a field name");
    if (conf->where) {
        job->where = extract_where_compile(conf->where, job->err);
        if (!job->where)
            return SL_EUSAGE;
    }
    job->sets = sl_xcalloc((size_t)conf->nsets + 1, sizeof *job->sets);
    for (int i = 0; i < conf->nsets; i++) {
        const char *s = conf->sets[i];
        const char *eq = strchr(s, '=');
        if (!eq || eq == s)
            return sl_fail(job->err, SL_EUSAGE, "--set wants KEY=VALUE, got '%s'", s);
        if ((size_t)(eq - s) > EXTRACT_NAME_MAX)
            return sl_fail(job->err, SL_EUSAGE, "--set key longer than %d bytes", EXTRACT_NAME_MAX);
        job->sets[i].key = sl_slice_make(s, (size_t)(eq - s));
        job->sets[i].val = sl_slice_str(eq + 1);
        job->nsets++;
    }
    if (!conf->mode_given)
        conf->mode = conf->follow ? EXTRACT_MODE_APPEND : EXTRACT_MODE_ERROR;
    if (conf->commit_ms <= 0)
        conf->commit_ms = 10000;
    if (conf->mem_max == 0)
        conf->mem_max = 512u << 20;
    if (conf->record_max == 0)
        conf->record_max = 16u << 20;
    int threads = conf->threads;
    if (threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
    }
    if (threads > EXTRACT_THREADS_MAX)
        threads = EXTRACT_THREADS_MAX;
    /* several workers for files and batch topic reads; --follow commits
     * between records, so it runs on one thread */
    job->nworkers = conf->follow ? 1 : threads;
    job->nalloc = job->nworkers;
    job->workers = sl_xcalloc((size_t)job->nalloc, sizeof *job->workers);
    for (int i = 0; i < job->nalloc; i++)
        worker_init(&job->workers[i], job);
    job->commit = extract_commit_open(conf->out, conf->mode, job->err);
    if (!job->commit)
        return job->err->code ? job->err->code : SL_EIO;
    if (conf->follow && conf->mode != EXTRACT_MODE_OVERWRITE)
        return load_offsets(job);
    return SL_OK;
}

/* Per-table row counts of the run, summed over workers, for the summary. */
static void report_tables(struct job *job)
{
    struct extract_conf *conf = job->conf;
    int cap = 1;
    for (int i = 0; i < job->nworkers; i++)
        cap += job->workers[i].ntables + 1;
    conf->table_names = sl_xcalloc((size_t)cap, sizeof *conf->table_names);
    conf->table_rows = sl_xcalloc((size_t)cap, sizeof *conf->table_rows);
    conf->ntables = 0;
    for (int pass = 0; pass < 2; pass++) { /* data tables, then _corrupt */
        for (int i = 0; i < job->nworkers; i++) {
            struct worker *w = &job->workers[i];
            for (int t = 0; t <= w->ntables; t++) {
                struct extract_table *tab = t < w->ntables ? w->tables[t] : w->corrupt;
                if (!tab || (pass == 0) != (t < w->ntables))
                    continue;
                int64_t rows = extract_table_written(tab) + extract_table_rows(tab);
                int k = 0;
                while (k < conf->ntables && strcmp(conf->table_names[k], extract_table_name(tab)))
                    k++;
                if (k == conf->ntables)
                    conf->table_names[conf->ntables++] = sl_xstrdup(extract_table_name(tab));
                conf->table_rows[k] += rows;
            }
        }
    }
}

int extract_run(struct extract_conf *conf, struct sl_error *err)
{
    struct job job;
    memset(&job, 0, sizeof job);
    job.conf = conf;
    job.err = err;
    pthread_mutex_init(&job.lock, NULL);
    memset(&conf->counts, 0, sizeof conf->counts);
    int rc = setup(&job);
    /* --follow commits parts as it goes; a batch run streams to its parts */
    job.stream = !conf->follow;
    if (rc == SL_OK) {
        job.start_ms = job.last_commit_ms = sl_clock_mono_ms();
        rc = conf->input ? run_input(&job) : run_kafka(&job);
        draw_progress(&job, true);
        /* A runtime error commits nothing: --out stays as it was (in
         * --follow, as of the last commit), so a rerun neither loses nor
         * repeats a record. */
        if (rc == SL_OK)
            rc = commit_now(&job);
    }
    for (int i = 0; i < job.nworkers; i++) {
        const struct extract_counts *c = &job.workers[i].counts;
        conf->counts.read += c->read;
        conf->counts.corrupt += c->corrupt;
        conf->counts.filtered += c->filtered;
        conf->counts.written += c->written;
    }
    report_tables(&job);
    for (int i = 0; i < job.nalloc; i++)
        worker_release(&job.workers[i]);
    free(job.workers);
    free(job.slices);
    extract_commit_free(job.commit);
    extract_where_free(job.where);
    free(job.sets);
    free(job.next_off);
    pthread_mutex_destroy(&job.lock);
    return rc;
}

void extract_conf_release(struct extract_conf *conf)
{
    if (!conf)
        return;
    for (int t = 0; t < conf->ntables; t++)
        free(conf->table_names[t]);
    free(conf->table_names);
    free(conf->table_rows);
    conf->table_names = NULL;
    conf->table_rows = NULL;
    conf->ntables = 0;
}
