/*
 * handle_Produce.c: Produce (0) v0-7.
 *
 * v3-7: each partition's `records` must be exactly one magic-2 batch that
 * parses, passes its CRC (else CORRUPT_MESSAGE) and Kafka's produce checks
 * (else INVALID_RECORD); zstd needs v7. The batch is appended as it arrived
 * (the log patches base offset and epoch in place, in our receive buffer),
 * so consumers get the producer's bytes unchanged.
 * v0-2 carry the legacy MessageSet format: the request is parsed and every
 * partition answered UNSUPPORTED_FOR_MESSAGE_FORMAT (design §3.2: no client
 * sends them with our version table).
 *
 * acks=0 gets no response at all. acks=1 and -1 are answered after the group
 * commit that makes the appended batches durable (broker.c, before-sleep):
 * the response carries the highest append ticket.
 *
 * Idempotent-producer sequence checks (design §5.5): producer_state.c.
 */
#include "base/log.h"
#include "broker/broker_int.h"

#define KAFKA_STORAGE_ERROR 56

static int16_t append_one(struct broker_conn *conn, int16_t ver, struct log_partition *part,
                          struct sl_slice records, struct kafka_ProducePartitionResponse *pr,
                          uint64_t *ticket)
{
    struct sl_error err = { 0 };
    if (ver < 3)
        return KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    if (!records.p || records.len == 0)
        return KAFKA_INVALID_RECORD;
    struct kafka_batch batch;
    int64_t size = kafka_batch_parse(records, &batch, &err);
    if (size == SL_ECORRUPT) {
        sl_debug("%s: produce: %s", conn->peer, err.msg);
        return KAFKA_CORRUPT_MESSAGE;
    }
    if (size < 0 || (size_t)size != records.len) {
        sl_debug("%s: produce: %s", conn->peer, size < 0 ? err.msg : "more than one batch");
        return KAFKA_INVALID_RECORD;
    }
    if (kafka_batch_codec(&batch) == KAFKA_CODEC_ZSTD && ver < 7)
        return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
    if (kafka_batch_validate_produce(&batch, &err) != SL_OK) {
        sl_debug("%s: produce: %s", conn->peer, err.msg);
        return KAFKA_INVALID_RECORD;
    }
    /* Idempotent producers (§5.5): a retry is answered with the original
     * offset and not appended again; a gap or stale epoch is refused. */
    int64_t dup_offset;
    int16_t seq_error = broker_producer_check(part, &batch, &dup_offset);
    if (seq_error == KAFKA_DUPLICATE_SEQUENCE_NUMBER) {
        pr->base_offset = dup_offset;
        pr->log_start_offset = log_partition_start_offset(part);
        /* The original may still wait for its sync: answer no sooner. */
        uint64_t last = log_store_last_ticket(conn->b->store);
        if (dup_offset >= log_partition_high_watermark(part) && last > *ticket)
            *ticket = last;
        return KAFKA_NONE;
    }
    if (seq_error != KAFKA_NONE)
        return seq_error;
    struct log_append_info info;
    /* records borrows from conn->rbuf, which this connection owns: the log
     * patches offsets into it before writing. */
    int rc = log_partition_append(part, (uint8_t *)records.p, records.len, &info, &err);
    if (rc == SL_ELIMIT)
        return KAFKA_MESSAGE_TOO_LARGE;
    if (rc != SL_OK) {
        sl_warn("append to '%s' partition %d failed: %s",
                log_topic_name(log_partition_topic(part)), log_partition_index(part), err.msg);
        return KAFKA_STORAGE_ERROR;
    }
    broker_producer_appended(part, &batch, info.base_offset);
    pr->base_offset = info.base_offset;
    pr->log_start_offset = info.log_start_offset;
    if (info.ticket > *ticket)
        *ticket = info.ticket;
    conn->b->appended = true;
    return KAFKA_NONE;
}

int broker_handle_Produce(struct broker_conn *conn, const struct broker_req *req,
                          struct sl_error *err)
{
    struct broker *b = conn->b;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_ProduceRequest in;
    if (kafka_ProduceRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    bool acks_ok = in.acks == 0 || in.acks == 1 || in.acks == -1;
    uint64_t ticket = 0;

    struct kafka_ProduceResponse res = { .nresponses = in.ntopic_data < 0 ? 0 : in.ntopic_data };
    res.responses =
        sl_arena_alloc(&conn->arena, (res.nresponses ? (size_t)res.nresponses : 1) *
                                         sizeof *res.responses);
    for (int32_t i = 0; i < res.nresponses; i++) {
        struct kafka_ProduceTopicData *td = &in.topic_data[i];
        struct kafka_ProduceTopicResponse *tr = &res.responses[i];
        int32_t np = td->npartition_data < 0 ? 0 : td->npartition_data;
        tr->name = td->name.p ? td->name : sl_slice_str("");
        tr->npartition_responses = np;
        tr->partition_responses =
            sl_arena_alloc(&conn->arena, (np ? (size_t)np : 1) * sizeof *tr->partition_responses);
        int16_t topic_error = KAFKA_NONE;
        struct log_topic *topic = NULL;
        if (acks_ok && ver >= 3 && !in.transactional_id.p)
            topic = broker_topic(b, td->name, true, &topic_error);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_ProducePartitionResponse *pr = &tr->partition_responses[j];
            *pr = (struct kafka_ProducePartitionResponse){
                .index = td->partition_data[j].index,
                .base_offset = -1,
                .log_append_time_ms = -1,
                .log_start_offset = -1,
            };
            if (!acks_ok) {
                pr->error_code = KAFKA_INVALID_REQUIRED_ACKS;
            } else if (ver < 3) {
                pr->error_code = KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT;
            } else if (in.transactional_id.p) {
                pr->error_code = 53; /* TRANSACTIONAL_ID_AUTHORIZATION_FAILED: out of scope */
            } else if (!topic) {
                pr->error_code = topic_error;
            } else {
                struct log_partition *part = log_topic_partition(topic, pr->index);
                if (!part)
                    pr->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                else
                    pr->error_code = append_one(conn, ver, part, td->partition_data[j].records,
                                                pr, &ticket);
            }
        }
    }
    if (in.acks == 0)
        return SL_OK; /* pitfall 17: no response at all */
    size_t start = broker_resp_begin(conn, req);
    kafka_ProduceResponse_encode(&conn->out, ver, &res);
    broker_resp_end(conn, start, 0, ticket);
    return SL_OK;
}
