/*
 * handle_Fetch.c: Fetch (1) v4-11, sessionless, with long polling.
 *
 * For each requested partition the log hands out whole batches from the one
 * that contains fetch_offset, below the high watermark, as a file range
 * (log_partition_read); the response is encoded without them and the ranges
 * are spliced in by sendfile() when the connection writes (conn.c). Limits:
 * partition_max_bytes per partition and max_bytes per response, except that
 * the first batch is always whole (KIP-74). Once max_bytes is used up, the
 * remaining partitions answer with offsets only.
 *
 * Long polling: when fewer than min_bytes are available and no partition has
 * an error, the request is parked on its connection (BROKER_HOLD; later
 * requests on that connection wait, as in Kafka) until an append makes it
 * satisfiable (checked after each group commit, broker.c) or max_wait_ms
 * passes; then it is answered with whatever there is.
 *
 * Sessions (KIP-227) are not supported: session_id 0 in every answer makes
 * clients send full requests. preferred_read_replica is always -1, records
 * never null, and the last stable offset equals the high watermark (no
 * transactions) — pitfalls 11 and design §6.2.
 */
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "broker/broker_int.h"

#define MAX_WAIT_CAP_MS 300000

static struct log_partition *find_part(struct broker *b, struct sl_slice topic_name, int32_t index,
                                       int16_t *error_code)
{
    struct log_topic *topic = broker_topic(b, topic_name, false, error_code);
    if (!topic)
        return NULL;
    struct log_partition *part = log_topic_partition(topic, index);
    if (!part)
        *error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
    return part;
}

/* Cheap check for a parked Fetch: is there data or an error to report? */
static bool ready(struct broker_conn *conn, const struct kafka_FetchRequest *in)
{
    struct broker *b = conn->b;
    int64_t avail = 0;
    for (int32_t i = 0; i < in->ntopics; i++) {
        const struct kafka_FetchTopic *t = &in->topics[i];
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct kafka_FetchPartition *p = &t->partitions[j];
            int16_t ec;
            struct log_partition *part = find_part(b, t->topic, p->partition, &ec);
            if (!part)
                return true;
            int64_t hw = log_partition_high_watermark(part);
            if (p->fetch_offset < log_partition_start_offset(part) ||
                p->fetch_offset > log_partition_end_offset(part))
                return true;
            if (hw <= p->fetch_offset)
                continue;
            if (in->min_bytes <= 1)
                return true;
            struct log_read rd;
            struct sl_error err = {0};
            if (log_partition_read(part, p->fetch_offset, p->partition_max_bytes, &rd, &err) !=
                SL_OK)
                return true;
            avail += (int64_t)rd.len;
            log_read_release(&rd);
            if (avail >= in->min_bytes)
                return true;
        }
    }
    return false;
}

/*
 * Answer the Fetch `in` if it is satisfiable or `final`: encode the response
 * into conn->out with its file splices and return true; else change nothing
 * and return false.
 */
