/*
 * admin.c: topic administration through librdkafka's Admin API and
 * Metadata (see kclient.h).
 *
 * Describe and list read an all-topics Metadata response: a Metadata request
 * naming a topic may create it on brokers with auto-creation on, and
 * describing a topic must never create it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "kclient/kclient.h"
#include "kclient/kclient_int.h"

struct kclient_admin {
    rd_kafka_t *rk;       /* owned: a producer handle, used only for admin calls */
    char *bootstrap;      /* owned, for messages */
    char last_error[256]; /* latest client-level error (error_cb) */
};

static void error_cb(rd_kafka_t *rk, int rkerr, const char *reason, void *opaque)
{
    (void)rk;
    (void)rkerr;
    struct kclient_admin *admin = opaque;
    snprintf(admin->last_error, sizeof admin->last_error, "%s", reason);
}

static int fail_rd(struct kclient_admin *admin, struct sl_error *err, rd_kafka_resp_err_t rkerr,
                   const char *what, const char *detail)
{
    rd_kafka_poll(admin->rk, 0);
    const char *extra = detail && *detail ? detail : admin->last_error;
    return sl_fail(err, kclient_err_code(rkerr), "%s: %s%s%s%s", what, rd_kafka_err2str(rkerr),
                   *extra ? " (" : "", extra, *extra ? ")" : "");
}

struct kclient_admin *kclient_admin_new(const char *bootstrap, const char *const *props,
                                        struct sl_error *err)
{
    struct kclient_admin *admin = sl_xcalloc(1, sizeof *admin); /* owned: returned */
    admin->bootstrap = sl_xstrdup(bootstrap ? bootstrap : "");
    rd_kafka_conf_t *rconf = kclient_conf_new(bootstrap, err);
    if (!rconf)
        goto fail;
    if (kclient_conf_set(rconf, "allow.auto.create.topics", "false", err) != SL_OK ||
        kclient_conf_props(rconf, props, err) != SL_OK) {
        rd_kafka_conf_destroy(rconf);
        goto fail;
    }
    rd_kafka_conf_set_error_cb(rconf, error_cb);
    rd_kafka_conf_set_opaque(rconf, admin);
    admin->rk = kclient_rk_new(RD_KAFKA_PRODUCER, rconf, err);
    if (!admin->rk)
        goto fail;
    return admin;
fail:
    kclient_admin_free(admin);
    return NULL;
}

void kclient_admin_free(struct kclient_admin *admin)
{
    if (!admin)
        return;
    if (admin->rk)
        rd_kafka_destroy(admin->rk);
    free(admin->bootstrap);
    free(admin);
}

static int timeout_or_default(int timeout_ms)
{
    return timeout_ms > 0 ? timeout_ms : KCLIENT_TIMEOUT_MS;
}

/* Wait for the result event of one admin request. NULL after a timeout. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *queue, int timeout_ms)
{
    /* The request times out by itself; the extra second lets its result arrive. */
    return rd_kafka_queue_poll(queue, timeout_ms + 1000);
}

/* The outcome of a one-topic Create/DeleteTopics result. */
static int topic_result(struct kclient_admin *admin, const rd_kafka_topic_result_t *res,
                        const char *what, struct sl_error *err)
{
    rd_kafka_resp_err_t rkerr = rd_kafka_topic_result_error(res);
    if (!rkerr)
        return SL_OK;
    const char *detail = rd_kafka_topic_result_error_string(res);
    if (detail && strcmp(detail, rd_kafka_err2str(rkerr)) == 0)
        detail = NULL;
    return fail_rd(admin, err, rkerr, what, detail);
}

