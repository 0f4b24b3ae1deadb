/*
 * wire.c: the Kafka protocol's primitive types, frames and headers, and the
 * two-way field visitor (kafka_int.h) the message codecs are written with.
 *
 * Everything here reads through a sl_cur, so no length from the wire is used
 * before it has been checked against the bytes that remain.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/mem.h"

#include "base/varint.h"
#include "kafka/kafka_int.h"

/* A present, empty value must not look null; point it somewhere harmless. */
static const uint8_t empty_[1];

static struct sl_slice present(struct sl_slice s)
{
    if (!s.p)
        s.p = empty_;
    return s;
}

/* ---- API table ----------------------------------------------------------- */

/* Names and first flexible versions (the Kafka JSON `flexibleVersions`). */
static const struct {
    const char *name;
    int16_t first_flexible; /* INT16_MAX: never flexible */
} apis[] = {
    [0] = {"Produce", 9},
    [1] = {"Fetch", 12},
    [2] = {"ListOffsets", 6},
    [3] = {"Metadata", 9},
    [4] = {"LeaderAndIsr", 4},
    [5] = {"StopReplica", 2},
    [6] = {"UpdateMetadata", 6},
    [7] = {"ControlledShutdown", 3},
    [8] = {"OffsetCommit", 8},
    [9] = {"OffsetFetch", 6},
    [10] = {"FindCoordinator", 3},
    [11] = {"JoinGroup", 6},
    [12] = {"Heartbeat", 4},
    [13] = {"LeaveGroup", 4},
    [14] = {"SyncGroup", 4},
    [15] = {"DescribeGroups", 5},
    [16] = {"ListGroups", 3},
    [17] = {"SaslHandshake", INT16_MAX},
    [18] = {"ApiVersions", 3},
    [19] = {"CreateTopics", 5},
    [20] = {"DeleteTopics", 4},
    [21] = {"DeleteRecords", 2},
    [22] = {"InitProducerId", 2},
    [23] = {"OffsetForLeaderEpoch", 4},
    [24] = {"AddPartitionsToTxn", 3},
    [25] = {"AddOffsetsToTxn", 3},
    [26] = {"EndTxn", 3},
    [27] = {"WriteTxnMarkers", 1},
    [28] = {"TxnOffsetCommit", 3},
    [29] = {"DescribeAcls", 2},
    [30] = {"CreateAcls", 2},
    [31] = {"DeleteAcls", 2},
    [32] = {"DescribeConfigs", 4},
    [33] = {"AlterConfigs", 2},
    [34] = {"AlterReplicaLogDirs", 2},
    [35] = {"DescribeLogDirs", 2},
    [36] = {"SaslAuthenticate", 2},
    [37] = {"CreatePartitions", 2},
    [38] = {"CreateDelegationToken", 2},
    [39] = {"RenewDelegationToken", 2},
    [40] = {"ExpireDelegationToken", 2},
    [41] = {"DescribeDelegationToken", 2},
    [42] = {"DeleteGroups", 2},
    [43] = {"ElectLeaders", 2},
    [44] = {"IncrementalAlterConfigs", 1},
    [45] = {"AlterPartitionReassignments", 0},
    [46] = {"ListPartitionReassignments", 0},
    [47] = {"OffsetDelete", INT16_MAX},
    [48] = {"DescribeClientQuotas", 1},
    [49] = {"AlterClientQuotas", 1},
    [50] = {"DescribeUserScramCredentials", 0},
    [51] = {"AlterUserScramCredentials", 0},
};

#define NAPIS ((int)(sizeof apis / sizeof apis[0]))

const char *kafka_api_name(int api_key)
{
    if (api_key < 0 || api_key >= NAPIS || !apis[api_key].name)
        return "Unknown";
    return apis[api_key].name;
}

int kafka_api_first_flexible(int api_key)
{
    if (api_key < 0 || api_key >= NAPIS || !apis[api_key].name)
        return -1;
    return apis[api_key].first_flexible;
}

int kafka_request_header_version(int api_key, int api_version)
{
    int ff = kafka_api_first_flexible(api_key);
    if (ff < 0)
        return -1;
    return api_version >= ff ? 2 : 1;
}