static bool answer(struct broker_conn *conn, const struct broker_req *req,
                   const struct kafka_FetchRequest *in, bool final)
{
    struct broker *b = conn->b;
    if (!final && !ready(conn, in))
        return false;
    int16_t ver = req->hdr.request_api_version;
    struct kafka_FetchResponse res = {.nresponses = in->ntopics < 0 ? 0 : in->ntopics};
    res.responses = sl_arena_alloc(&conn->arena, (res.nresponses ? (size_t)res.nresponses : 1) *
                                                     sizeof *res.responses);
    int64_t budget = in->max_bytes;
    size_t nreads = 0;
    for (int32_t i = 0; i < res.nresponses; i++)
        nreads += in->topics[i].npartitions < 0 ? 0 : (size_t)in->topics[i].npartitions;
    struct log_read *reads = sl_arena_alloc(&conn->arena, (nreads ? nreads : 1) * sizeof *reads);
    size_t r = 0;
    for (int32_t i = 0; i < res.nresponses; i++) {
        const struct kafka_FetchTopic *t = &in->topics[i];
        struct kafka_FetchableTopicResponse *tr = &res.responses[i];
        int32_t np = t->npartitions < 0 ? 0 : t->npartitions;
        tr->topic = t->topic.p ? t->topic : sl_slice_str("");
        tr->npartitions = np;
        tr->partitions =
            sl_arena_alloc(&conn->arena, (np ? (size_t)np : 1) * sizeof *tr->partitions);
        for (int32_t j = 0; j < np; j++) {
            const struct kafka_FetchPartition *p = &t->partitions[j];
            struct kafka_FetchPartitionData *pd = &tr->partitions[j];
            struct log_read *rd = &reads[r++];
            *rd = (struct log_read){.fd = -1};
            *pd = (struct kafka_FetchPartitionData){
                .partition_index = p->partition,
                .high_watermark = -1,
                .last_stable_offset = -1,
                .log_start_offset = -1,
                .preferred_read_replica = -1,
                .records = {.mem = sl_slice_make(NULL, 0)},
            };
            struct log_partition *part = find_part(b, t->topic, p->partition, &pd->error_code);
            if (!part)
                continue;
            pd->high_watermark = log_partition_high_watermark(part);
            pd->last_stable_offset = pd->high_watermark;
            pd->log_start_offset = log_partition_start_offset(part);
            if (budget <= 0)
                continue;
            int64_t limit = p->partition_max_bytes < budget ? p->partition_max_bytes : budget;
            struct sl_error err = {0};
            int rc = log_partition_read(part, p->fetch_offset, limit, rd, &err);
            if (rc == SL_ENOTFOUND) {
                pd->error_code = KAFKA_OFFSET_OUT_OF_RANGE;
                continue;
            }
            if (rc != SL_OK) {
                sl_warn("fetch from '%.*s' partition %d failed: %s", (int)t->topic.len,
                        (const char *)t->topic.p, p->partition, err.msg);
                pd->error_code = 56; /* KAFKA_STORAGE_ERROR */
                *rd = (struct log_read){.fd = -1};
                continue;
            }
            if (rd->len) {
                pd->high_watermark = rd->high_watermark;
                pd->last_stable_offset = rd->high_watermark;
                pd->log_start_offset = rd->log_start_offset;
                pd->records.file_len = rd->len;
                pd->records.file = rd;
                budget -= (int64_t)rd->len;
            }
        }
    }
    struct kafka_splices sp = {0};
    size_t start = broker_resp_begin(conn, req);
    size_t extra = kafka_FetchResponse_encode_spliced(&conn->out, ver, &res, &sp);
    for (size_t k = 0; k < sp.n; k++) {
        struct log_read *rd = sp.v[k].file;
        broker_conn_splice(conn, sp.v[k].at, rd->fd, rd->pos, rd->len);
        rd->fd = -1; /* the connection owns it now */
    }
    kafka_splices_release(&sp);
    for (size_t k = 0; k < r; k++)
        log_read_release(&reads[k]);
    broker_resp_end(conn, start, extra, 0);
    return true;
}

static bool answer_held(struct broker_conn *conn, struct broker_held *held, bool final)
{
    return answer(conn, &held->req, held->state, final);
}

int broker_handle_Fetch(struct broker_conn *conn, const struct broker_req *req,
                        struct sl_error *err)
{
    int16_t ver = req->hdr.request_api_version;
    struct kafka_FetchRequest in;
    if (kafka_FetchRequest_decode(req->body, ver, &conn->arena, &in, err) != SL_OK)
        return SL_EPROTO;
    if (answer(conn, req, &in, in.max_wait_ms <= 0))
        return SL_OK;
    /* The decoded request lives in conn->arena, kept while parked. */
    struct kafka_FetchRequest *parked = sl_arena_alloc(&conn->arena, sizeof *parked);
    *parked = in;
    int64_t wait = in.max_wait_ms > MAX_WAIT_CAP_MS ? MAX_WAIT_CAP_MS : in.max_wait_ms;
    broker_conn_hold(conn, req, parked, answer_held, NULL, true, wait);
    return BROKER_HOLD;
}
