/*
 * routes.c: the route table of `sluice collect`: the reference app's routes
 * built in, more from a --routes file (format: docs/routes.md).
 *
 * A route's static fields are rendered once, at load time, the way
 * json.dumps would write them (`"key": value`, ", " between items, non-ASCII
 * as \uXXXX), so that serving an event only copies bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "collect/collect.h"
#include "json/json.h"

#define ROUTE_PATH_MAX 1024
#define ROUTES_FILE_MAX (4 * 1024 * 1024)
#define DEFAULT_CONTENT_TYPE "text/html; charset=utf-8"

/* ---------------------------------------------------------------- table */

static void route_release(struct collect_route *r)
{
    free(r->path);
    free(r->event_type);
    for (size_t i = 0; i < r->nfields; i++) {
        free(r->field_keys[i]);
        free(r->field_json[i]);
    }
    free(r->field_keys);
    free(r->field_json);
    free(r->reply);
    free(r->content_type);
    memset(r, 0, sizeof *r);
}

/* Add or replace (by path); takes ownership of the route's pointers. */
static void routes_put(struct collect_routes *rt, struct collect_route *r)
{
    for (size_t i = 0; i < rt->n; i++) {
        if (strcmp(rt->routes[i].path, r->path) == 0) {
            route_release(&rt->routes[i]);
            rt->routes[i] = *r;
            return;
        }
    }
    rt->routes = sl_xrealloc(rt->routes, (rt->n + 1) * sizeof *rt->routes);
    rt->routes[rt->n++] = *r;
}

static void add_builtin(struct collect_routes *rt, enum collect_route_kind kind, const char *path,
                        const char *event_type, const char *reply, const char *ctype)
{
    struct collect_route r = { 0 };
    r.kind = kind;
    r.path = sl_xstrdup(path);
    r.event_type = event_type ? sl_xstrdup(event_type) : NULL;
    r.reply = sl_xstrdup(reply);
    r.reply_len = strlen(reply);
    r.status = 200;
    r.content_type = sl_xstrdup(ctype);
    routes_put(rt, &r);
}

void collect_routes_init(struct collect_routes *rt)
{
    rt->routes = NULL;
    rt->n = 0;
    add_builtin(rt, COLLECT_ROUTE_EVENT, "/", "default", "This is the default response!\n",
                DEFAULT_CONTENT_TYPE);
    add_builtin(rt, COLLECT_ROUTE_EVENT, "/purchase_a_sword", "purchase_sword",
                "Sword Purchased!\n", DEFAULT_CONTENT_TYPE);
    add_builtin(rt, COLLECT_ROUTE_BATCH, "/events", NULL, "", "application/json");
    add_builtin(rt, COLLECT_ROUTE_HEALTH, "/healthz", NULL, "ok\n", "text/plain; charset=utf-8");
    add_builtin(rt, COLLECT_ROUTE_METRICS, "/metrics", NULL, "",
                "text/plain; version=0.0.4; charset=utf-8");
}

void collect_routes_release(struct collect_routes *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->n; i++)
        route_release(&rt->routes[i]);
    free(rt->routes);
    rt->routes = NULL;
    rt->n = 0;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

struct collect_route *collect_routes_find(struct collect_routes *rt, struct sl_slice path)
{
    /* Werkzeug routes on the %-decoded path, without any fragment. */
    char dec[ROUTE_PATH_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < path.len && path.p[i] != '#'; i++) {
        if (n == ROUTE_PATH_MAX)
            return NULL;
        uint8_t c = path.p[i];
        if (c == '%' && i + 2 < path.len && hexval(path.p[i + 1]) >= 0 &&
            hexval(path.p[i + 2]) >= 0) {
            c = (uint8_t)(hexval(path.p[i + 1]) * 16 + hexval(path.p[i + 2]));
            i += 2;
        }
        dec[n++] = (char)c;
    }
    for (size_t i = 0; i < rt->n; i++) {
        const char *rp = rt->routes[i].path;
        if (strlen(rp) == n && memcmp(rp, dec, n) == 0)
            return &rt->routes[i];
    }
    return NULL;
}

/* ------------------------------------------------- json.dumps rendering */

