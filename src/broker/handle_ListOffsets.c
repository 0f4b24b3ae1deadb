/*
 * handle_ListOffsets.c: ListOffsets (2) v0-3 (design §6.3).
 *
 * timestamp -1 (latest): the high watermark (= last stable offset, so the
 * same for read_committed); -2 (earliest): the log start offset; t >= 0: the
 * first record with timestamp >= t, or offset -1 when there is none. v0
 * answers with old_style_offsets holding that one offset.
 */
#include "broker/broker_int.h"

int broker_handle_ListOffsets(struct broker_conn *conn, const struct broker_req *req,
                              struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_ListOffsetsRequest in;
    if (kafka_ListOffsetsRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    struct kafka_ListOffsetsResponse res = {.ntopics = in.ntopics < 0 ? 0 : in.ntopics};
    res.topics =
        sl_arena_alloc(&conn->arena, (res.ntopics ? (size_t)res.ntopics : 1) * sizeof *res.topics);
    for (int32_t i = 0; i < res.ntopics; i++) {
        const struct kafka_ListOffsetsTopic *t = &in.topics[i];
        struct kafka_ListOffsetsTopicResponse *tr = &res.topics[i];
        int32_t np = t->npartitions < 0 ? 0 : t->npartitions;
        tr->name = t->name.p ? t->name : sl_slice_str("");
        tr->npartitions = np;
        tr->partitions =
            sl_arena_alloc(&conn->arena, (np ? (size_t)np : 1) * sizeof *tr->partitions);
        int16_t topic_error;
        struct log_topic *topic = broker_topic(b, t->name, false, &topic_error);
        for (int32_t j = 0; j < np; j++) {
            const struct kafka_ListOffsetsPartition *p = &t->partitions[j];
            struct kafka_ListOffsetsPartitionResponse *pr = &tr->partitions[j];
            *pr = (struct kafka_ListOffsetsPartitionResponse){
                .partition_index = p->partition_index,
                .timestamp = -1,
                .offset = -1,
            };
            struct log_partition *part =
                topic ? log_topic_partition(topic, p->partition_index) : NULL;
            if (!part) {
                pr->error_code = topic ? KAFKA_UNKNOWN_TOPIC_OR_PARTITION : topic_error;
                continue;
            }
            if (p->timestamp == -1) {
                pr->offset = log_partition_high_watermark(part);
            } else if (p->timestamp == -2) {
                pr->offset = log_partition_start_offset(part);
            } else if (p->timestamp < 0) {
                pr->error_code = KAFKA_INVALID_REQUEST;
            } else {
                struct sl_error lerr = {0};
                int64_t off, ts;
                int rc = log_partition_offset_for_time(part, p->timestamp, &off, &ts, &lerr);
                if (rc == SL_OK) {
                    pr->offset = off;
                    pr->timestamp = ts;
                } else if (rc != SL_ENOTFOUND) {
                    pr->error_code = KAFKA_UNKNOWN_SERVER_ERROR;
                }
            }
            if (ver == 0 && pr->error_code == KAFKA_NONE && pr->offset >= 0) {
                pr->old_style_offsets = sl_arena_alloc(&conn->arena, sizeof(int64_t));
                pr->old_style_offsets[0] = pr->offset;
                pr->nold_style_offsets = 1;
            }
        }
    }
    size_t start = broker_resp_begin(conn, req);
    kafka_ListOffsetsResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, 0);
    return SL_OK;
}
