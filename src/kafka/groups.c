/*
 * groups.c: the codecs of the consumer-group and producer-id APIs
 * (kafka/groups.h). Each message is one M_io() visitor (kafka_int.h), so its
 * decoder and encoder share one statement of the layout; field order and
 * version gates follow the Kafka message JSON files (design §4.6-4.14).
 * Fields absent from a version are decoded as the value Kafka assumes
 * (-1 for epochs, timestamps and retention, null for instance ids).
 */
#include <limits.h>

#include "kafka/groups.h"
#include "kafka/kafka_int.h"

/* ---- FindCoordinator (10): v0-2, flexible from 3 ------------------------- */

static void FindCoordinatorRequest_io(struct kafka_io *io, struct kafka_FindCoordinatorRequest *m)
{
    kio_string(io, &m->key);
    if (io->version >= 1)
        kio_i8(io, &m->key_type);
    kio_tags(io);
}

static void FindCoordinatorResponse_io(struct kafka_io *io, struct kafka_FindCoordinatorResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    if (io->version >= 1)
        kio_string(io, &m->error_message);
    kio_i32(io, &m->node_id);
    kio_string(io, &m->host);
    kio_i32(io, &m->port);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(FindCoordinatorRequest, 3)
KAFKA_DEFINE_CODEC(FindCoordinatorResponse, 3)

/* ---- JoinGroup (11): v0-5, flexible from 6 ------------------------------- */

static void JoinGroupRequest_io(struct kafka_io *io, struct kafka_JoinGroupRequest *m)
{
    kio_string(io, &m->group_id);
    kio_i32(io, &m->session_timeout_ms);
    if (io->version >= 1)
        kio_i32(io, &m->rebalance_timeout_ms);
    else if (kio_reading(io))
        m->rebalance_timeout_ms = m->session_timeout_ms;
    kio_string(io, &m->member_id);
    if (io->version >= 5)
        kio_string(io, &m->group_instance_id);
    kio_string(io, &m->protocol_type);
    int32_t n = KIO_ARRAY(io, m->protocols, m->nprotocols, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->protocols[i].name);
        kio_bytes(io, &m->protocols[i].metadata);
        kio_tags(io);
    }
    kio_tags(io);
}

static void JoinGroupResponse_io(struct kafka_io *io, struct kafka_JoinGroupResponse *m)
{
    if (io->version >= 2)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    kio_i32(io, &m->generation_id);
    kio_string(io, &m->protocol_name);
    kio_string(io, &m->leader);
    kio_string(io, &m->member_id);
    int32_t n = KIO_ARRAY(io, m->members, m->nmembers, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->members[i].member_id);
        if (io->version >= 5)
            kio_string(io, &m->members[i].group_instance_id);
        kio_bytes(io, &m->members[i].metadata);
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(JoinGroupRequest, 6)
KAFKA_DEFINE_CODEC(JoinGroupResponse, 6)

/* ---- SyncGroup (14): v0-3, flexible from 4 ------------------------------- */

static void SyncGroupRequest_io(struct kafka_io *io, struct kafka_SyncGroupRequest *m)
{
    kio_string(io, &m->group_id);
    kio_i32(io, &m->generation_id);
    kio_string(io, &m->member_id);
    if (io->version >= 3)
        kio_string(io, &m->group_instance_id);
    int32_t n = KIO_ARRAY(io, m->assignments, m->nassignments, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->assignments[i].member_id);
        kio_bytes(io, &m->assignments[i].assignment);
        kio_tags(io);
    }
    kio_tags(io);
}