/* A UTF-8 string as json.dumps(ensure_ascii=True) writes it. */
static int py_str(struct sl_buf *out, struct sl_slice s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = sl_buf_append(out, "\"", 1);
    for (size_t i = 0; rc == SL_OK && i < s.len;) {
        uint8_t c = s.p[i];
        if (c < 0x80) {
            char e[6];
            size_t el = 0;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                e[el++] = (char)c;
            } else {
                e[el++] = '\\';
                switch (c) {
                case '"': e[el++] = '"'; break;
                case '\\': e[el++] = '\\'; break;
                case '\n': e[el++] = 'n'; break;
                case '\r': e[el++] = 'r'; break;
                case '\t': e[el++] = 't'; break;
                case '\b': e[el++] = 'b'; break;
                case '\f': e[el++] = 'f'; break;
                default:
                    e[el++] = 'u';
                    e[el++] = '0';
                    e[el++] = '0';
                    e[el++] = hex[c >> 4];
                    e[el++] = hex[c & 15];
                }
            }
            rc = sl_buf_append(out, e, el);
            i++;
            continue;
        }
        /* json.h gave us valid UTF-8. */
        uint32_t cp;
        int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f);
        for (int k = 1; k < len && i + (size_t)k < s.len; k++)
            cp = (cp << 6) | (s.p[i + (size_t)k] & 0x3f);
        i += (size_t)len;
        uint32_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = 0xd800 | (cp >> 10);
            units[1] = 0xdc00 | (cp & 0x3ff);
            nu = 2;
        } else {
            units[0] = cp;
        }
        for (int u = 0; rc == SL_OK && u < nu; u++) {
            char e[7] = { '\\', 'u', hex[(units[u] >> 12) & 15], hex[(units[u] >> 8) & 15],
                          hex[(units[u] >> 4) & 15], hex[units[u] & 15], 0 };
            rc = sl_buf_append(out, e, 6);
        }
    }
    if (rc == SL_OK)
        rc = sl_buf_append(out, "\"", 1);
    return rc;
}

static int py_value(struct sl_buf *out, const struct json_doc *doc, const struct json_val *v)
{
    struct sl_buf scratch;
    struct sl_slice s;
    int rc = SL_OK;
    switch (v->type) {
    case JSON_STRING:
        sl_buf_init(&scratch, ROUTES_FILE_MAX);
        rc = json_str(doc, v, &scratch, &s);
        if (rc == SL_OK)
            rc = py_str(out, s);
        sl_buf_release(&scratch);
        return rc;
    case JSON_ARRAY: {
        struct json_iter it = json_iter_make(doc, v);
        const struct json_val *e;
        bool first = true;
        rc = sl_buf_append(out, "[", 1);
        while (rc == SL_OK && json_arr_next(&it, &e)) {
            if (!first)
                rc = sl_buf_append(out, ", ", 2);
            first = false;
            if (rc == SL_OK)
                rc = py_value(out, doc, e);
        }
        return rc == SL_OK ? sl_buf_append(out, "]", 1) : rc;
    }
    case JSON_OBJECT: {
        struct json_iter it = json_iter_make(doc, v);
        const struct json_val *k, *e;
        bool first = true;
        rc = sl_buf_append(out, "{", 1);
        while (rc == SL_OK && json_obj_next(&it, &k, &e)) {
            if (!first)
                rc = sl_buf_append(out, ", ", 2);
            first = false;
            if (rc == SL_OK)
                rc = py_value(out, doc, k);
            if (rc == SL_OK)
                rc = sl_buf_append(out, ": ", 2);
            if (rc == SL_OK)
                rc = py_value(out, doc, e);
        }
        return rc == SL_OK ? sl_buf_append(out, "}", 1) : rc;
    }
    default: /* numbers, true, false, null: their text */
        return sl_buf_append_slice(out, json_text(doc, v));
    }
}

/* -------------------------------------------------------------- the file */

static char *dup_str(const struct json_doc *doc, const struct json_val *v)
{
    struct sl_buf scratch;
    sl_buf_init(&scratch, ROUTES_FILE_MAX);
    struct sl_slice s;
    char *r = NULL;
    if (json_str(doc, v, &scratch, &s) == SL_OK)
        r = sl_xstrndup((const char *)s.p, s.len);
    sl_buf_release(&scratch);
    return r;
}

