/*
 * event.c: one event's JSON, byte for byte what the reference app logs.
 *
 * The reference app (bench/collect/game_api.py) does
 *
 *     event = {'event_type': 'purchase_sword'}
 *     event.update(request.headers)
 *     producer.send(topic, json.dumps(event).encode())
 *
 * on Flask 2.2 / Werkzeug 2.2, so the Kafka value is decided by three
 * pieces of Python, which this file reproduces:
 *
 * 1. Werkzeug's dev server (serving.py, make_environ) turns each header into
 *    an environ key: name.upper() with '-' -> '_', prefixed "HTTP_" except
 *    CONTENT_TYPE and CONTENT_LENGTH. A repeated HTTP_ key gets its values
 *    joined with "," (no space), at the position of the first occurrence;
 *    a repeated CONTENT_* key keeps the last value, also at the first
 *    position. So "X-Dup", "x-dup" and "x_dup" are one header. For an
 *    absolute-form target ("GET http://h:8/ HTTP/1.1") HTTP_HOST is then set
 *    to the target's authority (replacing Host's value in place, or added
 *    last).
 * 2. EnvironHeaders iterates environ in order and names each key
 *    key[5:].replace("_", "-").title(), skipping CONTENT_* when empty;
 *    str.title() upper-cases a letter after any non-letter (digits too:
 *    "x-1a" -> "X-1A") and lower-cases the others ("DNT" -> "Dnt").
 *    dict.update() replaces the value of a key already present in place.
 * 3. json.dumps writes `{"k": v, "k2": v2}` with ensure_ascii: '"' '\\'
 *    and \b \f \n \r \t escaped by name, every other byte outside 0x20-0x7e
 *    as \u00XX (lower-case hex) -- header bytes are Latin-1 to Python's
 *    http.client, so UTF-8 "é" is logged as "\u00c3\u00a9". Leading blanks
 *    of a value are stripped by http.client, trailing ones kept.
 *
 * The tests check this against the real Flask app on the same broker
 * (tests/integration/test_30_collect_reference.py).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "json/json.h"

#define POSTED_MEMBERS_MAX 256

/* ---------------------------------------------------------------- escaping */

static bool is_letter(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void collect_header_name(char *dst, struct sl_slice name)
{
    bool prev_letter = false;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.p[i] == '_' ? '-' : name.p[i];
        if (is_letter(c)) {
            c = prev_letter ? (uint8_t)(c | 0x20) : (uint8_t)(c & ~0x20);
            prev_letter = true;
        } else {
            prev_letter = false;
        }
        dst[i] = (char)c;
    }
}

int collect_json_str_latin1(struct sl_buf *out, struct sl_slice s)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case 6 bytes per input byte, plus quotes. */
    if (s.len > (out->max - out->len) / 6 || sl_buf_reserve(out, s.len * 6 + 2) != SL_OK)
        return SL_ELIMIT;
    uint8_t *w = out->data + out->len;
    *w++ = '"';
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *w++ = c;
            continue;
        }
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = (uint8_t)hex[c >> 4];
            *w++ = (uint8_t)hex[c & 15];
        }
    }
    *w++ = '"';
    sl_buf_setlen(out, (size_t)(w - out->data));
    return SL_OK;
}

/* ------------------------------------------------------------ header merge */

/* Werkzeug's environ key equality: upper-case, '-' and '_' the same. */
static uint8_t env_char(uint8_t c)
{
    if (c == '-')
        return '_';
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

static bool env_eq(struct sl_slice a, struct sl_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (env_char(a.p[i]) != env_char(b.p[i]))
            return false;
    return true;
}

/* Whether `key` equals the Werkzeug name of header `name`, exactly. */
static bool name_eq(struct sl_slice name, const uint8_t *key, size_t key_len)
{
    if (name.len != key_len)
        return false;
    bool prev_letter = false;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.p[i] == '_' ? '-' : name.p[i];
        if (is_letter(c)) {
            c = prev_letter ? (uint8_t)(c | 0x20) : (uint8_t)(c & ~0x20);
            prev_letter = true;
        } else {
            prev_letter = false;
        }
        if (c != key[i])
            return false;
    }
    return true;
}

/* The environ keys of one request, in environ order. */
struct hgroup {
    struct sl_slice name; /* the first occurrence's name */
    int first;            /* header index of the first value */
    int last;             /* header index of the last value */
    bool content;         /* CONTENT_TYPE / CONTENT_LENGTH: last value wins */
    bool host_override;   /* value is the target's authority */
    bool used;            /* already written (merged into an earlier key) */
};

struct hgroups {
    struct hgroup g[HTTP_HEADERS_MAX + 1];
    int n;
    int next[HTTP_HEADERS_MAX]; /* chain of header indexes in a group, -1 ends */
    struct sl_slice authority;
};

