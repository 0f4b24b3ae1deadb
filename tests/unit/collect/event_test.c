/* event_test.c: event JSON as the reference app (Flask + json.dumps) writes
 * it (src/collect/event.c). Expected bytes were produced by the real Flask
 * 2.2 app for the same requests (see tests/integration/test_30_*). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collect/collect.h"
#include "json/json.h"

static struct http_request req;
static struct collect_routes routes;

static void parse(const char *s)
{
    struct sl_error err = { 0 };
    int rc = http_request_parse((const uint8_t *)s, strlen(s), HTTP_HEAD_MAX_DEFAULT, &req, &err);
    if (rc <= 0)
        fprintf(stderr, "parse failed: %s\n", err.msg);
}

static struct sl_buf out;

static char *event_for(const char *path, const char *raw)
{
    sl_buf_reset(&out);
    parse(raw);
    struct collect_route *r = collect_routes_find(&routes, sl_slice_str(path));
    if (!r || collect_event_write(&out, r, &req, NULL) != SL_OK)
        return "(failed)";
    return (char *)out.data;
}

static void test_header_name_titles_like_python(void)
{
    static const char *cases[][2] = {
        { "host", "Host" },         { "USER-AGENT", "User-Agent" }, { "DNT", "Dnt" },
        { "x-1a-b2c", "X-1A-B2C" }, { "x_forwarded_for", "X-Forwarded-For" },
        { "a.b'c", "A.B'C" },       { "9x", "9X" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dst[64] = { 0 };
        collect_header_name(dst, sl_slice_str(cases[i][0]));
        CHECK_STR(dst, cases[i][1]);
    }
}

static void test_json_str_latin1_escapes_like_json_dumps(void)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    collect_json_str_latin1(&out, sl_slice_make("a\"\\\n\r\t\b\f\x01\x7f\xc3\xa9~ ", 14));
    CHECK_STR((char *)out.data,
              "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f\\u00c3\\u00a9~ \"");
    sl_buf_release(&out);
}

static void test_ab_request_gives_the_reference_event_bytes(void)
{
    CHECK_STR(event_for("/", "GET / HTTP/1.0\r\nHost: user1.comcast.com\r\n"
                             "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"),
              "{\"event_type\": \"default\", \"Host\": \"user1.comcast.com\", "
              "\"User-Agent\": \"ApacheBench/2.3\", \"Accept\": \"*/*\"}");
    CHECK_STR(event_for("/purchase_a_sword", "GET /purchase_a_sword HTTP/1.0\r\n\r\n"),
              "{\"event_type\": \"purchase_sword\"}");
}

static void test_repeated_headers_join_with_comma_at_first_position(void)
{
    CHECK_STR(event_for("/", "GET / HTTP/1.1\r\nX-Dup: 1\r\nHost: h\r\nx-dup: 2\r\n"
                             "x_dup: 3\r\n\r\n"),
              "{\"event_type\": \"default\", \"X-Dup\": \"1,2,3\", \"Host\": \"h\"}");
}

static void test_content_type_last_wins_and_empty_is_dropped(void)
{
    CHECK_STR(event_for("/", "GET / HTTP/1.1\r\nContent-Type: \r\nHost: h\r\n"
                             "content_type: text/x\r\n\r\n"),
              "{\"event_type\": \"default\", \"Content-Type\": \"text/x\", \"Host\": \"h\"}");
    CHECK_STR(event_for("/", "GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\n"
                             "Content-Type:\r\nX-E:\r\n\r\n"),
              "{\"event_type\": \"default\", \"Host\": \"h\", \"X-E\": \"\"}");
}

static void test_absolute_form_target_sets_host(void)
{
    CHECK_STR(event_for("/", "GET http://a.b:8/ HTTP/1.1\r\nAccept: x\r\nHost: old\r\n\r\n"),
              "{\"event_type\": \"default\", \"Accept\": \"x\", \"Host\": \"a.b:8\"}");
    CHECK_STR(event_for("/", "GET http://a.b:8/ HTTP/1.0\r\nAccept: x\r\n\r\n"),
              "{\"event_type\": \"default\", \"Accept\": \"x\", \"Host\": \"a.b:8\"}");
}

