/*
 * sql_out.c: how `sluice sql` prints a result: an aligned table like Spark's
 * show() (cells past the truncation width cut to width-3 characters + "..."),
 * CSV, JSON lines or a Markdown table.
 *
 * CSV (lines end in "\n", as DuckDB's and psql's do) and JSON stream: each row is appended to out->buf and the buffer goes
 * to the FILE whenever it passes 64 KiB. The table and Markdown modes need
 * every width before the first line, so they keep the rendered cells in
 * out->cells as records [kind u8][len u32][bytes] and print at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "sql/sql.h"

#define FLUSH_AT (64u << 10)

/* ---------------------------------------------------------------- MARK: values */

int sql_real_format(double d, struct sl_buf *out)
{
    if (isnan(d))
        return sl_buf_append_str(out, "NaN");
    if (isinf(d))
        return sl_buf_append_str(out, d < 0 ? "-Inf" : "Inf");
    /* Fast path: a whole number, or one with up to 6 decimals whose shortest
     * form is that decimal (checked by reading it back). */
    double a = fabs(d);
    if (a < 1e15 && a >= 1e-4) {
        for (int k = 0, scale = 1; k <= 6; k++, scale *= 10) {
            double m = a * scale;
            if (m >= 9e15)
                break;
            double r = nearbyint(m);
            if (r != m)
                continue;
            uint64_t whole = (uint64_t)r / (uint64_t)scale, frac = (uint64_t)r % (uint64_t)scale;
            char tmp[48], *p = tmp + sizeof tmp;
            int digits = k;
            if (k == 0) {
                *--p = '0';
                *--p = '.';
            } else {
                while (digits > 0 && frac % 10 == 0 && digits > 1) {
                    frac /= 10;
                    digits--;
                }
                for (int q = 0; q < digits; q++) {
                    *--p = (char)('0' + frac % 10);
                    frac /= 10;
                }
                *--p = '.';
            }
            do {
                *--p = (char)('0' + whole % 10);
                whole /= 10;
            } while (whole);
            if (d < 0)
                *--p = '-';
            size_t n = (size_t)(tmp + sizeof tmp - p);
            char chk[48];
            memcpy(chk, p, n);
            chk[n] = 0;
            if (strtod(chk, NULL) == d)
                return sl_buf_append(out, p, n);
            break;
        }
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.16g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    /* A whole number keeps a ".0" so that REAL stays visibly REAL. */
    if (!strpbrk(tmp, ".eEn"))
        strcat(tmp, ".0");
    return sl_buf_append_str(out, tmp);
}

/* Decimal text of v, without printf (the hot path of CSV and JSON output). */
static int put_int(struct sl_buf *out, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return sl_buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

/* The display text of a cell (NULL as "NULL", blobs as X'hex'). */
static int cell_text(const struct sql_cell *c, struct sl_buf *out)
{
    switch (c->kind) {
    case SQL_NULL:
        return sl_buf_append_str(out, "NULL");
    case SQL_INT:
        return put_int(out, c->i);
    case SQL_REAL:
        return sql_real_format(c->d, out);
    case SQL_TEXT:
        return sl_buf_append(out, c->s, c->len);
    case SQL_BLOB: {
        int rc = sl_buf_append_str(out, "X'");
        for (size_t k = 0; rc == SL_OK && k < c->len; k++)
            rc = sl_buf_appendf(out, "%02X", (unsigned char)c->s[k]);
        return rc ? rc : sl_buf_append_str(out, "'");
    }
    }
    return SL_OK;
}

/* Characters (UTF-8 code points) in s[0..len). */
static size_t utf8_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t k = 0; k < len; k++)
        w += ((unsigned char)s[k] & 0xC0) != 0x80;
    return w;
}

/* Bytes of the first `chars` code points of s[0..len). */
static size_t utf8_prefix(const char *s, size_t len, size_t chars)
{
    size_t k = 0, seen = 0;
    for (; k < len; k++) {
        if (((unsigned char)s[k] & 0xC0) != 0x80) {
            if (seen == chars)
                break;
            seen++;
        }
    }
    return k;
}

/* ---------------------------------------------------------------- MARK: modes */

