/*
 * client_test.c: tests of src/kclient's producer, consumer and admin that need
 * no broker: configuration errors, and what each reports when nothing listens
 * at the bootstrap address. Round trips against a real broker are in
 * tests/integration/test_1x_*.py.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "kclient/kclient.h"

/* A loopback address where nothing listens: bind a port, then close it. */
static const char *dead_address(void)
{
    static char addr[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    close(fd);
    return addr;
}

static void test_producer_unknown_property_is_usage_error(void)
{
    struct sl_error err = { 0 };
    const char *props[] = { "no.such.property=1", NULL };
    struct kclient_producer_conf conf = { .bootstrap = "127.0.0.1:9", .props = props };
    CHECK(kclient_producer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
    CHECK(strstr(err.msg, "no.such.property") != NULL);
}

static void test_producer_property_without_equals_is_usage_error(void)
{
    struct sl_error err = { 0 };
    const char *props[] = { "linger.ms", NULL };
    struct kclient_producer_conf conf = { .bootstrap = "127.0.0.1:9", .props = props };
    CHECK(kclient_producer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
    CHECK(strstr(err.msg, "name=value") != NULL);
}

static void test_producer_bad_acks_is_usage_error(void)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = { .bootstrap = "127.0.0.1:9", .acks = "2" };
    CHECK(kclient_producer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
    CHECK(strstr(err.msg, "acks") != NULL);
}

static void test_missing_bootstrap_is_usage_error(void)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = { .bootstrap = "" };
    CHECK(kclient_producer_new(&conf, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
    sl_error_clear(&err);
    CHECK(kclient_admin_new(NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, SL_EUSAGE);
}

static int reports, report_failures;
static void *last_opaque;

static void on_delivery(void *opaque, void *msg_opaque, int code, const char *reason,
                        int32_t partition, int64_t offset)
{
    (void)partition;
    (void)offset;
    CHECK(opaque == (void *)&reports);
    reports++;
    if (code != SL_OK) {
        report_failures++;
        CHECK(reason != NULL);
    }
    last_opaque = msg_opaque;
}

static void test_producer_flush_fails_when_nothing_listens(void)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = {
        .bootstrap = dead_address(),
        .delivery_timeout_ms = 500,
        .on_delivery = on_delivery,
        .opaque = &reports,
    };
    struct kclient_producer *prod = kclient_producer_new(&conf, &err);
    CHECK(prod != NULL);
    if (!prod)
        return;
    int tag = 7;
    CHECK_INT(kclient_produce(prod, "t", KCLIENT_PARTITION_ANY, sl_slice_str("k"),
                              sl_slice_str("v1"), &tag, &err),
              SL_OK);
    CHECK_INT(kclient_produce(prod, "t", 0, sl_slice_make(NULL, 0), sl_slice_make(NULL, 0),
                              &tag, &err),
              SL_OK);
    int64_t t0 = sl_clock_mono_ms();
    CHECK_INT(kclient_producer_flush(prod, -1, &err), SL_EIO);
    CHECK(sl_clock_mono_ms() - t0 < 10000);
    CHECK(strstr(err.msg, "2 of 2 messages not delivered") != NULL);
    struct kclient_producer_stats stats;
    kclient_producer_stats(prod, &stats);
    CHECK_INT(stats.queued, 2);
    CHECK_INT(stats.delivered, 0);
    CHECK_INT(stats.failed, 2);
    CHECK_INT(reports, 2);
    CHECK_INT(report_failures, 2);
    CHECK(last_opaque == &tag);
    kclient_producer_free(prod);
}

static void test_producer_free_with_queued_messages(void)
{
    struct sl_error err = { 0 };
    struct kclient_producer_conf conf = { .bootstrap = dead_address() };
    struct kclient_producer *prod = kclient_producer_new(&conf, &err);
    CHECK(prod != NULL);
    if (!prod)
        return;
    for (int i = 0; i < 100; i++)
        CHECK_INT(kclient_produce(prod, "t", KCLIENT_PARTITION_ANY, sl_slice_make(NULL, 0),
                                  sl_slice_str("x"), NULL, &err),
                  SL_OK);
    kclient_producer_free(prod); /* must not hang for the delivery timeout */
    kclient_producer_free(NULL);
}

static void test_consumer_reports_unreachable_broker(void)
{
    struct sl_error err = { 0 };
    const char *addr = dead_address();
    struct kclient_consumer_conf conf = {
        .bootstrap = addr,
        .topic = "t",
        .partition = KCLIENT_PARTITION_ALL,
        .start = KCLIENT_OFFSET_BEGINNING,
        .stop_at_end = true,
        .timeout_ms = 500,
    };
    int64_t t0 = sl_clock_mono_ms();
    CHECK(kclient_consumer_new(&conf, &err) == NULL);
    CHECK(sl_clock_mono_ms() - t0 < 5000);
    CHECK_INT(err.code, SL_EIO);
    CHECK(strstr(err.msg, addr) != NULL);
    kclient_consumer_free(NULL);
}

static int count_calls(void *opaque, const struct kclient_msg *msg)
{
    (void)msg;
    (*(int *)opaque)++;
    return 0;
}

static void test_consume_callback_form_reports_the_same_error(void)
{
    struct sl_error err = { 0 };
    struct kclient_consumer_conf conf = {
        .bootstrap = dead_address(),
        .topic = "t",
        .partition = KCLIENT_PARTITION_ALL,
        .start = KCLIENT_OFFSET_BEGINNING,
        .stop_at_end = true,
        .timeout_ms = 500,
    };
    int calls = 0;
    CHECK_INT(kclient_consume(&conf, count_calls, &calls, NULL, &err), SL_EIO);
    CHECK_INT(calls, 0);
    CHECK(err.msg[0] != '\0');
}

static void test_admin_list_reports_unreachable_broker(void)
{
    struct sl_error err = { 0 };
    struct kclient_admin *admin = kclient_admin_new(dead_address(), NULL, &err);
    CHECK(admin != NULL);
    if (!admin)
        return;
    char **names = (char **)1;
    int n = -1;
    CHECK_INT(kclient_topic_list(admin, 500, &names, &n, &err), SL_EIO);
    CHECK(names == NULL);
    CHECK_INT(n, 0);
    CHECK(strstr(err.msg, "cannot get metadata") != NULL);
    kclient_admin_free(admin);
    kclient_admin_free(NULL);
}

static void test_admin_create_times_out_when_nothing_listens(void)
{
    struct sl_error err = { 0 };
    struct kclient_admin *admin = kclient_admin_new(dead_address(), NULL, &err);
    CHECK(admin != NULL);
    if (!admin)
        return;
    CHECK_INT(kclient_topic_create(admin, "t", 1, 1, NULL, 1000, &err), SL_EIO);
    CHECK(strstr(err.msg, "cannot create topic 't'") != NULL);
    kclient_admin_free(admin);
}

int main(void)
{
    RUN(test_producer_unknown_property_is_usage_error);
    RUN(test_producer_property_without_equals_is_usage_error);
    RUN(test_producer_bad_acks_is_usage_error);
    RUN(test_missing_bootstrap_is_usage_error);
    RUN(test_producer_flush_fails_when_nothing_listens);
    RUN(test_producer_free_with_queued_messages);
    RUN(test_consumer_reports_unreachable_broker);
    RUN(test_consume_callback_form_reports_the_same_error);
    RUN(test_admin_list_reports_unreachable_broker);
    RUN(test_admin_create_times_out_when_nothing_listens);
    return CHECK_DONE();
}