int kclient_topic_create(struct kclient_admin *admin, const char *topic, int partitions,
                         int replication, const char *const *configs, int timeout_ms,
                         struct sl_error *err)
{
    timeout_ms = timeout_or_default(timeout_ms);
    char what[512];
    snprintf(what, sizeof what, "cannot create topic '%s'", topic);
    char errstr[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions,
                                                    replication < 1 ? -1 : replication,
                                                    errstr, sizeof errstr);
    if (!nt)
        return sl_fail(err, SL_EUSAGE, "%s: %s", what, errstr);
    for (const char *const *c = configs; c && *c; c++) {
        const char *eq = strchr(*c, '=');
        if (!eq || eq == *c) {
            rd_kafka_NewTopic_destroy(nt);
            return sl_fail(err, SL_EUSAGE, "topic config '%s' is not NAME=VALUE", *c);
        }
        char *name = sl_xstrndup(*c, (size_t)(eq - *c));
        rd_kafka_resp_err_t rkerr = rd_kafka_NewTopic_set_config(nt, name, eq + 1);
        free(name);
        if (rkerr) {
            rd_kafka_NewTopic_destroy(nt);
            return sl_fail(err, SL_EUSAGE, "%s: topic config '%s': %s", what, *c,
                           rd_kafka_err2str(rkerr));
        }
    }
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(admin->rk,
                                                              RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(admin->rk);
    rd_kafka_CreateTopics(admin->rk, &nt, 1, opts, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc;
    if (!ev) {
        rc = fail_rd(admin, err, RD_KAFKA_RESP_ERR__TIMED_OUT, what, NULL);
    } else if (rd_kafka_event_error(ev)) {
        rc = fail_rd(admin, err, rd_kafka_event_error(ev), what, NULL);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = n == 1 ? topic_result(admin, res[0], what, err)
                    : sl_fail(err, SL_EIO, "%s: the broker's answer names %zu topics", what, n);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int kclient_topic_delete(struct kclient_admin *admin, const char *topic, int timeout_ms,
                         struct sl_error *err)
{
    timeout_ms = timeout_or_default(timeout_ms);
    char what[512];
    snprintf(what, sizeof what, "cannot delete topic '%s'", topic);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(admin->rk,
                                                              RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(admin->rk);
    rd_kafka_DeleteTopics(admin->rk, &dt, 1, opts, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc;
    if (!ev) {
        rc = fail_rd(admin, err, RD_KAFKA_RESP_ERR__TIMED_OUT, what, NULL);
    } else if (rd_kafka_event_error(ev)) {
        rc = fail_rd(admin, err, rd_kafka_event_error(ev), what, NULL);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        if (n == 1 && rd_kafka_topic_result_error(res[0]) ==
                          RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            rc = sl_fail(err, SL_ENOTFOUND, "%s: topic does not exist", what);
        else
            rc = n == 1 ? topic_result(admin, res[0], what, err)
                        : sl_fail(err, SL_EIO, "%s: the broker's answer names %zu topics", what,
                                  n);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_DeleteTopic_destroy(dt);
    return rc;
}

static const struct rd_kafka_metadata *all_metadata(struct kclient_admin *admin, int timeout_ms,
                                                     struct sl_error *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rkerr =
        rd_kafka_metadata(admin->rk, 1, NULL, &md, timeout_or_default(timeout_ms));
    if (rkerr) {
        char what[512];
        snprintf(what, sizeof what, "cannot get metadata from '%s'", admin->bootstrap);
        fail_rd(admin, err, rkerr, what, NULL);
        return NULL;
    }
    return md;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_part(const void *a, const void *b)
{
    return cmp_i32(&((const struct kclient_partition_info *)a)->id,
                   &((const struct kclient_partition_info *)b)->id);
}

static int32_t *dup_ids(const int32_t *ids, int n)
{
    int32_t *out = sl_xmalloc(sizeof *out * (size_t)(n > 0 ? n : 1)); /* owned by the info */
    if (n > 0)
        memcpy(out, ids, sizeof *out * (size_t)n);
    return out;
}

/* info->configs: the configs set for the topic itself, "NAME=VALUE,..." in
 * the broker's order (kafka-topics --describe shows these, not defaults). */
static int describe_configs(struct kclient_admin *admin, const char *topic, int timeout_ms,
                            struct kclient_topic_info *info, struct sl_error *err)
{
    char what[512];
    snprintf(what, sizeof what, "cannot describe the configs of topic '%s'", topic);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(admin->rk,
                                                              RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(admin->rk);
    rd_kafka_DescribeConfigs(admin->rk, &res, 1, opts, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc = SL_OK;
    size_t n = 0;
    const rd_kafka_ConfigResource_t **out = NULL;
    if (!ev)
        rc = fail_rd(admin, err, RD_KAFKA_RESP_ERR__TIMED_OUT, what, NULL);
    else if (rd_kafka_event_error(ev))
        rc = fail_rd(admin, err, rd_kafka_event_error(ev), what, NULL);
    else
        out = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev),
                                                        &n);
    if (rc == SL_OK && n != 1)
        rc = sl_fail(err, SL_EIO, "%s: the broker's answer names %zu resources", what, n);
    if (rc == SL_OK && rd_kafka_ConfigResource_error(out[0]))
        rc = fail_rd(admin, err, rd_kafka_ConfigResource_error(out[0]), what,
                     rd_kafka_ConfigResource_error_string(out[0]));
    struct sl_buf text; /* uncapped: appends cannot fail */
    sl_buf_init(&text, 0);
    size_t nentries = 0;
    const rd_kafka_ConfigEntry_t **entries =
        rc == SL_OK ? rd_kafka_ConfigResource_configs(out[0], &nentries) : NULL;
    for (size_t i = 0; i < nentries; i++) {
        const char *value = rd_kafka_ConfigEntry_value(entries[i]);
        if (rd_kafka_ConfigEntry_source(entries[i]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
            sl_buf_appendf(&text, "%s%s=%s", text.len ? "," : "",
                           rd_kafka_ConfigEntry_name(entries[i]), value ? value : "");
    }
    info->configs = (char *)sl_buf_detach(&text, NULL);
    sl_buf_release(&text); /* detach leaves it initialised */
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

int kclient_topic_describe(struct kclient_admin *admin, const char *topic, int timeout_ms,
                           struct kclient_topic_info *info, struct sl_error *err)
{
    memset(info, 0, sizeof *info);
    const struct rd_kafka_metadata *md = all_metadata(admin, timeout_ms, err);
    if (!md)
        return err && err->code ? err->code : SL_EIO;
    const struct rd_kafka_metadata_topic *mt = NULL;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            mt = &md->topics[i];
    int rc = SL_OK;
    if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rc = sl_fail(err, SL_ENOTFOUND, "topic '%s' does not exist", topic);
    } else if (mt->err) {
        char what[512];
        snprintf(what, sizeof what, "cannot describe topic '%s'", topic);
        rc = fail_rd(admin, err, mt->err, what, NULL);
    } else {
        info->name = sl_xstrdup(topic);
        info->n_parts = mt->partition_cnt;
        info->parts = sl_xcalloc((size_t)(mt->partition_cnt > 0 ? mt->partition_cnt : 1),
                                 sizeof *info->parts);
        for (int i = 0; i < mt->partition_cnt; i++) {
            const struct rd_kafka_metadata_partition *mp = &mt->partitions[i];
            struct kclient_partition_info *p = &info->parts[i];
            p->id = mp->id;
            p->leader = mp->leader;
            p->replicas = dup_ids(mp->replicas, mp->replica_cnt);
            p->n_replicas = mp->replica_cnt;
            p->isrs = dup_ids(mp->isrs, mp->isr_cnt);
            p->n_isrs = mp->isr_cnt;
            p->err = mp->err ? SL_EIO : SL_OK;
        }
        qsort(info->parts, (size_t)info->n_parts, sizeof *info->parts, cmp_part);
        info->replication = info->n_parts > 0 ? info->parts[0].n_replicas : 0;
        rc = describe_configs(admin, topic, timeout_or_default(timeout_ms), info, err);
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

void kclient_topic_info_release(struct kclient_topic_info *info)
{
    if (!info)
        return;
    for (int i = 0; i < info->n_parts; i++) {
        free(info->parts[i].replicas);
        free(info->parts[i].isrs);
    }
    free(info->parts);
    free(info->name);
    free(info->configs);
    memset(info, 0, sizeof *info);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kclient_topic_list(struct kclient_admin *admin, int timeout_ms, char ***names, int *n,
                       struct sl_error *err)
{
    *names = NULL;
    *n = 0;
    const struct rd_kafka_metadata *md = all_metadata(admin, timeout_ms, err);
    if (!md)
        return err && err->code ? err->code : SL_EIO;
    char **out = sl_xcalloc((size_t)md->topic_cnt + 1, sizeof *out); /* owned: returned */
    int count = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!md->topics[i].err)
            out[count++] = sl_xstrdup(md->topics[i].topic);
    rd_kafka_metadata_destroy(md);
    qsort(out, (size_t)count, sizeof *out, cmp_str);
    *names = out;
    *n = count;
    return SL_OK;
}

void kclient_names_free(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