int sql_mode_parse(const char *name, enum sql_mode *mode)
{
    static const struct {
        const char *name;
        enum sql_mode mode;
    } names[] = { { "table", SQL_MODE_TABLE }, { "csv", SQL_MODE_CSV },
                  { "json", SQL_MODE_JSON },   { "markdown", SQL_MODE_MARKDOWN },
                  { "md", SQL_MODE_MARKDOWN } };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strcmp(name, names[k].name) == 0) {
            *mode = names[k].mode;
            return SL_OK;
        }
    }
    return SL_EUSAGE;
}

const char *sql_mode_name(enum sql_mode mode)
{
    switch (mode) {
    case SQL_MODE_TABLE:
        return "table";
    case SQL_MODE_CSV:
        return "csv";
    case SQL_MODE_JSON:
        return "json";
    case SQL_MODE_MARKDOWN:
        return "markdown";
    }
    return "?";
}

void sql_out_init(struct sql_out *out, enum sql_mode mode, FILE *fp)
{
    memset(out, 0, sizeof *out);
    out->mode = mode;
    out->truncate = SQL_TRUNCATE_DEFAULT;
    out->fp = fp;
    sl_buf_init(&out->buf, 0);
    sl_buf_init(&out->cells, 0);
}

static void drop_result(struct sql_out *out)
{
    for (size_t k = 0; k < out->ncols; k++)
        free(out->names[k]);
    free(out->names);
    free(out->numeric);
    out->names = NULL;
    out->numeric = NULL;
    out->ncols = 0;
    out->nrows = 0;
    sl_buf_reset(&out->cells);
}

void sql_out_release(struct sql_out *out)
{
    if (!out)
        return;
    drop_result(out);
    sl_buf_release(&out->buf);
    sl_buf_release(&out->cells);
}

int sql_out_flush(struct sql_out *out, struct sl_error *err)
{
    if (!out->fp || out->buf.len == 0)
        return SL_OK;
    size_t n = fwrite(out->buf.data, 1, out->buf.len, out->fp);
    sl_buf_reset(&out->buf);
    if (n == 0 || ferror(out->fp)) {
        out->write_failed = true;
        return sl_fail_errno(err, SL_EIO, "cannot write the result");
    }
    return SL_OK;
}

void sql_out_begin(struct sql_out *out, size_t ncols, const char *const *names)
{
    drop_result(out);
    out->ncols = ncols;
    out->names = sl_xcalloc(ncols ? ncols : 1, sizeof *out->names);
    /* numeric[0..ncols): a number was seen; numeric[ncols..2 ncols): text was seen */
    out->numeric = sl_xcalloc(2 * ncols + 1, sizeof *out->numeric);
    for (size_t k = 0; k < ncols; k++)
        out->names[k] = sl_xstrdup(names[k] ? names[k] : "");
}

/* ---------------------------------------------------------------- MARK: csv, json */

static int csv_field(struct sl_buf *b, const char *s, size_t len)
{
    if (len && !memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len))
        return sl_buf_append(b, s, len);
    if (len == 0)
        return SL_OK;
    int rc = sl_buf_u8(b, '"');
    for (size_t k = 0; rc == SL_OK && k < len; k++) {
        if (s[k] == '"')
            rc = sl_buf_u8(b, '"');
        if (rc == SL_OK)
            rc = sl_buf_u8(b, (uint8_t)s[k]);
    }
    return rc ? rc : sl_buf_u8(b, '"');
}

static int json_string(struct sl_buf *b, const char *s, size_t len)
{
    int rc = sl_buf_u8(b, '"');
    size_t run = 0; /* start of bytes not yet copied */
    for (size_t k = 0; rc == SL_OK && k < len; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        rc = sl_buf_append(b, s + run, k - run);
        run = k + 1;
        if (rc)
            break;
        switch (ch) {
        case '"':
            rc = sl_buf_append_str(b, "\\\"");
            break;
        case '\\':
            rc = sl_buf_append_str(b, "\\\\");
            break;
        case '\n':
            rc = sl_buf_append_str(b, "\\n");
            break;
        case '\r':
            rc = sl_buf_append_str(b, "\\r");
            break;
        case '\t':
            rc = sl_buf_append_str(b, "\\t");
            break;
        default:
            rc = sl_buf_appendf(b, "\\u%04x", ch);
        }
    }
    if (rc == SL_OK)
        rc = sl_buf_append(b, s + run, len - run);
    return rc ? rc : sl_buf_u8(b, '"');
}

