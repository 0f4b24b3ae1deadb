/*
 * sql_lake.c: finding tables in the lake, and `sluice ls`.
 *
 * A lake is a directory; every directory directly under it that holds
 * Parquet files is a table named after the directory (`_corrupt` too; not
 * dot-names or `_temporary`), the layout `sluice
 * extract` writes and Spark's `df.write.parquet(dir)` too. A table's part
 * files are the regular files below its directory, recursively (Hive-style
 * `key=value/` partition directories are walked, their values not turned
 * into columns), skipping names that start with `_` or `.` as Spark does
 * (`_SUCCESS`, `_temporary/`, `.part-0.parquet.tmp`).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "parquet/pq.h"
#include "sql/sql_int.h"

#define DEPTH_MAX 16 /* partition directories nested deeper are not walked */

/* ---------------------------------------------------------------- MARK: files */

struct names {
    char **v;
    size_t n, cap;
};

static void names_push(struct names *ns, char *s)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = sl_xrealloc(ns->v, ns->cap * sizeof *ns->v);
    }
    ns->v[ns->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    char *p = sl_xmalloc(n + strlen(name) + 2);
    memcpy(p, dir, n);
    size_t o = n;
    if (n && dir[n - 1] != '/')
        p[o++] = '/';
    strcpy(p + o, name);
    return p;
}

static bool hidden(const char *name)
{
    return name[0] == '_' || name[0] == '.';
}

static int walk(const char *dir, int depth, struct names *out, struct sl_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sl_fail_errno(err, SL_EIO, "cannot read directory '%s'", dir);
    struct dirent *e;
    int rc = SL_OK;
    while (rc == SL_OK && (e = readdir(d)) != NULL) {
        if (hidden(e->d_name))
            continue;
        char *p = join(dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) {
            free(p);
            continue; /* vanished since readdir (an overwrite in progress) */
        }
        if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX) {
            rc = walk(p, depth + 1, out, err);
            free(p);
        } else if (S_ISREG(st.st_mode)) {
            names_push(out, p);
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

int sql_files_collect(const char *path, char ***files, size_t *nfiles, struct sl_error *err)
{
    struct stat st;
    struct names ns = { 0 };
    *files = NULL;
    *nfiles = 0;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return sl_fail(err, SL_ENOTFOUND, "no such file or directory '%s'", path);
        return sl_fail_errno(err, SL_EIO, "cannot stat '%s'", path);
    }
    if (S_ISDIR(st.st_mode)) {
        int rc = walk(path, 0, &ns, err);
        if (rc != SL_OK) {
            for (size_t k = 0; k < ns.n; k++)
                free(ns.v[k]);
            free(ns.v);
            return rc;
        }
        if (ns.n > 1)
            qsort(ns.v, ns.n, sizeof *ns.v, cmp_str);
    } else {
        names_push(&ns, sl_xstrdup(path));
    }
    *files = ns.v;
    *nfiles = ns.n;
    return SL_OK;
}

/* true when the file looks like Parquet: named *.parquet or framed by "PAR1". */
static bool looks_parquet(const char *path, off_t size)
{
    size_t n = strlen(path);
    if (n >= 8 && strcmp(path + n - 8, ".parquet") == 0)
        return true;
    if (size < 12)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char head[4], tail[4];
    bool ok = pread(fd, head, 4, 0) == 4 && pread(fd, tail, 4, size - 4) == 4 &&
              memcmp(head, "PAR1", 4) == 0 && memcmp(tail, "PAR1", 4) == 0;
    close(fd);
    return ok;
}

/* ---------------------------------------------------------------- MARK: tables */

void sql_tables_release(struct sql_tables *tables)
{
    if (!tables)
        return;
    for (size_t k = 0; k < tables->n; k++) {
        struct sql_table *t = &tables->v[k];
        free(t->name);
        free(t->path);
        for (size_t f = 0; f < t->nfiles; f++)
            free(t->files[f]);
        free(t->files);
    }
    free(tables->v);
    tables->v = NULL;
    tables->n = 0;
}

static bool any_parquet(char **files, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct stat st;
        if (stat(files[k], &st) == 0 && looks_parquet(files[k], st.st_size))
            return true;
    }
    return false;
}

static void push_table(struct sql_tables *tables, const char *name, const char *path,
                       char **files, size_t nfiles)
{
    tables->v = sl_xrealloc(tables->v, (tables->n + 1) * sizeof *tables->v);
    struct sql_table *t = &tables->v[tables->n++];
    t->name = sl_xstrdup(name);
    t->path = sl_xstrdup(path);
    t->files = files;
    t->nfiles = nfiles;
}

static void free_files(char **files, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(files[k]);
    free(files);
}

int sql_table_add(struct sql_tables *tables, const char *name, const char *path,
                  struct sl_error *err)
{
    char **files;
    size_t n;
    int rc = sql_files_collect(path, &files, &n, err);
    if (rc != SL_OK)
        return rc;
    struct stat st;
    if (n == 0 || (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && !any_parquet(files, n))) {
        free_files(files, n);
        return sl_fail(err, SL_ENOTFOUND, "no Parquet files in '%s'", path);
    }
    push_table(tables, name, path, files, n);
    return SL_OK;
}

