/*
 * group.c: the consumer-group side of kclient (see kclient.h): a high-level
 * consumer that joins a group, subscribes to a topic and commits what it
 * returned, and the listing of groups with their members, assignments,
 * committed offsets and lag (`sluice groups`).
 *
 * Commit rule: a message counts as consumed once the caller asks for the
 * next one (or closes), so its offset + 1 is stored then
 * (enable.auto.offset.store=false + rd_kafka_offsets_store); librdkafka
 * commits stored offsets every auto.commit.interval.ms and on rebalance, and
 * kclient_group_consumer_close() commits synchronously before leaving the
 * group. So `-c 50` followed by a restart resumes exactly at message 51.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "kclient/kclient.h"
#include "kclient/kclient_int.h"

struct kclient_group_consumer {
    rd_kafka_t *rk;           /* owned */
    rd_kafka_message_t *held; /* owned: the message last returned */
    char *topic;              /* owned */
    bool stop_at_end;
    int64_t max_messages, returned;
    bool *eof;      /* owned: per partition id, at its end since assigned */
    bool *assigned; /* owned: per partition id */
    int32_t n_slots;
    bool closed;
    char last_error[256];
};

static void grow(struct kclient_group_consumer *gc, int32_t id)
{
    if (id < gc->n_slots)
        return;
    int32_t n = id + 16;
    gc->eof = sl_xrealloc(gc->eof, (size_t)n * sizeof *gc->eof);
    gc->assigned = sl_xrealloc(gc->assigned, (size_t)n * sizeof *gc->assigned);
    for (int32_t i = gc->n_slots; i < n; i++)
        gc->eof[i] = gc->assigned[i] = false;
    gc->n_slots = n;
}

static void error_cb(rd_kafka_t *rk, int rkerr, const char *reason, void *opaque)
{
    (void)rk;
    (void)rkerr;
    struct kclient_group_consumer *gc = opaque;
    snprintf(gc->last_error, sizeof gc->last_error, "%s", reason);
}

/* Track the assignment (eager protocols: assign / revoke everything). */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t rkerr,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kclient_group_consumer *gc = opaque;
    for (int32_t i = 0; i < gc->n_slots; i++)
        gc->assigned[i] = gc->eof[i] = false;
    if (rkerr == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            grow(gc, parts->elems[i].partition);
            gc->assigned[parts->elems[i].partition] = true;
        }
        rd_kafka_assign(rk, parts);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static bool all_at_end(const struct kclient_group_consumer *gc)
{
    int n = 0;
    for (int32_t i = 0; i < gc->n_slots; i++) {
        if (!gc->assigned[i])
            continue;
        if (!gc->eof[i])
            return false;
        n++;
    }
    return n > 0;
}

/* The held message is consumed: store its offset + 1 for the next commit. */
static void consumed(struct kclient_group_consumer *gc)
{
    if (!gc->held)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, gc->topic, gc->held->partition)->offset =
        gc->held->offset + 1;
    rd_kafka_offsets_store(gc->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_message_destroy(gc->held);
    gc->held = NULL;
}