static int json_value(struct sl_buf *b, const struct sql_cell *c)
{
    switch (c->kind) {
    case SQL_NULL:
        return sl_buf_append_str(b, "null");
    case SQL_INT:
        return put_int(b, c->i);
    case SQL_REAL:
        if (!isfinite(c->d))
            return sl_buf_append_str(b, "null");
        return sql_real_format(c->d, b);
    case SQL_TEXT:
        return json_string(b, c->s, c->len);
    case SQL_BLOB: {
        struct sl_buf hex;
        sl_buf_init(&hex, 0);
        int rc = cell_text(c, &hex);
        if (rc == SL_OK)
            rc = json_string(b, (const char *)hex.data, hex.len);
        sl_buf_release(&hex);
        return rc;
    }
    }
    return SL_OK;
}

static int stream_row(struct sql_out *out, const struct sql_cell *cells)
{
    struct sl_buf *b = &out->buf;
    int rc = SL_OK;
    if (out->mode == SQL_MODE_CSV) {
        if (out->nrows == 0) {
            for (size_t k = 0; rc == SL_OK && k < out->ncols; k++) {
                if (k)
                    rc = sl_buf_u8(b, ',');
                if (rc == SL_OK)
                    rc = csv_field(b, out->names[k], strlen(out->names[k]));
            }
            if (rc == SL_OK)
                rc = sl_buf_append_str(b, "\n");
        }
        for (size_t k = 0; rc == SL_OK && k < out->ncols; k++) {
            if (k)
                rc = sl_buf_u8(b, ',');
            if (rc == SL_OK && cells[k].kind == SQL_TEXT) {
                /* An empty string is "" so that it differs from NULL. */
                rc = cells[k].len ? csv_field(b, cells[k].s, cells[k].len)
                                  : sl_buf_append_str(b, "\"\"");
            } else if (rc == SL_OK && cells[k].kind != SQL_NULL) {
                rc = cell_text(&cells[k], b);
            }
        }
        return rc ? rc : sl_buf_append_str(b, "\n");
    }
    rc = sl_buf_u8(b, '{');
    for (size_t k = 0; rc == SL_OK && k < out->ncols; k++) {
        if (k)
            rc = sl_buf_u8(b, ',');
        if (rc == SL_OK)
            rc = json_string(b, out->names[k], strlen(out->names[k]));
        if (rc == SL_OK)
            rc = sl_buf_u8(b, ':');
        if (rc == SL_OK)
            rc = json_value(b, &cells[k]);
    }
    return rc ? rc : sl_buf_append_str(b, "}\n");
}

/* ---------------------------------------------------------------- MARK: table, markdown */

static int buffer_row(struct sql_out *out, const struct sql_cell *cells)
{
    struct sl_buf *b = &out->cells;
    for (size_t k = 0; k < out->ncols; k++) {
        if (cells[k].kind == SQL_TEXT || cells[k].kind == SQL_BLOB)
            out->numeric[out->ncols + k] = true;
        else if (cells[k].kind != SQL_NULL)
            out->numeric[k] = true;
        size_t at = b->len;
        uint32_t len = 0;
        if (sl_buf_u8(b, (uint8_t)cells[k].kind) || sl_buf_append(b, &len, sizeof len) ||
            cell_text(&cells[k], b))
            return SL_ELIMIT;
        len = (uint32_t)(b->len - at - 1 - sizeof len);
        memcpy(b->data + at + 1, &len, sizeof len);
    }
    return SL_OK;
}

struct cellref {
    const char *s;
    size_t len;   /* bytes shown (after truncation and escaping) */
    size_t width; /* characters shown, "..." included */
    bool dots;    /* truncated: print "..." after s[0..len) */
    bool null;
};

/* Make a cell printable on one line: table mode turns control characters
 * into spaces and truncates; markdown escapes '|' (done while printing). */