static int parse_route(struct collect_route *r, const struct json_doc *doc, const char *name,
                       size_t line, struct sl_error *err)
{
    const struct json_val *root = json_root(doc);
    memset(r, 0, sizeof *r);
    if (root->type != JSON_OBJECT)
        return sl_fail(err, SL_EPROTO, "%s:%zu: a route must be a JSON object", name, line);
    r->kind = COLLECT_ROUTE_EVENT;
    r->status = 200;
    struct json_iter it = json_iter_make(doc, root);
    const struct json_val *k, *v;
    while (json_obj_next(&it, &k, &v)) {
        struct sl_slice key = json_raw(doc, k);
#define KEY_IS(s) (json_str_eq(doc, k, s, strlen(s)))
        if (KEY_IS("path") || KEY_IS("event_type") || KEY_IS("reply") ||
            KEY_IS("content_type")) {
            if (v->type != JSON_STRING)
                return sl_fail(err, SL_EPROTO, "%s:%zu: \"%.*s\" must be a string", name, line,
                               (int)key.len, key.p);
            char *s = dup_str(doc, v);
            if (!s)
                return sl_fail(err, SL_EPROTO, "%s:%zu: bad string", name, line);
            char **dst = KEY_IS("path") ? &r->path : KEY_IS("event_type") ? &r->event_type
                         : KEY_IS("reply")  ? &r->reply
                                            : &r->content_type;
            free(*dst);
            *dst = s;
            if (dst == &r->reply) {
                struct sl_buf scratch;
                struct sl_slice d;
                sl_buf_init(&scratch, ROUTES_FILE_MAX);
                json_str(doc, v, &scratch, &d);
                r->reply_len = d.len; /* may hold NULs */
                free(r->reply);
                r->reply = sl_xmalloc(d.len + 1);
                memcpy(r->reply, d.p, d.len);
                r->reply[d.len] = '\0';
                sl_buf_release(&scratch);
            }
        } else if (KEY_IS("status")) {
            int64_t st;
            if (v->type != JSON_NUMBER || json_int(doc, v, &st) != SL_OK || st < 200 || st > 599)
                return sl_fail(err, SL_EPROTO, "%s:%zu: \"status\" must be 200..599", name,
                               line);
            r->status = (int)st;
        } else if (KEY_IS("fields")) {
            if (v->type != JSON_OBJECT)
                return sl_fail(err, SL_EPROTO, "%s:%zu: \"fields\" must be an object", name,
                               line);
            struct json_iter fi = json_iter_make(doc, v);
            const struct json_val *fk, *fv;
            while (json_obj_next(&fi, &fk, &fv)) {
                char *fkey = dup_str(doc, fk);
                if (!fkey || strcmp(fkey, "event_type") == 0) {
                    free(fkey);
                    return sl_fail(err, SL_EPROTO,
                                   "%s:%zu: \"fields\" may not set \"event_type\"", name, line);
                }
                struct sl_buf json;
                sl_buf_init(&json, ROUTES_FILE_MAX);
                py_value(&json, doc, fk);
                sl_buf_append(&json, ": ", 2);
                py_value(&json, doc, fv);
                /* A repeated key: json.loads keeps the first position, last value. */
                size_t at = r->nfields;
                for (size_t i = 0; i < r->nfields; i++)
                    if (strcmp(r->field_keys[i], fkey) == 0)
                        at = i;
                if (at == r->nfields) {
                    r->field_keys = sl_xrealloc(r->field_keys, (at + 1) * sizeof(char *));
                    r->field_json = sl_xrealloc(r->field_json, (at + 1) * sizeof(char *));
                    r->nfields++;
                } else {
                    free(r->field_keys[at]);
                    free(r->field_json[at]);
                }
                r->field_keys[at] = fkey;
                r->field_json[at] = (char *)sl_buf_detach(&json, NULL);
                sl_buf_release(&json);
            }
        } else {
            return sl_fail(err, SL_EPROTO, "%s:%zu: unknown route key \"%.*s\"", name, line,
                           (int)key.len, key.p);
        }
#undef KEY_IS
    }
    if (!r->path || r->path[0] != '/' || strlen(r->path) > ROUTE_PATH_MAX)
        return sl_fail(err, SL_EPROTO, "%s:%zu: \"path\" must be a string starting with '/'",
                       name, line);
    if (!r->event_type || !r->event_type[0])
        return sl_fail(err, SL_EPROTO, "%s:%zu: \"event_type\" is required", name, line);
    if (!r->reply) {
        r->reply = sl_xstrdup("");
        r->reply_len = 0;
    }
    if (!r->content_type)
        r->content_type = sl_xstrdup(DEFAULT_CONTENT_TYPE);
    return SL_OK;
}