static void test_route_field_is_replaced_by_a_header_in_place(void)
{
    struct sl_error err = { 0 };
    const char *file = "{\"path\": \"/k\", \"event_type\": \"k\", "
                       "\"fields\": {\"Host\": \"static\", \"description\": \"sharp\"}}";
    CHECK_INT(collect_routes_parse(&routes, sl_slice_str(file), "t", &err), SL_OK);
    CHECK_STR(event_for("/k", "GET /k HTTP/1.1\r\nhost: h\r\nAccept: a\r\n\r\n"),
              "{\"event_type\": \"k\", \"Host\": \"h\", \"description\": \"sharp\", "
              "\"Accept\": \"a\"}");
}

static void test_server_fields_follow_the_headers(void)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    parse("GET / HTTP/1.0\r\nAccept: a\r\n\r\n");
    struct collect_server_fields sf = { 1700000000123, "[::1]:5555" };
    collect_event_write(&out, collect_routes_find(&routes, sl_slice_str("/")), &req, &sf);
    CHECK_STR((char *)out.data, "{\"event_type\": \"default\", \"Accept\": \"a\", "
                                "\"received_at\": \"2023-11-14 22:13:20.123\", "
                                "\"remote_addr\": \"::1\"}");
    sl_buf_release(&out);
}

static int posted(const char *json, struct sl_buf *out, struct sl_error *err)
{
    struct json_doc doc;
    json_doc_init(&doc);
    int rc = json_parse(&doc, sl_slice_str(json), err);
    if (rc == SL_OK)
        rc = collect_event_write_posted(out, &doc, &req, NULL, err);
    json_doc_release(&doc);
    return rc;
}

static void test_posted_event_merges_headers_like_dict_update(void)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    struct sl_error err = { 0 };
    parse("POST /events HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
          "Content-Length: 0\r\n\r\n");
    CHECK_INT(posted("{\"Host\":\"x\",\"event_type\":\"e\",\"n\":[1,2],\"n\":3}", &out, &err),
              SL_OK);
    CHECK_STR((char *)out.data, "{\"Host\": \"h\", \"event_type\": \"e\", \"n\": 3, "
                                "\"Content-Type\": \"application/json\", "
                                "\"Content-Length\": \"0\"}");
    sl_buf_release(&out);
}

static void test_posted_event_without_string_event_type_is_rejected(void)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    struct sl_error err = { 0 };
    parse("POST /events HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK_INT(posted("{\"type\": \"e\"}", &out, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "event_type") != NULL);
    sl_error_clear(&err);
    CHECK_INT(posted("{\"event_type\": 1}", &out, &err), SL_EPROTO);
    sl_error_clear(&err);
    CHECK_INT(posted("[{\"event_type\": \"x\"}]", &out, &err), SL_EPROTO);
    CHECK_INT(out.len, 0);
    sl_buf_release(&out);
}

int main(void)
{
    collect_routes_init(&routes);
    sl_buf_init(&out, 0);
    RUN(test_header_name_titles_like_python);
    RUN(test_json_str_latin1_escapes_like_json_dumps);
    RUN(test_ab_request_gives_the_reference_event_bytes);
    RUN(test_repeated_headers_join_with_comma_at_first_position);
    RUN(test_content_type_last_wins_and_empty_is_dropped);
    RUN(test_absolute_form_target_sets_host);
    RUN(test_route_field_is_replaced_by_a_header_in_place);
    RUN(test_server_fields_follow_the_headers);
    RUN(test_posted_event_merges_headers_like_dict_update);
    RUN(test_posted_event_without_string_event_type_is_rejected);
    collect_routes_release(&routes);
    sl_buf_release(&out);
    return CHECK_DONE();
}