struct kclient_group_consumer *kclient_group_consumer_new(const struct kclient_group_conf *conf,
                                                          struct sl_error *err)
{
    struct kclient_group_consumer *gc = sl_xcalloc(1, sizeof *gc); /* owned: returned */
    gc->topic = sl_xstrdup(conf->topic);
    gc->stop_at_end = conf->stop_at_end;
    gc->max_messages = conf->max_messages > 0 ? conf->max_messages : 0;
    rd_kafka_conf_t *rconf = kclient_conf_new(conf->bootstrap, err);
    if (!rconf)
        goto fail;
    if (kclient_conf_consumer(rconf, err) != SL_OK ||
        kclient_conf_set(rconf, "group.id", conf->group, err) != SL_OK ||
        kclient_conf_set(rconf, "enable.partition.eof", conf->stop_at_end ? "true" : "false",
                         err) != SL_OK ||
        kclient_conf_set(rconf, "auto.offset.reset",
                         conf->start == KCLIENT_OFFSET_END ? "latest" : "earliest", err) != SL_OK ||
        kclient_conf_set(rconf, "enable.auto.offset.store", "false", err) != SL_OK ||
        kclient_conf_set(rconf, "allow.auto.create.topics", "false", err) != SL_OK ||
        kclient_conf_props(rconf, conf->props, err) != SL_OK) {
        rd_kafka_conf_destroy(rconf);
        goto fail;
    }
    rd_kafka_conf_set_error_cb(rconf, error_cb);
    rd_kafka_conf_set_rebalance_cb(rconf, rebalance_cb);
    rd_kafka_conf_set_opaque(rconf, gc);
    gc->rk = kclient_rk_new(RD_KAFKA_CONSUMER, rconf, err);
    if (!gc->rk)
        goto fail;
    rd_kafka_poll_set_consumer(gc->rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, gc->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rkerr = rd_kafka_subscribe(gc->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (rkerr) {
        sl_fail(err, kclient_err_code(rkerr), "cannot subscribe to '%s': %s", gc->topic,
                rd_kafka_err2str(rkerr));
        goto fail;
    }
    return gc;
fail:
    kclient_group_consumer_free(gc);
    return NULL;
}

int kclient_group_consumer_next(struct kclient_group_consumer *gc, struct kclient_msg *msg,
                                int timeout_ms, struct sl_error *err)
{
    consumed(gc);
    int64_t deadline = timeout_ms < 0 ? -1 : sl_clock_mono_ms() + timeout_ms;
    for (;;) {
        if (gc->max_messages && gc->returned >= gc->max_messages)
            return 0;
        if (gc->stop_at_end && all_at_end(gc))
            return 0;
        int wait = 100;
        if (deadline >= 0) {
            int64_t left = deadline - sl_clock_mono_ms();
            wait = left < 0 ? 0 : left < 100 ? (int)left : 100;
        }
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(gc->rk, wait);
        if (!rkm) {
            if (deadline >= 0 && sl_clock_mono_ms() >= deadline)
                return SL_EAGAIN;
            continue;
        }
        int32_t id = rkm->partition;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (id >= 0) {
                grow(gc, id);
                gc->eof[id] = true;
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (rkm->err) {
            rd_kafka_resp_err_t rkerr = rkm->err;
            char what[512];
            snprintf(what, sizeof what, "%s", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            if (rkerr == RD_KAFKA_RESP_ERR__TRANSPORT ||
                rkerr == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                continue; /* librdkafka retries; not fatal for a group member */
            return sl_fail(err, kclient_err_code(rkerr), "cannot consume '%s' in group: %s",
                           gc->topic, what);
        }
        if (id >= 0) {
            grow(gc, id);
            gc->eof[id] = false;
        }
        gc->held = rkm;
        gc->returned++;
        kclient_msg_fill(msg, rkm, gc->topic);
        return 1;
    }
}

int kclient_group_consumer_close(struct kclient_group_consumer *gc, struct sl_error *err)
{
    if (!gc || gc->closed)
        return SL_OK;
    gc->closed = true;
    consumed(gc);
    int rc = SL_OK;
    rd_kafka_resp_err_t rkerr = rd_kafka_commit(gc->rk, NULL, 0);
    if (rkerr && rkerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
        rc = sl_fail(err, SL_EIO, "cannot commit offsets of '%s': %s", gc->topic,
                     rd_kafka_err2str(rkerr));
    rd_kafka_consumer_close(gc->rk);
    return rc;
}

void kclient_group_consumer_free(struct kclient_group_consumer *gc)
{
    if (!gc)
        return;
    if (gc->rk && !gc->closed) {
        struct sl_error ignored = {0};
        kclient_group_consumer_close(gc, &ignored);
    }
    if (gc->held)
        rd_kafka_message_destroy(gc->held);
    if (gc->rk)
        rd_kafka_destroy(gc->rk);
    free(gc->eof);
    free(gc->assigned);
    free(gc->topic);
    free(gc);
}

/* ---- Listing groups ---------------------------------------------------------- */

/* Wait for the admin result of `type` on q; NULL with err set on timeout. */
static rd_kafka_event_t *await(rd_kafka_queue_t *q, rd_kafka_event_type_t type, int timeout_ms,
                               const char *what, struct sl_error *err)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - sl_clock_mono_ms();
        if (left <= 0) {
            sl_fail(err, SL_EIO, "%s: timed out", what);
            return NULL;
        }
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)left);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == type) {
            if (rd_kafka_event_error(ev)) {
                sl_fail(err, SL_EIO, "%s: %s", what, rd_kafka_event_error_string(ev));
                rd_kafka_event_destroy(ev);
                return NULL;
            }
            return ev;
        }
        rd_kafka_event_destroy(ev);
    }
}

static const char *state_name(rd_kafka_consumer_group_state_t s)
{
    const char *n = rd_kafka_consumer_group_state_name(s);
    return n ? n : "Unknown";
}

static int describe_one(rd_kafka_t *rk, rd_kafka_queue_t *q, struct kclient_group_info *gi,
                        int timeout_ms, struct sl_error *err)
{
    char what[600];
    /* Members and assignments. */
    rd_kafka_AdminOptions_t *opt =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, NULL, 0);
    const char *names[1] = {gi->group};
    rd_kafka_DescribeConsumerGroups(rk, names, 1, opt, q);
    rd_kafka_AdminOptions_destroy(opt);
    snprintf(what, sizeof what, "cannot describe group '%s'", gi->group);
    rd_kafka_event_t *ev =
        await(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, timeout_ms, what, err);
    if (!ev)
        return err->code;
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (n == 1) {
        gi->state = sl_xstrdup(state_name(rd_kafka_ConsumerGroupDescription_state(d[0])));
        const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d[0]);
        gi->protocol = sl_xstrdup(assignor ? assignor : "");
        size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d[0]);
        gi->members = sl_xcalloc(nm ? nm : 1, sizeof *gi->members);
        gi->n_members = (int)nm;
        for (size_t i = 0; i < nm; i++) {
            const rd_kafka_MemberDescription_t *m =
                rd_kafka_ConsumerGroupDescription_member(d[0], i);
            struct kclient_group_member *gm = &gi->members[i];
            gm->member_id = sl_xstrdup(rd_kafka_MemberDescription_consumer_id(m));
            gm->client_id = sl_xstrdup(rd_kafka_MemberDescription_client_id(m));
            gm->host = sl_xstrdup(rd_kafka_MemberDescription_host(m));
            const rd_kafka_topic_partition_list_t *a =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
            int na = a ? a->cnt : 0;
            gm->assignment = sl_xcalloc(na ? (size_t)na : 1, sizeof *gm->assignment);
            gm->n_assignment = na;
            for (int k = 0; k < na; k++) {
                gm->assignment[k].topic = sl_xstrdup(a->elems[k].topic);
                gm->assignment[k].partition = a->elems[k].partition;
            }
        }
    }
    rd_kafka_event_destroy(ev);
    if (!gi->state) {
        gi->state = sl_xstrdup("Unknown");
        gi->protocol = sl_xstrdup("");
    }

    /* Committed offsets (every partition: OffsetFetch with null topics). */
    opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, NULL, 0);
    rd_kafka_ListConsumerGroupOffsets_t *req =
        rd_kafka_ListConsumerGroupOffsets_new(gi->group, NULL);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, opt, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_AdminOptions_destroy(opt);
    snprintf(what, sizeof what, "cannot fetch the offsets of group '%s'", gi->group);
    ev = await(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, timeout_ms, what, err);
    if (!ev)
        return err->code;
    size_t ng = 0;
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ng);
    const rd_kafka_topic_partition_list_t *parts =
        ng == 1 ? rd_kafka_group_result_partitions(gr[0]) : NULL;
    int np = parts ? parts->cnt : 0;
    gi->offsets = sl_xcalloc(np ? (size_t)np : 1, sizeof *gi->offsets);
    for (int i = 0; i < np; i++) {
        if (parts->elems[i].offset < 0)
            continue;
        struct kclient_group_offset *o = &gi->offsets[gi->n_offsets++];
        o->topic = sl_xstrdup(parts->elems[i].topic);
        o->partition = parts->elems[i].partition;
        o->committed = parts->elems[i].offset;
        int64_t low = -1, high = -1;
        if (rd_kafka_query_watermark_offsets(rk, o->topic, o->partition, &low, &high, timeout_ms) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            high = -1;
        o->high = high;
    }
    rd_kafka_event_destroy(ev);
    return SL_OK;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct kclient_group_info *)a)->group,
                  ((const struct kclient_group_info *)b)->group);
}