int kafka_response_header_version(int api_key, int api_version)
{
    if (api_key == KAFKA_API_API_VERSIONS)
        return 0;
    int ff = kafka_api_first_flexible(api_key);
    return ff >= 0 && api_version >= ff ? 1 : 0;
}

/* ---- Primitive readers --------------------------------------------------- */

struct sl_slice kafka_read_string(struct sl_cur *cur)
{
    int16_t n = sl_cur_i16be(cur);
    if (n < 0 || cur->failed) {
        if (n < -1)
            sl_cur_fail(cur);
        return sl_slice_make(NULL, 0);
    }
    return present(sl_cur_bytes(cur, (size_t)n));
}

struct sl_slice kafka_read_bytes(struct sl_cur *cur)
{
    int32_t n = sl_cur_i32be(cur);
    if (n < 0 || cur->failed) {
        if (n < -1)
            sl_cur_fail(cur);
        return sl_slice_make(NULL, 0);
    }
    if ((size_t)n > sl_cur_left(cur)) {
        sl_cur_fail(cur);
        return sl_slice_make(NULL, 0);
    }
    return present(sl_cur_bytes(cur, (size_t)n));
}

static struct sl_slice read_compact(struct sl_cur *cur)
{
    uint32_t n = sl_cur_uvarint32(cur);
    if (n == 0 || cur->failed)
        return sl_slice_make(NULL, 0);
    if ((size_t)(n - 1) > sl_cur_left(cur)) {
        sl_cur_fail(cur);
        return sl_slice_make(NULL, 0);
    }
    return present(sl_cur_bytes(cur, (size_t)(n - 1)));
}

struct sl_slice kafka_read_compact_string(struct sl_cur *cur)
{
    return read_compact(cur);
}

struct sl_slice kafka_read_compact_bytes(struct sl_cur *cur)
{
    return read_compact(cur);
}

int32_t kafka_read_array_len(struct sl_cur *cur, bool compact, size_t min_elem)
{
    int64_t n;
    if (compact) {
        uint32_t u = sl_cur_uvarint32(cur);
        n = (int64_t)u - 1;
    } else {
        n = sl_cur_i32be(cur);
    }
    if (cur->failed)
        return 0;
    if (n < -1) {
        sl_cur_fail(cur);
        return 0;
    }
    if (min_elem == 0)
        min_elem = 1;
    if (n > KAFKA_ARRAY_MAX || (n > 0 && (uint64_t)n > sl_cur_left(cur) / min_elem)) {
        sl_cur_fail(cur);
        return 0;
    }
    return (int32_t)n;
}

void kafka_read_tags(struct sl_cur *cur)
{
    uint32_t count = sl_cur_uvarint32(cur);
    for (uint32_t i = 0; i < count && !cur->failed; i++) {
        (void)sl_cur_uvarint32(cur); /* tag: none is known to our versions */
        uint32_t size = sl_cur_uvarint32(cur);
        if (size > sl_cur_left(cur))
            sl_cur_fail(cur);
        else
            sl_cur_skip(cur, size);
    }
}

/* ---- Primitive writers --------------------------------------------------- */

void kafka_write_string(struct sl_buf *out, struct sl_slice s)
{
    if (!s.p) {
        sl_buf_be16(out, (uint16_t)-1);
        return;
    }
    size_t n = s.len > INT16_MAX ? INT16_MAX : s.len;
    sl_buf_be16(out, (uint16_t)n);
    sl_buf_append(out, s.p, n);
}

void kafka_write_bytes(struct sl_buf *out, struct sl_slice s)
{
    if (!s.p) {
        sl_buf_be32(out, (uint32_t)-1);
        return;
    }
    sl_buf_be32(out, (uint32_t)s.len);
    sl_buf_append(out, s.p, s.len);
}

static void write_compact(struct sl_buf *out, struct sl_slice s)
{
    if (!s.p) {
        sl_buf_u8(out, 0);
        return;
    }
    sl_buf_uvarint(out, (uint64_t)s.len + 1);
    sl_buf_append(out, s.p, s.len);
}

void kafka_write_compact_string(struct sl_buf *out, struct sl_slice s)
{
    write_compact(out, s);
}

