/*
 * http_request.c: libFuzzer target for the HTTP request parser and the
 * chunked decoder (src/http/parse.c), and the event writer that turns a
 * parsed request into the reference app's JSON (src/collect/event.c).
 *
 * The input is what a client sends on one connection: the target parses
 * requests one after another the way the server does (head, then a
 * Content-Length or chunked body, then the next pipelined request) and
 * checks that:
 *   - results stay inside the input, and a parse never reads past it;
 *   - parsing is incremental: every prefix of a complete head is SL_EAGAIN
 *     (checked on a few prefix lengths) and the same bytes give the same head
 *     length;
 *   - decoding a chunked body byte by byte gives the same body as at once;
 *   - every event written is valid JSON (checked with the json reader),
 *     for the route events and for each object of a body (POST /events).
 * Seeds: fuzz/corpus/http_request/ (ab, curl, wrk, python urllib/requests).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "http/http.h"
#include "json/json.h"

#define MAX_HEAD 4096
#define MAX_BODY 65536

static struct http_request req;

static void check_event(const struct http_request *r, struct collect_routes *rt)
{
    struct collect_route *route = collect_routes_find(rt, sl_slice_str("/purchase_a_sword"));
    struct sl_buf out;
    sl_buf_init(&out, 0);
    struct collect_server_fields sf = { 1700000000000, "127.0.0.1:1" };
    if (collect_event_write(&out, route, r, &sf) != SL_OK)
        abort();
    struct json_doc doc;
    json_doc_init(&doc);
    struct sl_error err = { 0 };
    if (json_parse(&doc, sl_buf_slice(&out), &err) != SL_OK)
        abort(); /* the event must always be valid JSON */
    if (json_root(&doc)->type != JSON_OBJECT)
        abort();
    json_doc_release(&doc);
    sl_buf_release(&out);
}

/* POST /events: every object of the body becomes an event that is valid
 * JSON, or the body is refused (as collect's batch handler does). */
static void check_posted(const struct http_request *r, struct sl_slice body)
{
    struct json_doc doc, back;
    json_doc_init(&doc);
    json_doc_init(&back);
    struct json_stream st = json_stream_make(body);
    struct sl_buf out;
    sl_buf_init(&out, 1 << 20);
    for (int i = 0; i < 64; i++) {
        struct sl_slice raw;
        size_t line;
        struct sl_error err = { 0 };
        int rc = json_stream_next(&st, &doc, &raw, &line, &err);
        if (rc <= 0)
            break;
        sl_buf_reset(&out);
        if (collect_event_write_posted(&out, &doc, r, NULL, &err) != SL_OK)
            continue;
        if (json_parse(&back, sl_buf_slice(&out), &err) != SL_OK)
            abort();
        if (!json_obj_get(&back, json_root(&back), "event_type", 10))
            abort();
    }
    sl_buf_release(&out);
    json_doc_release(&doc);
    json_doc_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct collect_routes rt;
    static int init;
    if (!init) {
        collect_routes_init(&rt);
        init = 1;
    }
    size_t pos = 0;
    for (int n = 0; n < 8 && pos < size; n++) {
        struct sl_error err = { 0 };
        const uint8_t *p = data + pos;
        size_t len = size - pos;
        int rc = http_request_parse(p, len, MAX_HEAD, &req, &err);
        if (rc < 0) {
            if (rc != SL_EAGAIN && req.status != 400 && req.status != 431 && req.status != 501 &&
                req.status != 505)
                abort();
            return 0;
        }
        size_t head = (size_t)rc;
        if (head > len || head > MAX_HEAD)
            abort();
        /* Incremental: shorter prefixes of the head are incomplete, and the
         * exact head gives the same length. */
        struct http_request again;
        size_t cuts[3] = { head - 1, head / 2, 1 };
        for (int i = 0; i < 3; i++) {
            if (cuts[i] == 0 || cuts[i] >= head)
                continue;
            int r2 = http_request_parse(p, cuts[i], MAX_HEAD, &again, &err);
            if (r2 >= 0)
                abort();
        }
        if (http_request_parse(p, head, MAX_HEAD, &again, &err) != rc)
            abort();
        check_event(&req, &rt);

        size_t body_raw;
        if (req.chunked) {
            size_t blen = len - head;
            uint8_t *one = malloc(blen + 1), *inc = malloc(blen + 1);
            memcpy(one, p + head, blen);
            struct http_chunked ck1 = { 0 }, ck2 = { 0 };
            size_t len1 = blen;
            int64_t r1 = http_chunked_decode(&ck1, one, &len1, MAX_BODY, &err);
            /* Byte by byte into a second buffer. */
            size_t len2 = 0;
            int64_t r2 = SL_EAGAIN;
            for (size_t i = 0; i < blen && r2 == SL_EAGAIN; i++) {
                inc[len2++] = p[head + i];
                r2 = http_chunked_decode(&ck2, inc, &len2, MAX_BODY, &err);
            }
            if (r1 >= 0) {
                if (r2 != r1 || memcmp(one, inc, (size_t)r1) != 0 || (size_t)r1 > MAX_BODY)
                    abort();
            } else if (r1 != SL_EAGAIN && r2 >= 0) {
                abort();
            }
            /* Raw bytes used: total minus what decoding left after the body. */
            body_raw = r1 >= 0 ? blen - (len1 - (size_t)r1) : blen;
            if (r1 >= 0)
                check_posted(&req, sl_slice_make(one, (size_t)r1));
            free(one);
            free(inc);
            if (r1 < 0)
                return 0;
        } else {
            size_t cl = req.content_length < 0 ? 0 : (size_t)req.content_length;
            if (cl > len - head)
                return 0;
            body_raw = cl;
            check_posted(&req, sl_slice_make(p + head, cl));
        }
        pos += head + body_raw;
        if (!req.keep_alive)
            return 0;
    }
    return 0;
}