int kclient_groups_describe(const char *bootstrap, const char *group, const char *const *props,
                            int timeout_ms, struct kclient_group_info **out, int *n_out,
                            struct sl_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (timeout_ms <= 0)
        timeout_ms = KCLIENT_TIMEOUT_MS;
    rd_kafka_conf_t *rconf = kclient_conf_new(bootstrap, err);
    if (!rconf)
        return err->code;
    if (kclient_conf_props(rconf, props, err) != SL_OK) {
        rd_kafka_conf_destroy(rconf);
        return err->code;
    }
    rd_kafka_t *rk = kclient_rk_new(RD_KAFKA_PRODUCER, rconf, err);
    if (!rk)
        return err->code;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc = SL_OK;
    struct kclient_group_info *v = NULL;
    int n = 0;
    if (group) {
        v = sl_xcalloc(1, sizeof *v);
        v[0].group = sl_xstrdup(group);
        n = 1;
    } else {
        rd_kafka_AdminOptions_t *opt =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
        rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, NULL, 0);
        rd_kafka_ListConsumerGroups(rk, opt, q);
        rd_kafka_AdminOptions_destroy(opt);
        rd_kafka_event_t *ev = await(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, timeout_ms,
                                     "cannot list groups", err);
        if (!ev) {
            rc = err->code;
            goto out;
        }
        size_t ng = 0;
        const rd_kafka_ConsumerGroupListing_t **l = rd_kafka_ListConsumerGroups_result_valid(
            rd_kafka_event_ListConsumerGroups_result(ev), &ng);
        v = sl_xcalloc(ng ? ng : 1, sizeof *v);
        for (size_t i = 0; i < ng; i++)
            v[n++].group = sl_xstrdup(rd_kafka_ConsumerGroupListing_group_id(l[i]));
        rd_kafka_event_destroy(ev);
        qsort(v, (size_t)n, sizeof *v, cmp_info);
    }
    for (int i = 0; i < n && rc == SL_OK; i++)
        rc = describe_one(rk, q, &v[i], timeout_ms, err);
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    if (rc != SL_OK) {
        kclient_groups_free(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return SL_OK;
}

void kclient_groups_free(struct kclient_group_info *groups, int n)
{
    if (!groups)
        return;
    for (int i = 0; i < n; i++) {
        struct kclient_group_info *g = &groups[i];
        for (int j = 0; j < g->n_members; j++) {
            struct kclient_group_member *m = &g->members[j];
            free(m->member_id);
            free(m->client_id);
            free(m->host);
            for (int k = 0; k < m->n_assignment; k++)
                free(m->assignment[k].topic);
            free(m->assignment);
        }
        free(g->members);
        for (int j = 0; j < g->n_offsets; j++)
            free(g->offsets[j].topic);
        free(g->offsets);
        free(g->group);
        free(g->state);
        free(g->protocol);
    }
    free(groups);
}
