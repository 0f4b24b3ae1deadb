/* parse_test.c: the HTTP request parser, chunked decoder and response
 * writer (src/http/parse.c, server.c's http_response_write). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http/http.h"

static struct http_request req;

static int parse(const char *s)
{
    struct sl_error err = { 0 };
    return http_request_parse((const uint8_t *)s, strlen(s), HTTP_HEAD_MAX_DEFAULT, &req, &err);
}

static bool slice_is(struct sl_slice s, const char *want)
{
    return sl_slice_eq_str(s, want);
}

static const char AB[] = "GET /purchase_a_sword HTTP/1.0\r\nHost: user1.comcast.com\r\n"
                         "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n";

static void test_parse_ab_request_returns_head_length(void)
{
    CHECK_INT(parse(AB), strlen(AB));
    CHECK(slice_is(req.method, "GET"));
    CHECK(slice_is(req.path, "/purchase_a_sword"));
    CHECK_INT(req.minor, 0);
    CHECK_INT(req.nheaders, 3);
    CHECK(slice_is(req.headers[0].name, "Host"));
    CHECK(slice_is(req.headers[0].value, "user1.comcast.com"));
    CHECK(slice_is(req.headers[2].value, "*/*"));
    CHECK_INT(req.content_length, -1);
    CHECK(!req.keep_alive);
}

static void test_parse_every_prefix_is_eagain(void)
{
    char buf[sizeof AB];
    for (size_t n = 0; n < strlen(AB); n++) {
        memcpy(buf, AB, n);
        buf[n] = '\0';
        struct sl_error err = { 0 };
        int rc = http_request_parse((const uint8_t *)buf, n, HTTP_HEAD_MAX_DEFAULT, &req, &err);
        if (rc != SL_EAGAIN) {
            fprintf(stderr, "prefix %zu gave %d\n", n, rc);
            CHECK_INT(rc, SL_EAGAIN);
            break;
        }
    }
}

static void test_parse_bare_lf_and_leading_empty_lines(void)
{
    const char *s = "\r\n\nGET / HTTP/1.1\nHost: a\n\n";
    CHECK_INT(parse(s), strlen(s));
    CHECK(slice_is(req.headers[0].value, "a"));
    CHECK(req.keep_alive);
}