static struct cellref shown(struct sql_out *out, const char *s, size_t len, struct sl_buf *scratch)
{
    struct cellref r = { s, len, 0, false, false };
    bool ctl = false;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] < 0x20)
            ctl = true;
    if (ctl) {
        size_t at = scratch->len;
        for (size_t k = 0; k < len; k++)
            sl_buf_u8(scratch, (unsigned char)s[k] < 0x20 ? ' ' : (uint8_t)s[k]);
        r.s = (const char *)scratch->data + at; /* scratch reserved up front: never moves */
    }
    r.width = utf8_width(r.s, r.len);
    if (out->mode == SQL_MODE_MARKDOWN)
        for (size_t k = 0; k < len; k++)
            r.width += s[k] == '|'; /* printed as "\|" */
    if (out->mode == SQL_MODE_TABLE && out->truncate > 0 && r.width > (size_t)out->truncate) {
        size_t keep = (size_t)out->truncate - 3;
        r.len = utf8_prefix(r.s, r.len, keep);
        r.width = keep + 3;
        r.dots = true;
    }
    return r;
}

static int pad(struct sl_buf *b, size_t n, char ch)
{
    int rc = SL_OK;
    for (size_t k = 0; rc == SL_OK && k < n; k++)
        rc = sl_buf_u8(b, (uint8_t)ch);
    return rc;
}

static int put_cell(struct sql_out *out, const struct cellref *r, size_t width, bool right)
{
    struct sl_buf *b = &out->buf;
    size_t fill = width - r->width;
    int rc = right ? pad(b, fill, ' ') : SL_OK;
    if (out->mode == SQL_MODE_MARKDOWN) {
        for (size_t k = 0; rc == SL_OK && k < r->len; k++) {
            if (r->s[k] == '|')
                rc = sl_buf_u8(b, '\\');
            if (rc == SL_OK)
                rc = sl_buf_u8(b, (uint8_t)r->s[k]);
        }
    } else if (rc == SL_OK) {
        rc = sl_buf_append(b, r->s, r->len);
    }
    if (rc == SL_OK && r->dots)
        rc = sl_buf_append_str(b, "...");
    return rc ? rc : (right ? SL_OK : pad(b, fill, ' '));
}

static int print_buffered(struct sql_out *out, struct sl_error *err)
{
    size_t ncols = out->ncols, total = ncols * (out->nrows + 1);
    struct cellref *refs = sl_xcalloc(total ? total : 1, sizeof *refs);
    size_t *width = sl_xcalloc(ncols ? ncols : 1, sizeof *width);
    struct sl_buf scratch;
    sl_buf_init(&scratch, 0);
    /* Reserve once so that pointers into scratch stay valid. */
    sl_buf_reserve(&scratch, out->cells.len + 1);
    for (size_t k = 0; k < ncols; k++)
        refs[k] = shown(out, out->names[k], strlen(out->names[k]), &scratch);
    size_t pos = 0;
    for (size_t r = 0; r < out->nrows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            uint8_t kind = out->cells.data[pos];
            uint32_t len;
            memcpy(&len, out->cells.data + pos + 1, sizeof len);
            const char *s = (const char *)out->cells.data + pos + 1 + sizeof len;
            pos += 1 + sizeof len + len;
            refs[(r + 1) * ncols + k] = shown(out, s, len, &scratch);
            refs[(r + 1) * ncols + k].null = kind == SQL_NULL;
        }
    }
    for (size_t i = 0; i < total; i++)
        if (refs[i].width > width[i % ncols])
            width[i % ncols] = refs[i].width;
    if (out->mode == SQL_MODE_MARKDOWN)
        for (size_t k = 0; k < ncols; k++)
            if (width[k] < 3)
                width[k] = 3;

    struct sl_buf *b = &out->buf;
    int rc = SL_OK;
    bool md = out->mode == SQL_MODE_MARKDOWN;
    for (size_t k = 0; k < ncols; k++) /* right-align columns of numbers only */
        out->numeric[k] = out->numeric[k] && !out->numeric[ncols + k];
    for (size_t row = 0; rc == SL_OK && row <= out->nrows; row++) {
        if (!md && row <= 1) { /* +----+ above the header and below it */
            for (size_t k = 0; rc == SL_OK && k < ncols; k++)
                rc = sl_buf_u8(b, '+') ? SL_ELIMIT : pad(b, width[k], '-');
            if (rc == SL_OK)
                rc = sl_buf_append_str(b, "+\n");
        }
        if (md && row == 1) {
            for (size_t k = 0; rc == SL_OK && k < ncols; k++) {
                rc = sl_buf_append_str(b, "| ");
                if (rc == SL_OK)
                    rc = pad(b, width[k] - 1, '-');
                if (rc == SL_OK)
                    rc = sl_buf_u8(b, out->numeric[k] ? ':' : '-');
                if (rc == SL_OK)
                    rc = sl_buf_u8(b, ' ');
            }
            if (rc == SL_OK)
                rc = sl_buf_append_str(b, "|\n");
        }
        for (size_t k = 0; rc == SL_OK && k < ncols; k++) {
            rc = sl_buf_append_str(b, md ? "| " : "|");
            bool right = out->numeric[k];
            if (rc == SL_OK)
                rc = put_cell(out, &refs[row * ncols + k], width[k], right);
            if (rc == SL_OK && md)
                rc = sl_buf_u8(b, ' ');
        }
        if (rc == SL_OK)
            rc = sl_buf_append_str(b, "|\n");
        if (rc == SL_OK && b->len >= FLUSH_AT)
            rc = sql_out_flush(out, err);
    }
    if (rc == SL_OK && !md) {
        for (size_t k = 0; rc == SL_OK && k < ncols; k++)
            rc = sl_buf_u8(b, '+') ? SL_ELIMIT : pad(b, width[k], '-');
        if (rc == SL_OK)
            rc = sl_buf_append_str(b, "+\n");
        if (rc == SL_OK && out->nrows == 0) { /* no rows: the header's box closes */
            for (size_t k = 0; rc == SL_OK && k < ncols; k++)
                rc = sl_buf_u8(b, '+') ? SL_ELIMIT : pad(b, width[k], '-');
            if (rc == SL_OK)
                rc = sl_buf_append_str(b, "+\n");
        }
        if (rc == SL_OK && out->footer)
            rc = sl_buf_appendf(b, "(%zu row%s)\n", out->nrows, out->nrows == 1 ? "" : "s");
    }
    sl_buf_release(&scratch);
    free(width);
    free(refs);
    if (rc == SL_ELIMIT)
        return sl_fail(err, SL_ELIMIT, "result too large to print as a table");
    return rc;
}

