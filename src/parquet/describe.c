/*
 * describe.c: text views of a Parquet file for `sluice parquet`: the schema,
 * row groups and column chunks with codec, encodings, sizes and statistics,
 * and single values as JSON (for `sluice parquet --rows` and the tests that
 * compare sluice's view of a file with DuckDB's and hyparquet's).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parquet/pq_int.h"

static const char *const physical_names[] = { "BOOLEAN", "INT32", "INT64", "INT96",
                                              "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                              "FIXED_LEN_BYTE_ARRAY" };

/* Length of the well-formed UTF-8 sequence at s[i] (a lead byte >= 0x80),
 * or 0 if there is none. */
static size_t utf8_len(struct sl_slice s, size_t i)
{
    uint8_t c = s.p[i];
    size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || c == 0xc0 || c == 0xc1 || c > 0xf4 || i + n > s.len)
        return 0;
    for (size_t k = 1; k < n; k++)
        if ((s.p[i + k] & 0xc0) != 0x80)
            return 0;
    return n;
}

static void json_bytes(struct sl_buf *out, struct sl_slice s)
{
    static const char hex[] = "0123456789abcdef";
    sl_buf_u8(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        uint8_t ch = s.p[i];
        if (ch == '"' || ch == '\\') {
            sl_buf_u8(out, '\\');
            sl_buf_u8(out, ch);
        } else if (ch == '\n') {
            sl_buf_append_str(out, "\\n");
        } else if (ch == '\t') {
            sl_buf_append_str(out, "\\t");
        } else if (ch == '\r') {
            sl_buf_append_str(out, "\\r");
        } else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && utf8_len(s, i) == 0)) {
            /* control characters, and bytes that are not UTF-8 (binary
             * columns), as \u00XX so the output is always valid JSON */
            char tmp[7] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0 };
            sl_buf_append_str(out, tmp);
        } else if (ch >= 0x80) {
            size_t n = utf8_len(s, i);
            sl_buf_append(out, s.p + i, n);
            i += n - 1;
        } else {
            sl_buf_u8(out, ch);
        }
    }
    sl_buf_u8(out, '"');
}

int pq_value_json(const struct pq_column *col, struct pq_value v, struct sl_buf *out)
{
    if (v.null)
        return sl_buf_append_str(out, "null");
    switch (col->type) {
    case PQ_BOOL:
        return sl_buf_append_str(out, v.b ? "true" : "false");
    case PQ_DOUBLE:
        if (isnan(v.d))
            return sl_buf_append_str(out, "\"NaN\"");
        if (isinf(v.d))
            return sl_buf_append_str(out, v.d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return sl_buf_appendf(out, "%.17g", v.d);
    case PQ_STRING:
        json_bytes(out, v.s);
        return SL_OK;
    default:
        return sl_buf_appendf(out, "%lld", (long long)v.i);
    }
}

static void describe_type(const struct pq_column *c, struct sl_buf *out)
{
    sl_buf_appendf(out, "%s", pq_type_name(c->type));
    if (c->type == PQ_TIMESTAMP)
        sl_buf_appendf(out, "(%s%s)", c->unit == PQ_MILLIS ? "ms" : c->unit == PQ_NANOS ? "ns" : "us",
                       c->utc ? ", utc" : "");
    if (c->type == PQ_STRING && !c->is_utf8)
        sl_buf_append_str(out, "(binary)");
    const char *phys = c->physical >= 0 && c->physical < 8 ? physical_names[c->physical] : "?";
    sl_buf_appendf(out, " [%s", phys);
    if (c->physical == PQ_T_FIXED)
        sl_buf_appendf(out, "(%d)", c->type_length);
    if (c->converted >= 0)
        sl_buf_appendf(out, ", converted %d", c->converted);
    if (c->precision || c->scale)
        sl_buf_appendf(out, ", decimal(%d,%d)", c->precision, c->scale);
    sl_buf_append_str(out, "]");
}

int pq_file_describe(const struct pq_file *f, struct sl_buf *out)
{
    sl_buf_appendf(out, "file: %s\n", f->name);
    sl_buf_appendf(out, "size: %zu bytes\n", f->size);
    sl_buf_appendf(out, "created_by: %s\n", f->created_by ? f->created_by : "(none)");
    sl_buf_appendf(out, "rows: %lld\n", (long long)f->num_rows);
    sl_buf_appendf(out, "row groups: %zu\n", f->nrow_groups);
    sl_buf_appendf(out, "columns: %zu\n", f->ncols);
    for (size_t i = 0; i < f->ncols; i++) {
        const struct pq_column *c = &f->cols[i];
        sl_buf_appendf(out, "  %zu %s: ", i, c->name);
        describe_type(c, out);
        sl_buf_appendf(out, " %s\n", c->required ? "required" : "optional");
    }
    for (size_t i = 0; i < f->nkv; i++)
        sl_buf_appendf(out, "metadata %s: %s\n", f->kv[i].key,
                       f->kv[i].value ? f->kv[i].value : "(null)");
    for (size_t g = 0; g < f->nrow_groups; g++) {
        const struct pq_row_group *rg = &f->row_groups[g];
        sl_buf_appendf(out, "row group %zu: %lld rows, %lld bytes compressed, %lld uncompressed\n",
                       g, (long long)rg->num_rows, (long long)rg->total_compressed_size,
                       (long long)rg->total_byte_size);
        for (size_t i = 0; i < f->ncols; i++) {
            const struct pq_chunk *ch = &rg->chunks[i];
            const struct pq_column *c = &f->cols[i];
            sl_buf_appendf(out, "  %s: %s, %lld values, %lld bytes (%lld uncompressed) at %lld",
                           c->name, pq_codec_name(ch->codec), (long long)ch->num_values,
                           (long long)ch->compressed_size, (long long)ch->uncompressed_size,
                           (long long)ch->offset);
            sl_buf_append_str(out, ", encodings");
            for (int e = 0; e < 32; e++)
                if ((ch->encodings >> e) & 1)
                    sl_buf_appendf(out, " %s", pq_encoding_name(e));
            if (ch->dictionary_page_offset)
                sl_buf_append_str(out, ", dictionary");
            const struct pq_stats *st = &ch->stats;
            if (st->has_null_count)
                sl_buf_appendf(out, ", nulls %lld", (long long)st->null_count);
            if (st->has_min_max) {
                sl_buf_append_str(out, ", min ");
                pq_value_json(c, st->min, out);
                if (!st->min_exact)
                    sl_buf_append_str(out, " (inexact)");
                sl_buf_append_str(out, ", max ");
                pq_value_json(c, st->max, out);
                if (!st->max_exact)
                    sl_buf_append_str(out, " (inexact)");
            }
            sl_buf_u8(out, '\n');
        }
    }
    return SL_OK;
}