int sql_lake_scan(const char *dir, struct sql_tables *tables, struct sl_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return SL_OK;
        return sl_fail_errno(err, SL_EIO, "cannot read lake '%s'", dir);
    }
    struct names subdirs = { 0 };
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* Unlike inside a table, `_` names are tables here: extract's
         * `_corrupt` table must be queryable. Spark's in-progress
         * `_temporary` and dot-names (extract's pending versions) are not. */
        if (e->d_name[0] == '.' || strcmp(e->d_name, "_temporary") == 0)
            continue;
        char *p = join(dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            names_push(&subdirs, p);
        else
            free(p);
    }
    closedir(d);
    if (subdirs.n > 1)
        qsort(subdirs.v, subdirs.n, sizeof *subdirs.v, cmp_str);
    int rc = SL_OK;
    for (size_t k = 0; k < subdirs.n; k++) {
        char **files;
        size_t n;
        if (rc == SL_OK && sql_files_collect(subdirs.v[k], &files, &n, err) == SL_OK) {
            if (any_parquet(files, n))
                push_table(tables, strrchr(subdirs.v[k], '/') + 1, subdirs.v[k], files, n);
            else
                free_files(files, n);
        }
        free(subdirs.v[k]);
    }
    free(subdirs.v);
    return rc;
}

/* ---------------------------------------------------------------- MARK: ls */

struct entry {
    char *path;        /* owned */
    struct stat st;
    int64_t rows;      /* -1: not Parquet; -2: Parquet that failed to decode */
    int64_t bytes;     /* directories: total of the files below */
    size_t parts;      /* directories: Parquet files below */
};

/* Rows of a Parquet file, -1 when it is not one, -2 when it is broken. */
static int64_t file_rows(const char *path, off_t size, struct sl_buf *warn)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (hidden(base) || !looks_parquet(path, size))
        return -1;
    struct sl_error err = { 0 };
    struct pq_file *f = pq_file_open(path, &err);
    if (!f) {
        sl_buf_appendf(warn, "warning: %s\n", err.msg);
        return -2;
    }
    int64_t rows = f->num_rows;
    pq_file_free(f);
    return rows;
}

static void fill_dir_totals(struct entry *e, struct sl_buf *warn)
{
    char **files;
    size_t n;
    struct sl_error err = { 0 };
    e->rows = -1;
    e->bytes = 0;
    if (sql_files_collect(e->path, &files, &n, &err) != SL_OK)
        return;
    for (size_t k = 0; k < n; k++) {
        struct stat st;
        if (stat(files[k], &st) != 0)
            continue;
        e->bytes += st.st_size;
        int64_t r = file_rows(files[k], st.st_size, warn);
        if (r >= 0) {
            e->rows = (e->rows < 0 ? 0 : e->rows) + r;
            e->parts++;
        }
    }
    free_files(files, n);
}

static void put_entry(const struct entry *e, struct sl_buf *out)
{
    char perms[11] = "----------";
    mode_t m = e->st.st_mode;
    perms[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : '-';
    const char *rwx = "rwxrwxrwx";
    for (int k = 0; k < 9; k++)
        if (m & (1u << (8 - k)))
            perms[1 + k] = rwx[k];
    char when[32];
    struct tm tm;
    time_t t = e->st.st_mtime;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    char rows[32];
    if (e->rows == -2)
        snprintf(rows, sizeof rows, "?");
    else if (e->rows < 0)
        snprintf(rows, sizeof rows, "-");
    else
        snprintf(rows, sizeof rows, "%lld", (long long)e->rows);
    sl_buf_appendf(out, "%s %12lld %s %12s %s\n", perms,
                   (long long)(S_ISDIR(m) ? e->bytes : e->st.st_size), when, rows, e->path);
}

int sql_ls(const char *path, struct sl_buf *out, struct sl_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return sl_fail(err, SL_ENOTFOUND, "no such file or directory '%s'", path);
        return sl_fail_errno(err, SL_EIO, "cannot stat '%s'", path);
    }
    struct sl_buf warn;
    sl_buf_init(&warn, 0);
    if (!S_ISDIR(st.st_mode)) {
        struct entry e = { .path = (char *)path, .st = st };
        e.rows = file_rows(path, st.st_size, &warn);
        sl_buf_append_str(out, "Found 1 items\n");
        put_entry(&e, out);
        sl_buf_append_slice(out, sl_buf_slice(&warn));
        sl_buf_release(&warn);
        return SL_OK;
    }
    DIR *d = opendir(path);
    if (!d) {
        sl_buf_release(&warn);
        return sl_fail_errno(err, SL_EIO, "cannot read directory '%s'", path);
    }
    struct entry *v = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct entry e = { .path = join(path, de->d_name) };
        if (lstat(e.path, &e.st) != 0) {
            free(e.path);
            continue;
        }
        v = sl_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = e;
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str); /* path is the first field */
    int64_t rows = 0, bytes = 0;
    size_t parts = 0;
    for (size_t k = 0; k < n; k++) {
        if (S_ISDIR(v[k].st.st_mode)) {
            fill_dir_totals(&v[k], &warn);
        } else {
            v[k].rows = file_rows(v[k].path, v[k].st.st_size, &warn);
            v[k].bytes = v[k].st.st_size;
            if (v[k].rows >= 0)
                parts++;
            if (v[k].rows >= 0)
                rows += v[k].rows;
            bytes += v[k].st.st_size;
        }
    }
    sl_buf_appendf(out, "Found %zu items\n", n);
    for (size_t k = 0; k < n; k++) {
        put_entry(&v[k], out);
        free(v[k].path);
    }
    free(v);
    if (parts > 0)
        sl_buf_appendf(out, "total: %lld rows in %zu Parquet file%s, %lld bytes\n",
                       (long long)rows, parts, parts == 1 ? "" : "s", (long long)bytes);
    sl_buf_append_slice(out, sl_buf_slice(&warn));
    sl_buf_release(&warn);
    return SL_OK;
}
