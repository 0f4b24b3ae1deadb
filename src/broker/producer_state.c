/*
 * producer_state.c: the idempotent-producer table of each partition (design
 * §5.5): for every producer id that wrote to the partition, its epoch and
 * the sequence ranges and base offsets of its last five batches, so that
 * Produce can drop a retried batch (answering with the original offset, as
 * Kafka does) and refuse a sequence gap (OUT_OF_ORDER_SEQUENCE_NUMBER) or a
 * stale epoch (INVALID_PRODUCER_EPOCH).
 *
 * The table hangs off the partition's user slot (log.h) and is not
 * persisted: the first idempotent Produce to a partition after the broker
 * starts rebuilds it from the headers of the batches in the log's last
 * REBUILD_OFFSETS offsets (log_partition_scan), which carry producer id,
 * epoch, base sequence and offsets. So a retry that straddles a restart is
 * still recognised, as long as the batch it duplicates is that recent (and
 * retention has not deleted it).
 */
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "broker/broker_int.h"
#include "kafka/groups.h"

#define KEEP_BATCHES 5 /* Kafka ProducerStateEntry.NumBatchesToRetain */
/*
 * Producers remembered per partition. Kafka expires idle producer ids after
 * 7 days; we bound the table instead and forget the producer whose last
 * batch is oldest (a retry from it is then accepted as a new producer).
 */
#define MAX_PRODUCERS 1024
/* After a restart, the table is rebuilt from the last this many offsets. */
#define REBUILD_OFFSETS ((int64_t)1 << 20)

struct pbatch {
    int32_t first_seq, last_seq;
    int64_t base_offset;
};

struct producer {
    int64_t pid;
    int16_t epoch;
    struct pbatch batches[KEEP_BATCHES]; /* ring, newest at (head - 1) */
    int nbatches, head;
};

struct pstate {
    struct producer *v; /* owned */
    size_t n, cap;
};

void broker_producer_state_free(void *user)
{
    struct pstate *ps = user;
    if (!ps)
        return;
    free(ps->v);
    free(ps);
}

static int64_t newest_offset(const struct producer *p)
{
    if (p->nbatches == 0)
        return -1;
    return p->batches[(p->head + KEEP_BATCHES - 1) % KEEP_BATCHES].base_offset;
}

static struct producer *find(struct pstate *ps, int64_t pid, bool create)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].pid == pid)
            return &ps->v[i];
    if (!create)
        return NULL;
    if (ps->n == MAX_PRODUCERS) {
        size_t oldest = 0;
        for (size_t i = 1; i < ps->n; i++)
            if (newest_offset(&ps->v[i]) < newest_offset(&ps->v[oldest]))
                oldest = i;
        ps->v[oldest] = ps->v[--ps->n];
    }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 4;
        ps->v = sl_xrealloc(ps->v, ps->cap * sizeof *ps->v);
    }
    struct producer *p = &ps->v[ps->n++];
    *p = (struct producer){.pid = pid, .epoch = -1};
    return p;
}

static int32_t seq_add(int32_t seq, int32_t n)
{
    /* Sequences wrap from INT32_MAX to 0. */
    int64_t s = (int64_t)seq + n;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

static void record(struct pstate *ps, const struct kafka_batch *batch, int64_t base_offset)
{
    struct producer *p = find(ps, batch->producer_id, true);
    if (batch->producer_epoch != p->epoch) {
        p->epoch = batch->producer_epoch;
        p->nbatches = p->head = 0;
    }
    p->batches[p->head] = (struct pbatch){
        batch->base_sequence, seq_add(batch->base_sequence, batch->last_offset_delta), base_offset};
    p->head = (p->head + 1) % KEEP_BATCHES;
    if (p->nbatches < KEEP_BATCHES)
        p->nbatches++;
}

static int rebuild_one(const struct kafka_batch *batch, void *arg)
{
    if (batch->producer_id >= 0 && batch->base_sequence >= 0)
        record(arg, batch, batch->base_offset);
    return 0;
}

static struct pstate *state_of(struct log_partition *part)
{
    struct pstate *ps = log_partition_user(part);
    if (ps)
        return ps;
    ps = sl_xcalloc(1, sizeof *ps);
    struct sl_error err = {0};
    /* Only the log's tail matters (the last batches of each producer), so
     * bound the scan that a first idempotent Produce pays for. */
    int64_t from = log_partition_end_offset(part) - REBUILD_OFFSETS;
    if (from < log_partition_start_offset(part))
        from = log_partition_start_offset(part);
    if (log_partition_scan(part, from, rebuild_one, ps, &err) != SL_OK)
        sl_warn("cannot rebuild producer state of '%s' partition %d: %s",
                log_topic_name(log_partition_topic(part)), log_partition_index(part), err.msg);
    log_partition_set_user(part, ps);
    return ps;
}

int16_t broker_producer_check(struct log_partition *part, const struct kafka_batch *batch,
                              int64_t *dup_offset)
{
    *dup_offset = -1;
    if (batch->producer_id < 0 || batch->base_sequence < 0)
        return KAFKA_NONE;
    struct pstate *ps = state_of(part);
    struct producer *p = find(ps, batch->producer_id, false);
    if (!p || p->nbatches == 0)
        return KAFKA_NONE; /* unknown producer: any sequence (current Kafka) */
    if (batch->producer_epoch < p->epoch)
        return KAFKA_INVALID_PRODUCER_EPOCH;
    if (batch->producer_epoch > p->epoch)
        return batch->base_sequence == 0 ? KAFKA_NONE : KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t last = seq_add(batch->base_sequence, batch->last_offset_delta);
    for (int i = 0; i < p->nbatches; i++) {
        const struct pbatch *b = &p->batches[i];
        if (b->first_seq == batch->base_sequence && b->last_seq == last) {
            *dup_offset = b->base_offset;
            return KAFKA_DUPLICATE_SEQUENCE_NUMBER;
        }
    }
    const struct pbatch *newest = &p->batches[(p->head + KEEP_BATCHES - 1) % KEEP_BATCHES];
    if (batch->base_sequence != seq_add(newest->last_seq, 1))
        return KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return KAFKA_NONE;
}

void broker_producer_appended(struct log_partition *part, const struct kafka_batch *batch,
                              int64_t base_offset)
{
    if (batch->producer_id < 0 || batch->base_sequence < 0)
        return;
    record(state_of(part), batch, base_offset);
}