int sql_out_row(struct sql_out *out, const struct sql_cell *cells, struct sl_error *err)
{
    int rc;
    if (out->mode == SQL_MODE_CSV || out->mode == SQL_MODE_JSON) {
        rc = stream_row(out, cells);
        out->nrows++;
        if (rc != SL_OK)
            return sl_fail(err, SL_ELIMIT, "row too large to print");
        return out->buf.len >= FLUSH_AT ? sql_out_flush(out, err) : SL_OK;
    }
    if (out->nrows >= SQL_OUT_ROWS_MAX)
        return sl_fail(err, SL_ELIMIT,
                       "more than %d rows to align: use --csv or --json, or add a LIMIT",
                       SQL_OUT_ROWS_MAX);
    rc = buffer_row(out, cells);
    if (rc != SL_OK)
        return sl_fail(err, SL_ELIMIT, "result too large to print as a table");
    out->nrows++;
    return SL_OK;
}

void sql_out_discard(struct sql_out *out)
{
    drop_result(out);
}

int sql_out_end(struct sql_out *out, struct sl_error *err)
{
    int rc = SL_OK;
    if (out->mode == SQL_MODE_TABLE || out->mode == SQL_MODE_MARKDOWN) {
        rc = print_buffered(out, err);
    } else if (out->mode == SQL_MODE_CSV && out->nrows == 0) {
        /* The header alone, so that an empty result still names its columns. */
        for (size_t k = 0; rc == SL_OK && k < out->ncols; k++) {
            if (k)
                rc = sl_buf_u8(&out->buf, ',');
            if (rc == SL_OK)
                rc = csv_field(&out->buf, out->names[k], strlen(out->names[k]));
        }
        if (rc == SL_OK)
            rc = sl_buf_append_str(&out->buf, "\n");
    }
    drop_result(out);
    if (rc != SL_OK)
        return rc;
    rc = sql_out_flush(out, err);
    if (rc == SL_OK && out->fp && fflush(out->fp) != 0) {
        out->write_failed = true;
        return sl_fail_errno(err, SL_EIO, "cannot write the result");
    }
    return rc;
}