int collect_routes_parse(struct collect_routes *rt, struct sl_slice text, const char *name,
                         struct sl_error *err)
{
    if (text.len > ROUTES_FILE_MAX)
        return sl_fail(err, SL_ELIMIT, "%s: larger than %d bytes", name, ROUTES_FILE_MAX);
    /* '#' comment lines become blanks, so line numbers stay right. */
    uint8_t *copy = sl_xmalloc(text.len + 1);
    memcpy(copy, text.p, text.len);
    bool bol = true, comment = false;
    for (size_t i = 0; i < text.len; i++) {
        if (copy[i] == '\n') {
            bol = true;
            comment = false;
            continue;
        }
        if (bol && copy[i] == '#')
            comment = true;
        if (copy[i] != ' ' && copy[i] != '\t')
            bol = false;
        if (comment)
            copy[i] = ' ';
    }
    struct collect_route *got = NULL;
    size_t ngot = 0;
    struct json_doc doc;
    json_doc_init(&doc);
    struct json_stream st = json_stream_make(sl_slice_make(copy, text.len));
    int rc = SL_OK;
    for (;;) {
        struct sl_slice raw;
        size_t line;
        struct sl_error jerr = { 0 };
        int n = json_stream_next(&st, &doc, &raw, &line, &jerr);
        if (n == 0)
            break;
        if (n < 0) {
            rc = sl_fail(err, n, "%s: %s", name, jerr.msg);
            break;
        }
        if (ngot == COLLECT_ROUTES_MAX) {
            rc = sl_fail(err, SL_ELIMIT, "%s:%zu: more than %d routes", name, line,
                         COLLECT_ROUTES_MAX);
            break;
        }
        got = sl_xrealloc(got, (ngot + 1) * sizeof *got);
        rc = parse_route(&got[ngot], &doc, name, line, err);
        ngot++;
        if (rc != SL_OK)
            break;
    }
    json_doc_release(&doc);
    free(copy);
    if (rc == SL_OK && rt->n + ngot > COLLECT_ROUTES_MAX)
        rc = sl_fail(err, SL_ELIMIT, "%s: more than %d routes", name, COLLECT_ROUTES_MAX);
    for (size_t i = 0; i < ngot; i++) {
        if (rc == SL_OK)
            routes_put(rt, &got[i]);
        else
            route_release(&got[i]);
    }
    free(got);
    return rc;
}

int collect_routes_load(struct collect_routes *rt, const char *path, struct sl_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_fail_errno(err, SL_EIO, "cannot open routes file '%s'", path);
    struct sl_buf text;
    sl_buf_init(&text, ROUTES_FILE_MAX);
    int rc = SL_OK;
    for (;;) {
        if (sl_buf_reserve(&text, 4096) != SL_OK) {
            rc = sl_fail(err, SL_ELIMIT, "routes file '%s' larger than %d bytes", path,
                         ROUTES_FILE_MAX);
            break;
        }
        size_t n = fread(text.data + text.len, 1, 4096, f);
        sl_buf_setlen(&text, text.len + n);
        if (n < 4096) {
            if (ferror(f))
                rc = sl_fail_errno(err, SL_EIO, "cannot read routes file '%s'", path);
            break;
        }
    }
    fclose(f);
    if (rc == SL_OK)
        rc = collect_routes_parse(rt, sl_buf_slice(&text), path, err);
    sl_buf_release(&text);
    return rc;
}