void kafka_write_compact_bytes(struct sl_buf *out, struct sl_slice s)
{
    write_compact(out, s);
}

void kafka_write_array_len(struct sl_buf *out, bool compact, int32_t n)
{
    if (compact)
        sl_buf_uvarint(out, n < 0 ? 0 : (uint64_t)n + 1);
    else
        sl_buf_be32(out, (uint32_t)n);
}

void kafka_write_empty_tags(struct sl_buf *out)
{
    sl_buf_u8(out, 0);
}

/* ---- Frames and headers -------------------------------------------------- */

int kafka_RequestHeader_decode(struct sl_slice frame, struct kafka_RequestHeader *hdr,
                               struct sl_slice *body, struct sl_error *err)
{
    struct sl_cur cur = sl_cur_make(frame);
    memset(hdr, 0, sizeof *hdr);
    hdr->request_api_key = sl_cur_i16be(&cur);
    hdr->request_api_version = sl_cur_i16be(&cur);
    hdr->correlation_id = sl_cur_i32be(&cur);
    if (cur.failed)
        return sl_fail_at(err, SL_EPROTO, cur.pos, "request header truncated: frame of %zu bytes",
                          frame.len);
    int hv = kafka_request_header_version(hdr->request_api_key, hdr->request_api_version);
    hdr->header_version = (int8_t)(hv < 0 ? 1 : hv);
    /* client_id is an INT16 string in header v1 and v2 alike. */
    hdr->client_id = kafka_read_string(&cur);
    if (hdr->header_version >= 2)
        kafka_read_tags(&cur);
    if (cur.failed)
        return sl_fail_at(
            err, SL_EPROTO, cur.pos, "request header v%d of %s v%d truncated or malformed",
            hdr->header_version, kafka_api_name(hdr->request_api_key), hdr->request_api_version);
    *body = sl_cur_rest(&cur);
    return SL_OK;
}

size_t kafka_request_begin(struct sl_buf *out, const struct kafka_RequestHeader *hdr)
{
    size_t start = out->len;
    sl_buf_be32(out, 0);
    sl_buf_be16(out, (uint16_t)hdr->request_api_key);
    sl_buf_be16(out, (uint16_t)hdr->request_api_version);
    sl_buf_be32(out, (uint32_t)hdr->correlation_id);
    if (hdr->header_version >= 1)
        kafka_write_string(out, hdr->client_id);
    if (hdr->header_version >= 2)
        kafka_write_empty_tags(out);
    return start;
}

size_t kafka_response_begin(struct sl_buf *out, int32_t correlation_id, int header_version)
{
    size_t start = out->len;
    sl_buf_be32(out, 0);
    sl_buf_be32(out, (uint32_t)correlation_id);
    if (header_version >= 1)
        kafka_write_empty_tags(out);
    return start;
}

void kafka_frame_end(struct sl_buf *out, size_t start, size_t extra)
{
    sl_buf_patch_be32(out, start, (uint32_t)(out->len - start - 4 + extra));
}

void kafka_splices_release(struct kafka_splices *sp)
{
    if (!sp)
        return;
    free(sp->v);
    sp->v = NULL;
    sp->n = sp->cap = 0;
}

/* ---- The visitor --------------------------------------------------------- */

void kio_i8(struct kafka_io *io, int8_t *v)
{
    if (kio_reading(io))
        *v = sl_cur_i8(&io->cur);
    else
        sl_buf_u8(io->out, (uint8_t)*v);
}

void kio_bool(struct kafka_io *io, bool *v)
{
    if (kio_reading(io))
        *v = sl_cur_u8(&io->cur) != 0;
    else
        sl_buf_u8(io->out, *v ? 1 : 0);
}

void kio_i16(struct kafka_io *io, int16_t *v)
{
    if (kio_reading(io))
        *v = sl_cur_i16be(&io->cur);
    else
        sl_buf_be16(io->out, (uint16_t)*v);
}

void kio_i32(struct kafka_io *io, int32_t *v)
{
    if (kio_reading(io))
        *v = sl_cur_i32be(&io->cur);
    else
        sl_buf_be32(io->out, (uint32_t)*v);
}

