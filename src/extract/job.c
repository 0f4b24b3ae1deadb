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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

struct job {
    struct extract_conf *conf;      /* borrowed */
    struct extract_where *where;    /* owned; NULL: keep all */
    struct set_pair *sets;          /* owned */
    int nsets;
    struct extract_commit *commit;  /* owned */
    struct json_doc doc;
    struct extract_row row;
    struct extract_row crow;        /* the row of a corrupt record */
    struct extract_table **tables;  /* owned; [0] is the single table without split */
    int ntables;
    struct extract_table *corrupt;  /* owned; NULL until the first corrupt record */
    struct extract_table *last_table; /* borrowed: cache for --split-by */
    int64_t *next_off;              /* owned: per partition, next offset to read (-1: none) */
    int32_t npart;
    int64_t since_commit;           /* records read since the last commit */
    int64_t last_commit_ms;         /* monotonic */
    int64_t cached_ts_ms;           /* timestamp text cache */
    char cached_ts[24];
    /* progress */
    int64_t start_ms, last_draw_ms;
    int64_t total;                  /* records expected (watermarks) or bytes (input) */
    int64_t done_bytes;             /* --input: bytes consumed */
    bool by_bytes;
    struct sl_error *err;
};

static void ts_text(struct job *job, int64_t ms)
{
    if (ms != job->cached_ts_ms) {
        extract_ts_format(ms, job->cached_ts);
        job->cached_ts_ms = ms;
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

static struct extract_table *table_for(struct job *job)
{
    if (!job->conf->split_by)
        return job->tables[0];
    const char *field = job->conf->split_by;
    long i = extract_row_find(&job->row, field, strlen(field));
    char name[TABLE_NAME_MAX + 8];
    table_name_for(i >= 0 ? &job->row.f[i] : NULL, name, sizeof name);
    if (job->last_table && strcmp(extract_table_name(job->last_table), name) == 0)
        return job->last_table;
    for (int t = 0; t < job->ntables; t++) {
        if (strcmp(extract_table_name(job->tables[t]), name) == 0)
            return job->last_table = job->tables[t];
    }
    if (job->ntables >= TABLES_MAX)
        return NULL;
    job->tables = sl_xrealloc(job->tables, (size_t)(job->ntables + 1) * sizeof *job->tables);
    job->tables[job->ntables] = extract_table_new(name, job->conf->meta);
    return job->last_table = job->tables[job->ntables++];
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

static void add_corrupt(struct job *job, struct sl_slice raw, const char *why, int32_t partition,
                        int64_t offset, int64_t ts_ms)
{
    job->conf->counts.corrupt++;
    if (!job->corrupt)
        job->corrupt = extract_table_new(CORRUPT_TABLE, false);
    struct extract_row *r = &job->crow;
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
        ts_text(job, ts_ms);
        extract_row_set_str(r, sl_slice_str("timestamp"), sl_slice_str(job->cached_ts));
    }
    extract_table_add(job->corrupt, r, partition, offset, ts_ms);
    sl_buf_release(&scratch);
    json_doc_release(&d);
    sl_buf_release(&b);
}

static void process(struct job *job, struct sl_slice value, int32_t partition, int64_t offset,
                    int64_t ts_ms)
{
    struct extract_conf *conf = job->conf;
    conf->counts.read++;
    job->since_commit++;
    note_offset(job, partition, offset);
    if (!value.p) {
        add_corrupt(job, value, "null record value", partition, offset, ts_ms);
        return;
    }
    if (value.len > conf->record_max) {
        char why[96];
        snprintf(why, sizeof why, "record of %zu bytes is longer than the cap of %zu",
                 value.len, conf->record_max);
        add_corrupt(job, value, why, partition, offset, ts_ms);
        return;
    }
    struct sl_error perr = { 0 };
    if (json_parse(&job->doc, value, &perr) != SL_OK) {
        add_corrupt(job, value, perr.msg, partition, offset, ts_ms);
        return;
    }
    extract_row_reset(&job->row);
    if (extract_flatten(&job->row, &job->doc, json_root(&job->doc), &perr) != SL_OK) {
        add_corrupt(job, value, perr.msg, partition, offset, ts_ms);
        return;
    }
    if (ts_ms >= 0) {
        ts_text(job, ts_ms);
        extract_row_set_str(&job->row, sl_slice_str("timestamp"), sl_slice_str(job->cached_ts));
    }
    for (int i = 0; i < job->nsets; i++)
        extract_row_set_str(&job->row, job->sets[i].key, job->sets[i].val);
    if (job->where && !extract_where_eval(job->where, &job->row)) {
        conf->counts.filtered++;
        return;
    }
    struct extract_table *t = table_for(job);
    if (!t) {
        add_corrupt(job, value, "too many --split-by tables", partition, offset, ts_ms);
        return;
    }
    extract_table_add(t, &job->row, partition, offset, ts_ms);
    conf->counts.written++;
}

/* ---------------------------------------------------------------- MARK: parts and commits */

static int write_parts(struct job *job)
{
    bool single = !job->conf->split_by;
    for (int t = 0; t < job->ntables; t++) {
        if (extract_table_rows(job->tables[t]) == 0)
            continue;
        const char *path = extract_commit_part_path(
            job->commit, single ? NULL : extract_table_name(job->tables[t]), job->err);
        if (!path)
            return job->err->code ? job->err->code : SL_EIO;
        int rc = extract_table_write(job->tables[t], path, job->err);
        if (rc != SL_OK)
            return rc;
    }
    if (job->corrupt && extract_table_rows(job->corrupt) > 0) {
        const char *path = extract_commit_part_path(job->commit, CORRUPT_TABLE, job->err);
        if (!path)
            return job->err->code ? job->err->code : SL_EIO;
        return extract_table_write(job->corrupt, path, job->err);
    }
    return SL_OK;
}

static size_t buffered(const struct job *job)
{
    size_t m = job->corrupt ? extract_table_mem(job->corrupt) : 0;
    for (int t = 0; t < job->ntables; t++)
        m += extract_table_mem(job->tables[t]);
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
    return (char *)sl_buf_detach(&b, NULL);
}

static int commit_now(struct job *job)
{
    int rc = write_parts(job);
    if (rc != SL_OK)
        return rc;
    char *off = offsets_json(job);
    rc = extract_commit_publish(job->commit, off, job->err);
    free(off);
    if (rc == SL_OK) {
        job->conf->counts.commits++;
        job->since_commit = 0;
        sl_debug("extract: committed '%s' after %lld records", job->conf->out,
                 (long long)job->conf->counts.read);
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

static void draw_progress(struct job *job, bool final)
{
    if (!job->conf->progress)
        return;
    int64_t now = sl_clock_mono_ms();
    if (!final && now - job->last_draw_ms < 200)
        return;
    job->last_draw_ms = now;
    double secs = (double)(now - job->start_ms) / 1000.0;
    int64_t n = job->conf->counts.read;
    double rate = secs > 0 ? (double)n / secs : 0;
    char bar[64] = "";
    if (job->total > 0) {
        int64_t done = job->by_bytes ? job->done_bytes : n;
        double share = (double)done / (double)job->total;
        if (share > 1)
            share = 1;
        int w = 24, fill = (int)(share * w);
        char cells[32];
        for (int i = 0; i < w; i++)
            cells[i] = i < fill ? '#' : '.';
        cells[w] = '\0';
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
    if (conf->commit_rows > 0 && job->since_commit >= conf->commit_rows)
        return true;
    return sl_clock_mono_ms() - job->last_commit_ms >= conf->commit_ms;
}

/* Housekeeping between records: spill at --mem-max, follow-mode commits. */
static int tick(struct job *job, bool force_check)
{
    if (job->conf->follow && job->conf->commit_rows > 0 &&
        job->since_commit >= job->conf->commit_rows)
        return commit_now(job);
    if (!force_check && (job->conf->counts.read & (MEM_CHECK_EVERY - 1)) != 0)
        return SL_OK;
    draw_progress(job, false);
    if (want_commit(job))
        return commit_now(job);
    if (buffered(job) > job->conf->mem_max)
        return write_parts(job);
    return SL_OK;
}

static bool stopped(const struct job *job)
{
    return job->conf->stop && *job->conf->stop;
}

static bool at_limit(const struct job *job)
{
    return job->conf->max_records > 0 && job->conf->counts.read >= job->conf->max_records;
}

static int run_kafka(struct job *job)
{
    struct extract_conf *conf = job->conf;
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
    while (rc == SL_OK && !stopped(job) && !at_limit(job)) {
        struct kclient_msg msg;
        int r = kclient_consumer_next(cons, &msg, 100, job->err);
        if (r == 0)
            break;
        if (r == SL_EAGAIN) {
            rc = tick(job, true);
            continue;
        }
        if (r < 0) {
            rc = r;
            break;
        }
        int64_t ts = msg.timestamp_ms >= 0 ? msg.timestamp_ms : -1;
        process(job, msg.value, msg.partition, msg.offset, ts);
        rc = tick(job, false);
    }
    kclient_consumer_free(cons);
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
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        job->total = st.st_size;
        job->by_bytes = true;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    size_t chunk = 8u << 20;
    struct sl_buf buf;
    sl_buf_init(&buf, 0);
    int rc = SL_OK;
    int64_t line = 0;
    bool skipping = false; /* inside an over-long line, already reported */
    bool eof = false;
    while (rc == SL_OK && !eof && !stopped(job) && !at_limit(job)) {
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
        int64_t now = sl_clock_wall_ms();
        size_t pos = 0;
        for (;;) {
            uint8_t *nl = memchr(buf.data + pos, '\n', buf.len - pos);
            if (!nl)
                break;
            size_t end = (size_t)(nl - buf.data);
            size_t len = end - pos;
            line++;
            if (skipping) {
                skipping = false;
            } else {
                if (len > 0 && buf.data[pos + len - 1] == '\r')
                    len--;
                /* blank lines are not records */
                size_t k = 0;
                while (k < len && (buf.data[pos + k] == ' ' || buf.data[pos + k] == '\t'))
                    k++;
                if (k < len) {
                    process(job, sl_slice_make(buf.data + pos, len), 0, line, now);
                    rc = tick(job, false);
                    if (rc != SL_OK || at_limit(job))
                        break;
                }
            }
            pos = end + 1;
        }
        job->done_bytes += (int64_t)pos;
        sl_buf_consume(&buf, pos);
        if (!skipping && buf.len > conf->record_max) {
            /* no newline within the cap: report it now, skip to the next newline */
            line++;
            process(job, sl_slice_make(buf.data, buf.len), 0, line, now);
            line--;
            job->done_bytes += (int64_t)buf.len;
            sl_buf_reset(&buf);
            skipping = true;
        } else if (skipping) {
            job->done_bytes += (int64_t)buf.len;
            sl_buf_reset(&buf);
        }
    }
    sl_buf_release(&buf);
    if (!is_stdin)
        close(fd);
    return rc;
}

/* ---------------------------------------------------------------- MARK: run */

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
    job->commit = extract_commit_open(conf->out, conf->mode, job->err);
    if (!job->commit)
        return job->err->code ? job->err->code : SL_EIO;
    if (conf->follow && conf->mode != EXTRACT_MODE_OVERWRITE) {
        int rc = load_offsets(job);
        if (rc != SL_OK)
            return rc;
    }
    if (!conf->split_by) {
        job->tables = sl_xmalloc(sizeof *job->tables);
        const char *slash = strrchr(conf->out, '/');
        job->tables[0] = extract_table_new(slash && slash[1] ? slash + 1 : conf->out, conf->meta);
        job->ntables = 1;
    }
    return SL_OK;
}

int extract_run(struct extract_conf *conf, struct sl_error *err)
{
    struct job job;
    memset(&job, 0, sizeof job);
    job.conf = conf;
    job.err = err;
    job.cached_ts_ms = INT64_MIN;
    json_doc_init(&job.doc);
    extract_row_init(&job.row);
    extract_row_init(&job.crow);
    memset(&conf->counts, 0, sizeof conf->counts);
    int rc = setup(&job);
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
    conf->ntables = job.ntables + (job.corrupt ? 1 : 0);
    conf->table_names = sl_xcalloc((size_t)conf->ntables + 1, sizeof *conf->table_names);
    conf->table_rows = sl_xcalloc((size_t)conf->ntables + 1, sizeof *conf->table_rows);
    for (int t = 0; t < job.ntables; t++) {
        conf->table_names[t] = sl_xstrdup(extract_table_name(job.tables[t]));
        conf->table_rows[t] = extract_table_written(job.tables[t]) + extract_table_rows(job.tables[t]);
    }
    if (job.corrupt) {
        conf->table_names[job.ntables] = sl_xstrdup(CORRUPT_TABLE);
        conf->table_rows[job.ntables] =
            extract_table_written(job.corrupt) + extract_table_rows(job.corrupt);
    }
    for (int t = 0; t < job.ntables; t++)
        extract_table_free(job.tables[t]);
    free(job.tables);
    extract_table_free(job.corrupt);
    extract_commit_free(job.commit);
    extract_where_free(job.where);
    free(job.sets);
    free(job.next_off);
    extract_row_release(&job.row);
    extract_row_release(&job.crow);
    json_doc_release(&job.doc);
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
