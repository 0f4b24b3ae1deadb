/*
 * flatten.c: one parsed JSON record -> a flat row of typed fields, the
 * "json explode" step of the reference Spark job. Fields borrow names and
 * strings from the record's input whenever they can (no escapes, no nesting),
 * so the common event costs no copies.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "extract/extract.h"

void extract_row_init(struct extract_row *row)
{
    memset(row, 0, sizeof *row);
    row->max_fields = EXTRACT_FIELDS_MAX;
    sl_arena_init(&row->arena, 16384);
    sl_buf_init(&row->scratch, 0);
}

void extract_row_release(struct extract_row *row)
{
    if (!row)
        return;
    free(row->f);
    row->f = NULL;
    sl_arena_release(&row->arena);
    sl_buf_release(&row->scratch);
}

void extract_row_reset(struct extract_row *row)
{
    row->n = 0;
    sl_arena_clear(&row->arena);
    sl_buf_reset(&row->scratch);
}

static struct extract_field *row_push(struct extract_row *row)
{
    if (row->n == row->cap) {
        row->cap = row->cap ? row->cap * 2 : 32;
        row->f = sl_xrealloc(row->f, row->cap * sizeof *row->f);
    }
    struct extract_field *f = &row->f[row->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static inline int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool name_eq(struct sl_slice a, const char *b, size_t n)
{
    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (fold(a.p[i]) != fold((unsigned char)b[i]))
            return false;
    return true;
}

long extract_row_find(const struct extract_row *row, const char *name, size_t n)
{
    for (size_t i = row->n; i-- > 0;)
        if (name_eq(row->f[i].name, name, n))
            return (long)i;
    return -1;
}

/* Find-or-add the field `name`, dropping later duplicates; returns it cleared. */
static struct extract_field *row_slot(struct extract_row *row, struct sl_slice name)
{
    long first = -1;
    bool dup = false;
    for (size_t i = 0; i < row->n; i++) {
        if (name_eq(row->f[i].name, (const char *)name.p, name.len)) {
            if (first >= 0)
                dup = true;
            else
                first = (long)i;
        }
    }
    if (dup) { /* drop the later duplicates */
        size_t o = (size_t)first + 1;
        for (size_t i = o; i < row->n; i++)
            if (!name_eq(row->f[i].name, (const char *)name.p, name.len))
                row->f[o++] = row->f[i];
        row->n = o;
    }
    struct extract_field *f;
    if (first >= 0) {
        f = &row->f[first];
        struct sl_slice keep = f->name;
        memset(f, 0, sizeof *f);
        f->name = keep;
    } else {
        f = row_push(row);
        f->name = name;
    }
    return f;
}

void extract_row_set_str(struct extract_row *row, struct sl_slice name, struct sl_slice s)
{
    struct extract_field *f = row_slot(row, name);
    f->kind = EXTRACT_STRING;
    f->s = s;
}

void extract_row_set_int(struct extract_row *row, struct sl_slice name, int64_t v)
{
    struct extract_field *f = row_slot(row, name);
    f->kind = EXTRACT_INT;
    f->i = v;
}

/* A key's text: borrowed when unescaped, else decoded into the arena. */
static struct sl_slice key_text(struct extract_row *row, const struct json_doc *doc,
                                const struct json_val *k)
{
    if (!(k->flags & JSON_F_ESCAPED))
        return json_raw(doc, k);
    struct sl_slice s;
    sl_buf_reset(&row->scratch);
    json_str(doc, k, &row->scratch, &s);
    char *copy = sl_arena_strndup(&row->arena, (const char *)s.p, s.len);
    return sl_slice_make(copy, s.len);
}

static int flatten_obj(struct extract_row *row, const struct json_doc *doc,
                       const struct json_val *obj, const char *prefix, size_t plen,
                       struct sl_error *err)
{
    struct json_iter it = json_iter_make(doc, obj);
    const struct json_val *k, *v;
    while (json_obj_next(&it, &k, &v)) {
        struct sl_slice kn = key_text(row, doc, k);
        struct sl_slice name = kn;
        if (plen) {
            size_t n = plen + 1 + kn.len;
            if (n > EXTRACT_NAME_MAX)
                return sl_fail(err, SL_ELIMIT, "flattened field name longer than %d bytes",
                               EXTRACT_NAME_MAX);
            char *p = sl_arena_alloc(&row->arena, n + 1);
            memcpy(p, prefix, plen);
            p[plen] = '_';
            memcpy(p + plen + 1, kn.p, kn.len);
            p[n] = '\0';
            name = sl_slice_make(p, n);
        } else if (kn.len > EXTRACT_NAME_MAX) {
            return sl_fail(err, SL_ELIMIT, "field name longer than %d bytes", EXTRACT_NAME_MAX);
        }
        if (v->type == JSON_OBJECT) {
            int rc = flatten_obj(row, doc, v, (const char *)name.p, name.len, err);
            if (rc != SL_OK)
                return rc;
            continue;
        }
        if (row->n >= row->max_fields)
            return sl_fail(err, SL_ELIMIT, "record has more than %zu fields", row->max_fields);
        struct extract_field *f = row_push(row);
        f->name = name;
        switch (v->type) {
        case JSON_NULL:
            f->kind = EXTRACT_NULL;
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            f->kind = EXTRACT_BOOL;
            f->b = v->type == JSON_TRUE;
            break;
        case JSON_NUMBER:
            if ((v->flags & JSON_F_INT) && json_int(doc, v, &f->i) == SL_OK) {
                f->kind = EXTRACT_INT;
            } else {
                f->kind = EXTRACT_DOUBLE;
                json_double(doc, v, &f->d);
            }
            break;
        case JSON_STRING:
            f->kind = EXTRACT_STRING;
            if (!(v->flags & JSON_F_ESCAPED)) {
                f->s = json_raw(doc, v);
            } else {
                struct sl_slice s;
                sl_buf_reset(&row->scratch);
                json_str(doc, v, &row->scratch, &s);
                char *copy = sl_arena_strndup(&row->arena, (const char *)s.p, s.len);
                f->s = sl_slice_make(copy, s.len);
            }
            break;
        default: /* JSON_ARRAY: kept as its JSON text */
            f->kind = EXTRACT_STRING;
            f->s = json_text(doc, v);
            break;
        }
    }
    return SL_OK;
}

int extract_flatten(struct extract_row *row, const struct json_doc *doc,
                    const struct json_val *obj, struct sl_error *err)
{
    if (obj->type != JSON_OBJECT)
        return sl_fail(err, SL_EUSAGE, "record is not a JSON object");
    return flatten_obj(row, doc, obj, NULL, 0, err);
}
