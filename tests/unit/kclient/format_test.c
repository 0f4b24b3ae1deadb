/* format_test.c: tests of src/kclient/format.c, the kcat-style output formats. */
#include <stdlib.h>

#include "check.h"
#include "kclient/kclient.h"

static struct kclient_msg sample(void)
{
    struct kclient_msg msg = {
        .value = sl_slice_str("hello"),
        .key = sl_slice_str("k1"),
        .topic = "events",
        .partition = 3,
        .offset = 42,
        .timestamp_ms = 1700000000123,
        .ts_type = KCLIENT_TS_CREATE,
    };
    return msg;
}

static char *render(const char *fmt, const struct kclient_msg *msg)
{
    struct sl_buf out;
    sl_buf_init(&out, 0);
    CHECK_INT(kclient_format(&out, fmt, msg), SL_OK);
    char *s = (char *)sl_buf_detach(&out, NULL); /* owned: caller frees */
    sl_buf_release(&out);                        /* detach left an empty buffer */
    return s;
}

static void test_format_default_is_value_and_newline(void)
{
    struct kclient_msg msg = sample();
    char *s = render(KCLIENT_FORMAT_DEFAULT, &msg);
    CHECK_STR(s, "hello\n");
    free(s);
}

static void test_format_every_field(void)
{
    struct kclient_msg msg = sample();
    char *s = render("%t/%p/%o %T %k=%s (%K,%S) 100%%\\n", &msg);
    CHECK_STR(s, "events/3/42 1700000000123 k1=hello (2,5) 100%\n");
    free(s);
}

static void test_format_escapes(void)
{
    struct kclient_msg msg = sample();
    char *s = render("%k\\t%s\\r\\\\\\n", &msg);
    CHECK_STR(s, "k1\thello\r\\\n");
    free(s);
}

static void test_format_null_key_and_value_print_nothing_with_length_minus_one(void)
{
    struct kclient_msg msg = sample();
    msg.key = sl_slice_make(NULL, 0);
    msg.value = sl_slice_make(NULL, 0);
    char *s = render("[%k][%s] %K %S", &msg);
    CHECK_STR(s, "[][] -1 -1");
    free(s);
}

static void test_format_empty_value_has_length_zero(void)
{
    struct kclient_msg msg = sample();
    msg.value = sl_slice_make("", 0);
    char *s = render("%S", &msg);
    CHECK_STR(s, "0");
    free(s);
}

static void test_format_value_with_nul_bytes_is_copied_whole(void)
{
    struct kclient_msg msg = sample();
    msg.value = sl_slice_make("a\0b", 3);
    struct sl_buf out;
    sl_buf_init(&out, 0);
    CHECK_INT(kclient_format(&out, "%s", &msg), SL_OK);
    CHECK_INT(out.len, 3);
    CHECK_MEM(out.data, "a\0b", 3);
    sl_buf_release(&out);
}

static void test_format_check_accepts_known_sequences(void)
{
    struct sl_error err = { 0 };
    CHECK_INT(kclient_format_check("%s %S %k %K %t %p %o %T %% \\n\\t\\r\\\\ plain", &err), SL_OK);
    CHECK_INT(err.code, SL_OK);
}

static void test_format_check_refuses_unknown_percent(void)
{
    struct sl_error err = { 0 };
    CHECK_INT(kclient_format_check("%s %z", &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "'%z'") != NULL);
}

static void test_format_check_refuses_trailing_percent_and_backslash(void)
{
    struct sl_error err = { 0 };
    CHECK_INT(kclient_format_check("%s%", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(kclient_format_check("%s\\", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(kclient_format_check("\\q", &err), SL_EUSAGE);
}

static void test_format_respects_buffer_cap(void)
{
    struct kclient_msg msg = sample();
    struct sl_buf out;
    sl_buf_init(&out, 4);
    CHECK_INT(kclient_format(&out, "%s", &msg), SL_ELIMIT);
    sl_buf_release(&out);
}

int main(void)
{
    RUN(test_format_default_is_value_and_newline);
    RUN(test_format_every_field);
    RUN(test_format_escapes);
    RUN(test_format_null_key_and_value_print_nothing_with_length_minus_one);
    RUN(test_format_empty_value_has_length_zero);
    RUN(test_format_value_with_nul_bytes_is_copied_whole);
    RUN(test_format_check_accepts_known_sequences);
    RUN(test_format_check_refuses_unknown_percent);
    RUN(test_format_check_refuses_trailing_percent_and_backslash);
    RUN(test_format_respects_buffer_cap);
    return CHECK_DONE();
}
