/*
 * handle_Metadata.c: Metadata (3) v0-7. One broker (this one, at the
 * advertised address), which is also the controller (pitfall 7), a stable
 * cluster id (pitfall 8), and every partition led by it with epoch 0.
 *
 * Topics: v0 with an empty list and v1+ with a null list mean all topics.
 * Named topics that do not exist are created when auto-creation is on and
 * the request allows it (v0-3 always allow; v4+ say so in
 * allow_auto_topic_creation); never for an all-topics request (pitfall 9).
 */
#include "broker/broker_int.h"

static void fill_topic(struct broker_conn *conn, struct kafka_MetadataResponseTopic *t,
                       struct log_topic *topic)
{
    int32_t n = log_topic_partitions(topic);
    t->partitions = sl_arena_alloc(&conn->arena, (size_t)n * sizeof *t->partitions);
    t->npartitions = n;
    static int32_t self[1] = {BROKER_NODE_ID};
    for (int32_t i = 0; i < n; i++) {
        struct kafka_MetadataResponsePartition *p = &t->partitions[i];
        *p = (struct kafka_MetadataResponsePartition){
            .error_code = KAFKA_NONE,
            .partition_index = i,
            .leader_id = BROKER_NODE_ID,
            .leader_epoch = 0,
            .replica_nodes = self,
            .nreplica_nodes = 1,
            .isr_nodes = self,
            .nisr_nodes = 1,
            .offline_replicas = NULL,
            .noffline_replicas = 0,
        };
    }
}

int broker_handle_Metadata(struct broker_conn *conn, const struct broker_req *req,
                           struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_MetadataRequest in;
    if (kafka_MetadataRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;

    struct kafka_MetadataResponseBroker self = {
        .node_id = BROKER_NODE_ID,
        .host = sl_slice_str(conn->adv_host),
        .port = conn->adv_port,
        .rack = sl_slice_make(NULL, 0),
    };
    struct kafka_MetadataResponse res = {
        .brokers = &self,
        .nbrokers = 1,
        .cluster_id = sl_slice_str(b->cluster_id),
        .controller_id = BROKER_NODE_ID,
    };
    bool all = in.ntopics < 0 || (ver == 0 && in.ntopics == 0);
    if (all) {
        size_t n = log_store_topic_count(b->store);
        res.topics = sl_arena_alloc(&conn->arena, (n ? n : 1) * sizeof *res.topics);
        res.ntopics = (int32_t)n;
        for (size_t i = 0; i < n; i++) {
            struct log_topic *topic = log_store_topic_at(b->store, i);
            res.topics[i] = (struct kafka_MetadataResponseTopic){
                .name = sl_slice_str(log_topic_name(topic)),
            };
            fill_topic(conn, &res.topics[i], topic);
        }
    } else {
        res.ntopics = in.ntopics;
        res.topics = sl_arena_alloc(&conn->arena,
                                    (in.ntopics ? (size_t)in.ntopics : 1) * sizeof *res.topics);
        for (int32_t i = 0; i < in.ntopics; i++) {
            struct kafka_MetadataResponseTopic *t = &res.topics[i];
            *t = (struct kafka_MetadataResponseTopic){.name = in.topics[i].name};
            if (!t->name.p)
                t->name = sl_slice_str("");
            struct log_topic *topic =
                broker_topic(b, in.topics[i].name, in.allow_auto_topic_creation, &t->error_code);
            if (topic)
                fill_topic(conn, t, topic);
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_MetadataResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