static void test_parse_query_fragment_and_absolute_form(void)
{
    CHECK(parse("GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    CHECK(slice_is(req.path, "/a/b"));
    CHECK(slice_is(req.query, "x=1&y"));
    CHECK_INT(req.authority.len, 0);
    CHECK(parse("GET http://ex.com:8/p?q HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    CHECK(slice_is(req.authority, "ex.com:8"));
    CHECK(slice_is(req.path, "/p"));
    CHECK(slice_is(req.query, "q"));
    CHECK(parse("GET HTTP://ex.com HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    CHECK(slice_is(req.path, "/"));
    CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    CHECK(slice_is(req.path, "*"));
}

static void test_parse_connection_semantics(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n") > 0 &&
          !req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0 && !req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                "Transfer-Encoding: Chunked\r\n\r\n") > 0);
    CHECK(req.expect_continue && req.chunked && req.content_length == -1);
    CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n") >
          0);
    CHECK_INT(req.content_length, 12);
}

static void test_parse_value_keeps_trailing_blanks_drops_leading(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost:  \t h \t\r\nX-Empty:\r\n\r\n") > 0);
    CHECK(slice_is(req.headers[0].value, "h \t"));
    CHECK_INT(req.headers[1].value.len, 0);
    CHECK(http_request_header(&req, "x-empty") == &req.headers[1]);
    CHECK(http_request_header(&req, "x-missing") == NULL);
}

static void test_parse_rejects_malformed_with_400(void)
{
    static const char *bad[] = {
        "GET\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
        "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
        "GET x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET ftp://x/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "G@T / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost h\r\n\r\n",
        "GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n fold\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i]);
        if (rc != SL_EPROTO || req.status != 400) {
            fprintf(stderr, "case %zu: rc %d status %d\n", i, rc, req.status);
            CHECK_INT(rc, SL_EPROTO);
        }
    }
}

static void test_parse_limits_give_431(void)
{
    size_t n = HTTP_HEAD_MAX_DEFAULT + 100;
    char *big = malloc(n + 1);
    strcpy(big, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    size_t l = strlen(big);
    memset(big + l, 'a', n - l);
    big[n] = '\0';
    CHECK_INT(parse(big), SL_ELIMIT);
    CHECK_INT(req.status, 431);
    /* Complete but too long is 431 too. */
    memcpy(big + n - 4, "\r\n\r\n", 4);
    CHECK_INT(parse(big), SL_ELIMIT);
    free(big);

    char many[8192] = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < HTTP_HEADERS_MAX; i++)
        sprintf(many + strlen(many), "X%d: v\r\n", i);
    strcat(many, "\r\n");
    CHECK_INT(parse(many), SL_ELIMIT);
    CHECK_INT(req.status, 431);
}

static void test_parse_unsupported_gives_501_and_505(void)
{
    CHECK_INT(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
              SL_EUNSUPPORTED);
    CHECK_INT(req.status, 501);
    CHECK_INT(parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), SL_EUNSUPPORTED);
    CHECK_INT(req.status, 505);
}

/* ------------------------------------------------------------- chunked */

static int64_t decode_all(const char *raw, size_t max, char *out, size_t *rest_len)
{
    size_t len = strlen(raw);
    uint8_t *buf = malloc(len + 1);
    memcpy(buf, raw, len);
    struct http_chunked ck = { 0 };
    struct sl_error err = { 0 };
    int64_t r = http_chunked_decode(&ck, buf, &len, max, &err);
    if (r >= 0) {
        memcpy(out, buf, (size_t)r);
        out[r] = '\0';
        *rest_len = len - (size_t)r;
    }
    free(buf);
    return r;
}

static void test_chunked_decodes_in_place_with_extensions_and_trailers(void)
{
    char out[64];
    size_t rest;
    CHECK_INT(decode_all("4;a=b\r\nWiki\r\n5 \r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                         "X-T: 1\r\n\r\nGET",
                         1000, out, &rest),
              23);
    CHECK_STR(out, "Wikipedia in\r\n\r\nchunks.");
    CHECK_INT(rest, 3); /* "GET" of the next request follows the body */
    CHECK_INT(decode_all("0\n\n", 1000, out, &rest), 0);
    CHECK_INT(decode_all("A\r\n0123456789\r\n0\r\n\r\n", 10, out, &rest), 10);
}

static void test_chunked_byte_at_a_time_equals_one_shot(void)
{
    const char *raw = "3\r\nabc\r\n10;x=\"y\"\r\n0123456789abcdef\r\n1\r\nZ\r\n0\r\nT: v\r\n\r\nNEXT";
    size_t total = strlen(raw);
    uint8_t buf[256];
    struct http_chunked ck = { 0 };
    struct sl_error err = { 0 };
    size_t len = 0;
    int64_t r = SL_EAGAIN;
    for (size_t i = 0; i < total && r == SL_EAGAIN; i++) {
        /* one more raw byte arrives after what is already decoded or pending */
        buf[len++] = (uint8_t)raw[i];
        r = http_chunked_decode(&ck, buf, &len, 1000, &err);
    }
    CHECK_INT(r, 20);
    CHECK_MEM(buf, "abc0123456789abcdefZ", 20);
    CHECK_INT(len, 20); /* NEXT not yet fed */
}

static void test_chunked_rejects_bad_framing_and_limits(void)
{
    char out[64];
    size_t rest;
    CHECK_INT(decode_all("zz\r\n", 100, out, &rest), SL_EPROTO);
    CHECK_INT(decode_all("3\r\nabcX\r\n", 100, out, &rest), SL_EPROTO);
    CHECK_INT(decode_all("3\rX", 100, out, &rest), SL_EPROTO);
    CHECK_INT(decode_all("\r\n", 100, out, &rest), SL_EPROTO);
    CHECK_INT(decode_all("B\r\n", 10, out, &rest), SL_ELIMIT);
    CHECK_INT(decode_all("ffffffffffffffffffffff\r\n", 100, out, &rest), SL_ELIMIT);
    CHECK_INT(decode_all("6\r\nabcdef\r\n6\r\n", 10, out, &rest), SL_ELIMIT);
    CHECK_INT(decode_all("3\r\nabc", 100, out, &rest), SL_EAGAIN);
}

/* ------------------------------------------------------------ response */

static void test_response_write_headers_by_version_and_method(void)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    struct http_response resp = { 200, "text/html; charset=utf-8", NULL,
                                  sl_slice_str("Sword Purchased!\n") };
    CHECK_INT(http_response_write(&out, &resp, 1, true, false, NULL), SL_OK);
    CHECK_STR((char *)out.data, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                "Content-Length: 17\r\n\r\nSword Purchased!\n");
    sl_buf_reset(&out);
    http_response_write(&out, &resp, 0, true, true, "Date: x\r\n");
    CHECK_STR((char *)out.data, "HTTP/1.1 200 OK\r\nDate: x\r\nContent-Type: text/html; "
                                "charset=utf-8\r\nContent-Length: 17\r\n"
                                "Connection: keep-alive\r\n\r\n");
    sl_buf_reset(&out);
    struct http_response r405 = { 405, NULL, "Allow: GET\r\n", sl_slice_str("") };
    http_response_write(&out, &r405, 1, false, false, NULL);
    CHECK_STR((char *)out.data, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                                "Connection: close\r\nAllow: GET\r\n\r\n");
    sl_buf_release(&out);
}

int main(void)
{
    RUN(test_parse_ab_request_returns_head_length);
    RUN(test_parse_every_prefix_is_eagain);
    RUN(test_parse_bare_lf_and_leading_empty_lines);
    RUN(test_parse_query_fragment_and_absolute_form);
    RUN(test_parse_connection_semantics);
    RUN(test_parse_value_keeps_trailing_blanks_drops_leading);
    RUN(test_parse_rejects_malformed_with_400);
    RUN(test_parse_limits_give_431);
    RUN(test_parse_unsupported_gives_501_and_505);
    RUN(test_chunked_decodes_in_place_with_extensions_and_trailers);
    RUN(test_chunked_byte_at_a_time_equals_one_shot);
    RUN(test_chunked_rejects_bad_framing_and_limits);
    RUN(test_response_write_headers_by_version_and_method);
    return CHECK_DONE();
}