static void SyncGroupResponse_io(struct kafka_io *io, struct kafka_SyncGroupResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    kio_bytes(io, &m->assignment);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(SyncGroupRequest, 4)
KAFKA_DEFINE_CODEC(SyncGroupResponse, 4)

/* ---- Heartbeat (12): v0-3, flexible from 4 ------------------------------- */

static void HeartbeatRequest_io(struct kafka_io *io, struct kafka_HeartbeatRequest *m)
{
    kio_string(io, &m->group_id);
    kio_i32(io, &m->generation_id);
    kio_string(io, &m->member_id);
    if (io->version >= 3)
        kio_string(io, &m->group_instance_id);
    kio_tags(io);
}

static void HeartbeatResponse_io(struct kafka_io *io, struct kafka_HeartbeatResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(HeartbeatRequest, 4)
KAFKA_DEFINE_CODEC(HeartbeatResponse, 4)

/* ---- LeaveGroup (13): v0-3, flexible from 4 ------------------------------ */

static void LeaveGroupRequest_io(struct kafka_io *io, struct kafka_LeaveGroupRequest *m)
{
    kio_string(io, &m->group_id);
    if (io->version <= 2) {
        kio_string(io, &m->member_id);
    } else {
        int32_t n = KIO_ARRAY(io, m->members, m->nmembers, io->flexible ? 2 : 4);
        for (int32_t i = 0; i < n; i++) {
            kio_string(io, &m->members[i].member_id);
            kio_string(io, &m->members[i].group_instance_id);
            kio_tags(io);
        }
    }
    kio_tags(io);
}

static void LeaveGroupResponse_io(struct kafka_io *io, struct kafka_LeaveGroupResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    if (io->version >= 3) {
        int32_t n = KIO_ARRAY(io, m->members, m->nmembers, io->flexible ? 4 : 6);
        for (int32_t i = 0; i < n; i++) {
            kio_string(io, &m->members[i].member_id);
            kio_string(io, &m->members[i].group_instance_id);
            kio_i16(io, &m->members[i].error_code);
            kio_tags(io);
        }
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(LeaveGroupRequest, 4)
KAFKA_DEFINE_CODEC(LeaveGroupResponse, 4)

/* ---- OffsetCommit (8): v0-7, flexible from 8 ----------------------------- */

static void OffsetCommitRequest_io(struct kafka_io *io, struct kafka_OffsetCommitRequest *m)
{
    int16_t v = io->version;
    bool rd = kio_reading(io);
    kio_string(io, &m->group_id);
    if (v >= 1) {
        kio_i32(io, &m->generation_id);
        kio_string(io, &m->member_id);
    } else if (rd) {
        m->generation_id = -1;
    }
    if (v >= 7)
        kio_string(io, &m->group_instance_id);
    if (v >= 2 && v <= 4)
        kio_i64(io, &m->retention_time_ms);
    else if (rd)
        m->retention_time_ms = -1;
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_OffsetCommitRequestTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, io->flexible ? 14 : 14);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_OffsetCommitRequestPartition *p = &t->partitions[j];
            kio_i32(io, &p->partition_index);
            kio_i64(io, &p->committed_offset);
            if (v >= 6)
                kio_i32(io, &p->committed_leader_epoch);
            else if (rd)
                p->committed_leader_epoch = -1;
            if (v == 1)
                kio_i64(io, &p->commit_timestamp);
            else if (rd)
                p->commit_timestamp = -1;
            kio_string(io, &p->committed_metadata);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

static void OffsetCommitResponse_io(struct kafka_io *io, struct kafka_OffsetCommitResponse *m)
{
    if (io->version >= 3)
        kio_i32(io, &m->throttle_time_ms);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_OffsetCommitResponseTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 6);
        for (int32_t j = 0; j < np; j++) {
            kio_i32(io, &t->partitions[j].partition_index);
            kio_i16(io, &t->partitions[j].error_code);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(OffsetCommitRequest, 8)
KAFKA_DEFINE_CODEC(OffsetCommitResponse, 8)

/* ---- OffsetFetch (9): v0-5, flexible from 6 ------------------------------ */

static void OffsetFetchRequest_io(struct kafka_io *io, struct kafka_OffsetFetchRequest *m)
{
    kio_string(io, &m->group_id);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, io->flexible ? 2 : 6);
    if (kio_reading(io) && m->ntopics < 0 && io->version < 2)
        sl_cur_fail(&io->cur); /* null topics only from v2 */
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_OffsetFetchRequestTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partition_indexes, t->npartition_indexes, 4);
        for (int32_t j = 0; j < np; j++)
            kio_i32(io, &t->partition_indexes[j]);
        kio_tags(io);
    }
    kio_tags(io);
}

static void OffsetFetchResponse_io(struct kafka_io *io, struct kafka_OffsetFetchResponse *m)
{
    int16_t v = io->version;
    if (v >= 3)
        kio_i32(io, &m->throttle_time_ms);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, io->flexible ? 2 : 6);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_OffsetFetchResponseTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 16);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_OffsetFetchResponsePartition *p = &t->partitions[j];
            kio_i32(io, &p->partition_index);
            kio_i64(io, &p->committed_offset);
            if (v >= 5)
                kio_i32(io, &p->committed_leader_epoch);
            else if (kio_reading(io))
                p->committed_leader_epoch = -1;
            kio_string(io, &p->metadata);
            kio_i16(io, &p->error_code);
            kio_tags(io);
        }
        kio_tags(io);
    }
    if (v >= 2)
        kio_i16(io, &m->error_code);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(OffsetFetchRequest, 6)
