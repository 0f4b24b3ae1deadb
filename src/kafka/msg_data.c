/*
 * msg_data.c: the codecs of the data-path APIs: Produce, Fetch and
 * ListOffsets. Record batches travel as opaque bytes; a Fetch response can
 * leave them out of the encoded buffer and record where a sender must splice
 * them in from a segment file (kafka_FetchResponse_encode_spliced), so that
 * the broker sends log data with sendfile() instead of copying it.
 */
#include "kafka/kafka_int.h"

/* ---- Produce (0): v0-7, flexible from 9 ---------------------------------- */

static void ProduceRequest_io(struct kafka_io *io, struct kafka_ProduceRequest *m)
{
    if (io->version >= 3)
        kio_string(io, &m->transactional_id);
    kio_i16(io, &m->acks);
    kio_i32(io, &m->timeout_ms);
    int32_t nt = KIO_ARRAY(io, m->topic_data, m->ntopic_data, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_ProduceTopicData *t = &m->topic_data[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partition_data, t->npartition_data, 8);
        for (int32_t j = 0; j < np; j++) {
            kio_i32(io, &t->partition_data[j].index);
            kio_bytes(io, &t->partition_data[j].records);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

static void ProduceResponse_io(struct kafka_io *io, struct kafka_ProduceResponse *m)
{
    int16_t v = io->version;
    int32_t nt = KIO_ARRAY(io, m->responses, m->nresponses, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_ProduceTopicResponse *t = &m->responses[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partition_responses, t->npartition_responses, 14);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_ProducePartitionResponse *p = &t->partition_responses[j];
            kio_i32(io, &p->index);
            kio_i16(io, &p->error_code);
            kio_i64(io, &p->base_offset);
            if (v >= 2)
                kio_i64(io, &p->log_append_time_ms);
            else if (kio_reading(io))
                p->log_append_time_ms = -1;
            if (v >= 5)
                kio_i64(io, &p->log_start_offset);
            else if (kio_reading(io))
                p->log_start_offset = -1;
            kio_tags(io);
        }
        kio_tags(io);
    }
    if (v >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(ProduceRequest, 9)
KAFKA_DEFINE_CODEC(ProduceResponse, 9)

/* ---- Fetch (1): v0-11, flexible from 12 ---------------------------------- */

static void FetchRequest_io(struct kafka_io *io, struct kafka_FetchRequest *m)
{
    int16_t v = io->version;
    bool rd = kio_reading(io);
    kio_i32(io, &m->replica_id);
    kio_i32(io, &m->max_wait_ms);
    kio_i32(io, &m->min_bytes);
    if (v >= 3)
        kio_i32(io, &m->max_bytes);
    else if (rd)
        m->max_bytes = INT32_MAX;
    if (v >= 4)
        kio_i8(io, &m->isolation_level);
    if (v >= 7) {
        kio_i32(io, &m->session_id);
        kio_i32(io, &m->session_epoch);
    } else if (rd) {
        m->session_epoch = -1;
    }
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_FetchTopic *t = &m->topics[i];
        kio_string(io, &t->topic);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 16);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_FetchPartition *p = &t->partitions[j];
            kio_i32(io, &p->partition);
            if (v >= 9)
                kio_i32(io, &p->current_leader_epoch);
            else if (rd)
                p->current_leader_epoch = -1;
            kio_i64(io, &p->fetch_offset);
            if (v >= 5)
                kio_i64(io, &p->log_start_offset);
            else if (rd)
                p->log_start_offset = -1;
            kio_i32(io, &p->partition_max_bytes);
            kio_tags(io);
        }
        kio_tags(io);
    }
    if (v >= 7) {
        int32_t nf = KIO_ARRAY(io, m->forgotten_topics_data, m->nforgotten_topics_data, 6);
        for (int32_t i = 0; i < nf; i++) {
            struct kafka_ForgottenTopic *f = &m->forgotten_topics_data[i];
            kio_string(io, &f->topic);
            int32_t k = KIO_ARRAY(io, f->partitions, f->npartitions, 4);
            for (int32_t j = 0; j < k; j++)
                kio_i32(io, &f->partitions[j]);
            kio_tags(io);
        }
    }
    if (v >= 11)
        kio_string(io, &m->rack_id);
    kio_tags(io);
}

static void FetchResponse_io(struct kafka_io *io, struct kafka_FetchResponse *m)
{
    int16_t v = io->version;
    bool rd = kio_reading(io);
    if (v >= 1)
        kio_i32(io, &m->throttle_time_ms);
    if (v >= 7) {
        kio_i16(io, &m->error_code);
        kio_i32(io, &m->session_id);
    }
    int32_t nt = KIO_ARRAY(io, m->responses, m->nresponses, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_FetchableTopicResponse *t = &m->responses[i];
        kio_string(io, &t->topic);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 18);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_FetchPartitionData *p = &t->partitions[j];
            kio_i32(io, &p->partition_index);
            kio_i16(io, &p->error_code);
            kio_i64(io, &p->high_watermark);
            if (v >= 4)
                kio_i64(io, &p->last_stable_offset);
            else if (rd)
                p->last_stable_offset = -1;
            if (v >= 5)
                kio_i64(io, &p->log_start_offset);
            else if (rd)
                p->log_start_offset = -1;
            if (v >= 4) {
                int32_t na = KIO_ARRAY(io, p->aborted_transactions, p->naborted_transactions, 16);
                for (int32_t k = 0; k < na; k++) {
                    kio_i64(io, &p->aborted_transactions[k].producer_id);
                    kio_i64(io, &p->aborted_transactions[k].first_offset);
                    kio_tags(io);
                }
            }
            if (v >= 11)
                kio_i32(io, &p->preferred_read_replica);
            else if (rd)
                p->preferred_read_replica = -1;
            kio_records(io, &p->records);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(FetchRequest, 12)
KAFKA_DEFINE_CODEC(FetchResponse, 12)

size_t kafka_FetchResponse_encode_spliced(struct sl_buf *out, int16_t version,
                                          const struct kafka_FetchResponse *msg,
                                          struct kafka_splices *sp)
{
    size_t spliced = 0;
    kio_encode(FetchResponse_visit, kafka_FetchResponse_max_version, 12, out, version, msg, sp,
               &spliced);
    return spliced;
}

/* ---- ListOffsets (2): v0-3, flexible from 6 ------------------------------ */

static void ListOffsetsRequest_io(struct kafka_io *io, struct kafka_ListOffsetsRequest *m)
{
    int16_t v = io->version;
    kio_i32(io, &m->replica_id);
    if (v >= 2)
        kio_i8(io, &m->isolation_level);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_ListOffsetsTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 12);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_ListOffsetsPartition *p = &t->partitions[j];
            kio_i32(io, &p->partition_index);
            kio_i64(io, &p->timestamp);
            if (v == 0)
                kio_i32(io, &p->max_num_offsets);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

static void ListOffsetsResponse_io(struct kafka_io *io, struct kafka_ListOffsetsResponse *m)
{
    int16_t v = io->version;
    if (v >= 2)
        kio_i32(io, &m->throttle_time_ms);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_ListOffsetsTopicResponse *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 10);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_ListOffsetsPartitionResponse *p = &t->partitions[j];
            kio_i32(io, &p->partition_index);
            kio_i16(io, &p->error_code);
            if (v == 0) {
                int32_t k = KIO_ARRAY(io, p->old_style_offsets, p->nold_style_offsets, 8);
                for (int32_t x = 0; x < k; x++)
                    kio_i64(io, &p->old_style_offsets[x]);
            } else {
                kio_i64(io, &p->timestamp);
                kio_i64(io, &p->offset);
            }
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(ListOffsetsRequest, 6)
KAFKA_DEFINE_CODEC(ListOffsetsResponse, 6)