void kio_i64(struct kafka_io *io, int64_t *v)
{
    if (kio_reading(io))
        *v = sl_cur_i64be(&io->cur);
    else
        sl_buf_be64(io->out, (uint64_t)*v);
}

void kio_string(struct kafka_io *io, struct sl_slice *s)
{
    if (kio_reading(io))
        *s = io->flexible ? kafka_read_compact_string(&io->cur) : kafka_read_string(&io->cur);
    else if (io->flexible)
        kafka_write_compact_string(io->out, *s);
    else
        kafka_write_string(io->out, *s);
}

void kio_bytes(struct kafka_io *io, struct sl_slice *s)
{
    if (kio_reading(io))
        *s = io->flexible ? kafka_read_compact_bytes(&io->cur) : kafka_read_bytes(&io->cur);
    else if (io->flexible)
        kafka_write_compact_bytes(io->out, *s);
    else
        kafka_write_bytes(io->out, *s);
}

void kio_records(struct kafka_io *io, struct kafka_FetchRecords *r)
{
    if (kio_reading(io)) {
        r->mem = io->flexible ? kafka_read_compact_bytes(&io->cur) : kafka_read_bytes(&io->cur);
        r->file_len = 0;
        r->file = NULL;
        return;
    }
    size_t n = r->mem.len + r->file_len;
    if (io->flexible)
        sl_buf_uvarint(io->out, (uint64_t)n + 1);
    else
        sl_buf_be32(io->out, (uint32_t)n);
    if (r->mem.len)
        sl_buf_append(io->out, r->mem.p, r->mem.len);
    if (r->file_len) {
        struct kafka_splices *sp = io->sp;
        assert(sp); /* file records need the spliced encoder */
        if (sp->n == sp->cap) {
            sp->cap = sp->cap ? sp->cap * 2 : 8;
            sp->v = sl_xrealloc(sp->v, sp->cap * sizeof *sp->v);
        }
        sp->v[sp->n++] = (struct kafka_splice){io->out->len, r->file_len, r->file};
        io->spliced += r->file_len;
    }
}

int32_t kio_array(struct kafka_io *io, void **items, int32_t *n, size_t elem_size, size_t min_elem)
{
    if (!kio_reading(io)) {
        kafka_write_array_len(io->out, io->flexible, *n);
        return *n < 0 ? 0 : *n;
    }
    *n = kafka_read_array_len(&io->cur, io->flexible, min_elem);
    *items = NULL;
    if (*n <= 0)
        return 0;
    size_t bytes = (size_t)*n * elem_size;
    *items = sl_arena_alloc(io->arena, bytes);
    memset(*items, 0, bytes);
    return *n;
}

void kio_tags(struct kafka_io *io)
{
    if (!io->flexible)
        return;
    if (kio_reading(io))
        kafka_read_tags(&io->cur);
    else
        kafka_write_empty_tags(io->out);
}

int kio_decode(void (*fn)(struct kafka_io *, void *), const char *name, int max_version,
               int first_flexible, struct sl_slice body, int16_t version, struct sl_arena *arena,
               void *msg, size_t msg_size, struct sl_error *err)
{
    memset(msg, 0, msg_size);
    if (version < 0 || version > max_version)
        return sl_fail(err, SL_EPROTO, "unsupported %s version %d", name, version);
    struct kafka_io io = {.cur = sl_cur_make(body),
                          .arena = arena,
                          .version = version,
                          .flexible = version >= first_flexible};
    fn(&io, msg);
    if (io.cur.failed)
        return sl_fail_at(err, SL_EPROTO, io.cur.pos,
                          "%s v%d truncated or malformed near byte %zu of %zu", name, version,
                          io.cur.pos, body.len);
    return SL_OK;
}

void kio_encode(void (*fn)(struct kafka_io *, void *), int max_version, int first_flexible,
                struct sl_buf *out, int16_t version, const void *msg, struct kafka_splices *sp,
                size_t *spliced)
{
    assert(version >= 0 && version <= max_version);
    (void)max_version;
    struct kafka_io io = {
        .out = out, .sp = sp, .version = version, .flexible = version >= first_flexible};
    fn(&io, (void *)msg); /* the visitor only reads *msg while writing */
    if (spliced)
        *spliced = io.spliced;
}