KAFKA_DEFINE_CODEC(OffsetFetchResponse, 6)

/* ---- ListGroups (16): v0-2, flexible from 3 ------------------------------ */

static void ListGroupsRequest_io(struct kafka_io *io, struct kafka_ListGroupsRequest *m)
{
    (void)m;
    kio_tags(io);
}

static void ListGroupsResponse_io(struct kafka_io *io, struct kafka_ListGroupsResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    int32_t n = KIO_ARRAY(io, m->groups, m->ngroups, io->flexible ? 2 : 4);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->groups[i].group_id);
        kio_string(io, &m->groups[i].protocol_type);
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(ListGroupsRequest, 3)
KAFKA_DEFINE_CODEC(ListGroupsResponse, 3)

/* ---- DescribeGroups (15): v0-4, flexible from 5 -------------------------- */

static void DescribeGroupsRequest_io(struct kafka_io *io, struct kafka_DescribeGroupsRequest *m)
{
    int32_t n = KIO_ARRAY(io, m->groups, m->ngroups, io->flexible ? 1 : 2);
    for (int32_t i = 0; i < n; i++)
        kio_string(io, &m->groups[i]);
    if (io->version >= 3)
        kio_bool(io, &m->include_authorized_operations);
    kio_tags(io);
}

static void DescribeGroupsResponse_io(struct kafka_io *io, struct kafka_DescribeGroupsResponse *m)
{
    int16_t v = io->version;
    if (v >= 1)
        kio_i32(io, &m->throttle_time_ms);
    int32_t ng = KIO_ARRAY(io, m->groups, m->ngroups, io->flexible ? 10 : 14);
    for (int32_t i = 0; i < ng; i++) {
        struct kafka_DescribedGroup *g = &m->groups[i];
        kio_i16(io, &g->error_code);
        kio_string(io, &g->group_id);
        kio_string(io, &g->group_state);
        kio_string(io, &g->protocol_type);
        kio_string(io, &g->protocol_data);
        int32_t nm = KIO_ARRAY(io, g->members, g->nmembers, io->flexible ? 6 : 14);
        for (int32_t j = 0; j < nm; j++) {
            struct kafka_DescribedGroupMember *mb = &g->members[j];
            kio_string(io, &mb->member_id);
            if (v >= 4)
                kio_string(io, &mb->group_instance_id);
            kio_string(io, &mb->client_id);
            kio_string(io, &mb->client_host);
            kio_bytes(io, &mb->member_metadata);
            kio_bytes(io, &mb->member_assignment);
            kio_tags(io);
        }
        if (v >= 3)
            kio_i32(io, &g->authorized_operations);
        else if (kio_reading(io))
            g->authorized_operations = INT32_MIN;
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(DescribeGroupsRequest, 5)
KAFKA_DEFINE_CODEC(DescribeGroupsResponse, 5)

/* ---- InitProducerId (22): v0-1, flexible from 2 -------------------------- */

static void InitProducerIdRequest_io(struct kafka_io *io, struct kafka_InitProducerIdRequest *m)
{
    kio_string(io, &m->transactional_id);
    kio_i32(io, &m->transaction_timeout_ms);
    kio_tags(io);
}

static void InitProducerIdResponse_io(struct kafka_io *io, struct kafka_InitProducerIdResponse *m)
{
    kio_i32(io, &m->throttle_time_ms);
    kio_i16(io, &m->error_code);
    kio_i64(io, &m->producer_id);
    kio_i16(io, &m->producer_epoch);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(InitProducerIdRequest, 2)
KAFKA_DEFINE_CODEC(InitProducerIdResponse, 2)