static void groups_build(struct hgroups *hg, const struct http_request *req)
{
    hg->n = 0;
    hg->authority = req->authority;
    for (size_t i = 0; i < req->nheaders; i++) {
        struct sl_slice name = req->headers[i].name;
        hg->next[i] = -1;
        int k = 0;
        while (k < hg->n && !env_eq(hg->g[k].name, name))
            k++;
        if (k < hg->n) {
            hg->next[hg->g[k].last] = (int)i;
            hg->g[k].last = (int)i;
            continue;
        }
        struct hgroup *g = &hg->g[hg->n++];
        *g = (struct hgroup){ name, (int)i, (int)i, false, false, false };
        g->content = env_eq(name, sl_slice_str("content-type")) ||
                     env_eq(name, sl_slice_str("content-length"));
    }
    if (req->authority.len) {
        int k = 0;
        while (k < hg->n && !env_eq(hg->g[k].name, sl_slice_str("host")))
            k++;
        if (k == hg->n)
            hg->g[hg->n++] = (struct hgroup){ sl_slice_str("Host"), -1, -1, false, true, false };
        else
            hg->g[k].host_override = true;
    }
}

/* Whether group g is written at all (EnvironHeaders skips empty CONTENT_*). */
static bool group_present(const struct hgroups *hg, const struct http_request *req,
                          const struct hgroup *g)
{
    (void)hg;
    if (g->content && !g->host_override)
        return req->headers[g->last].value.len > 0;
    return true;
}

static int group_value(struct sl_buf *out, const struct hgroups *hg,
                       const struct http_request *req, const struct hgroup *g)
{
    if (g->host_override)
        return collect_json_str_latin1(out, hg->authority);
    if (g->content || g->first == g->last)
        return collect_json_str_latin1(out, req->headers[g->last].value);
    /* Joined values: escape into place without the inner quotes. */
    int rc = sl_buf_append(out, "\"", 1);
    for (int i = g->first; rc == SL_OK && i >= 0; i = hg->next[i]) {
        if (i != g->first)
            rc = sl_buf_append(out, ",", 1);
        size_t at = out->len;
        if (rc == SL_OK)
            rc = collect_json_str_latin1(out, req->headers[i].value);
        if (rc == SL_OK) { /* drop the quotes the escaper added */
            memmove(out->data + at, out->data + at + 1, out->len - at - 2);
            sl_buf_setlen(out, out->len - 2);
        }
    }
    if (rc == SL_OK)
        rc = sl_buf_append(out, "\"", 1);
    return rc;
}

/* The group whose Werkzeug name is exactly key, not yet used; or NULL. */
static struct hgroup *groups_take(struct hgroups *hg, const struct http_request *req,
                                  const uint8_t *key, size_t key_len)
{
    for (int k = 0; k < hg->n; k++) {
        struct hgroup *g = &hg->g[k];
        if (g->used || !group_present(hg, req, g))
            continue;
        if (name_eq(g->name, key, key_len)) {
            g->used = true;
            return g;
        }
    }
    return NULL;
}

static int write_key(struct sl_buf *out, struct sl_slice name)
{
    if (sl_buf_reserve(out, name.len + 4) != SL_OK)
        return SL_ELIMIT;
    uint8_t *w = out->data + out->len;
    *w++ = '"';
    collect_header_name((char *)w, name);
    w += name.len;
    *w++ = '"';
    *w++ = ':';
    *w++ = ' ';
    sl_buf_setlen(out, (size_t)(w - out->data));
    return SL_OK;
}

/* The headers not merged into earlier keys, then the server fields, then '}'. */
static int write_rest(struct sl_buf *out, struct hgroups *hg, const struct http_request *req,
                      const struct collect_server_fields *sf)
{
    int rc = SL_OK;
    for (int k = 0; rc == SL_OK && k < hg->n; k++) {
        struct hgroup *g = &hg->g[k];
        if (g->used || !group_present(hg, req, g))
            continue;
        rc = sl_buf_append(out, ", ", 2);
        if (rc == SL_OK)
            rc = write_key(out, g->name);
        if (rc == SL_OK)
            rc = group_value(out, hg, req, g);
    }
    if (rc == SL_OK && sf) {
        time_t sec = (time_t)(sf->received_ms / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        char ts[96];
        snprintf(ts, sizeof ts, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(sf->received_ms % 1000));
        const char *colon = strrchr(sf->peer, ':');
        size_t iplen = colon ? (size_t)(colon - sf->peer) : strlen(sf->peer);
        const char *ip = sf->peer;
        if (iplen >= 2 && ip[0] == '[' && ip[iplen - 1] == ']') { /* [v6]:port */
            ip++;
            iplen -= 2;
        }
        rc = sl_buf_appendf(out, ", \"received_at\": \"%s\", \"remote_addr\": ", ts);
        if (rc == SL_OK)
            rc = collect_json_str_latin1(out, sl_slice_make(ip, iplen));
    }
    if (rc == SL_OK)
        rc = sl_buf_append(out, "}", 1);
    return rc;
}

/* ------------------------------------------------------------------ events */

int collect_event_write(struct sl_buf *out, const struct collect_route *route,
                        const struct http_request *req, const struct collect_server_fields *sf)
{
    size_t before = out->len;
    struct hgroups hg;
    groups_build(&hg, req);
    int rc = sl_buf_append_str(out, "{\"event_type\": ");
    if (rc == SL_OK)
        rc = collect_json_str_latin1(out, sl_slice_str(route->event_type));
    for (size_t i = 0; rc == SL_OK && i < route->nfields; i++) {
        const char *key = route->field_keys[i];
        struct hgroup *g = groups_take(&hg, req, (const uint8_t *)key, strlen(key));
        rc = sl_buf_append(out, ", ", 2);
        if (rc == SL_OK && !g) {
            rc = sl_buf_append_str(out, route->field_json[i]);
        } else if (rc == SL_OK) {
            /* dict.update(): the header's value at the field's position */
            const char *json = route->field_json[i];
            const char *sep = strstr(json, "\": ");
            rc = sl_buf_append(out, json, (size_t)(sep - json) + 3);
            if (rc == SL_OK)
                rc = group_value(out, &hg, req, g);
        }
    }
    if (rc == SL_OK)
        rc = write_rest(out, &hg, req, sf);
    if (rc != SL_OK) {
        out->len = before;
        out->data[before] = '\0';
    }
    return rc;
}

/* Whether two keys of doc decode to the same bytes. */
static bool keys_equal(const struct json_doc *doc, const struct json_val *a,
                       const struct json_val *b)
{
    if (!(a->flags & JSON_F_ESCAPED)) {
        struct sl_slice ra = json_raw(doc, a);
        return json_str_eq(doc, b, ra.p, ra.len);
    }
    if (!(b->flags & JSON_F_ESCAPED)) {
        struct sl_slice rb = json_raw(doc, b);
        return json_str_eq(doc, a, rb.p, rb.len);
    }
    struct sl_buf scratch;
    sl_buf_init(&scratch, 64 * 1024);
    struct sl_slice da;
    bool eq = false;
    if (json_str(doc, a, &scratch, &da) == SL_OK)
        eq = json_str_eq(doc, b, da.p, da.len);
    sl_buf_release(&scratch);
    return eq;
}

int collect_event_write_posted(struct sl_buf *out, const struct json_doc *doc,
                               const struct http_request *req,
                               const struct collect_server_fields *sf, struct sl_error *err)
{
    const struct json_val *root = json_root(doc);
    if (root->type != JSON_OBJECT)
        return sl_fail(err, SL_EPROTO, "not a JSON object");
    const struct json_val *et = json_obj_get(doc, root, "event_type", 10);
    if (!et)
        return sl_fail(err, SL_EPROTO, "object has no \"event_type\"");
    if (et->type != JSON_STRING)
        return sl_fail(err, SL_EPROTO, "\"event_type\" is not a string");

    const struct json_val *keys[POSTED_MEMBERS_MAX], *vals[POSTED_MEMBERS_MAX];
    size_t n = 0;
    struct json_iter it = json_iter_make(doc, root);
    const struct json_val *k, *v;
    while (json_obj_next(&it, &k, &v)) {
        if (n == POSTED_MEMBERS_MAX)
            return sl_fail(err, SL_EPROTO, "object has more than %d members",
                           POSTED_MEMBERS_MAX);
        keys[n] = k;
        vals[n] = v;
        n++;
    }

    size_t before = out->len;
    struct hgroups hg;
    groups_build(&hg, req);
    int rc = sl_buf_append(out, "{", 1);
    bool first = true;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        /* json.loads: a repeated key keeps its first position, last value. */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = keys_equal(doc, keys[j], keys[i]);
        if (seen)
            continue;
        const struct json_val *val = vals[i];
        for (size_t j = i + 1; j < n; j++)
            if (keys_equal(doc, keys[i], keys[j]))
                val = vals[j];
        if (!first)
            rc = sl_buf_append(out, ", ", 2);
        first = false;
        if (rc == SL_OK)
            rc = sl_buf_append_slice(out, json_text(doc, keys[i]));
        if (rc == SL_OK)
            rc = sl_buf_append(out, ": ", 2);
        struct hgroup *g = NULL;
        if (rc == SL_OK && !(keys[i]->flags & JSON_F_ESCAPED)) {
            struct sl_slice raw = json_raw(doc, keys[i]);
            g = groups_take(&hg, req, raw.p, raw.len);
        }
        if (rc == SL_OK)
            rc = g ? group_value(out, &hg, req, g) : sl_buf_append_slice(out, json_text(doc, val));
    }
    if (rc == SL_OK)
        rc = write_rest(out, &hg, req, sf);
    if (rc != SL_OK) {
        out->len = before;
        out->data[before] = '\0';
        return sl_fail(err, rc, "event too large");
    }
    return SL_OK;
}
