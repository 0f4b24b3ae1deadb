/*
 * groups.h: the Kafka wire codec of the consumer-group and producer-id APIs,
 * the half of src/kafka that the group coordinator (src/broker/group.c) and
 * the idempotent-producer checks speak:
 *
 *   FindCoordinator 0-2, JoinGroup 0-5, SyncGroup 0-3, Heartbeat 0-3,
 *   LeaveGroup 0-3, OffsetCommit 0-7, OffsetFetch 0-5, ListGroups 0-2,
 *   DescribeGroups 0-4, InitProducerId 0-1.
 *
 * Field layouts: design/kafka-protocol.md §4.6-4.14 (the Apache Kafka message
 * JSON files). None of these versions is flexible; the codec still knows the
 * first flexible version of each API so a later version only needs its
 * fields. Conventions (slices, null, arrays, arena, errors) are those at the
 * top of kafka/kafka.h, and every message M has the same pair:
 *
 *   int  kafka_M_decode(body, version, arena, &msg, err);  SL_OK or SL_EPROTO
 *   void kafka_M_encode(out, version, &msg);                cannot fail
 *
 * Uses only src/base and kafka/kafka.h. No global state.
 */
#ifndef KAFKA_GROUPS_H
#define KAFKA_GROUPS_H

#include "kafka/kafka.h"

/* ErrorCode values of the group and idempotence APIs (design §8). */
enum kafka_group_error_code {
    KAFKA_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KAFKA_COORDINATOR_NOT_AVAILABLE = 15,
    KAFKA_ILLEGAL_GENERATION = 22,
    KAFKA_INCONSISTENT_GROUP_PROTOCOL = 23,
    KAFKA_INVALID_GROUP_ID = 24,
    KAFKA_UNKNOWN_MEMBER_ID = 25,
    KAFKA_INVALID_SESSION_TIMEOUT = 26,
    KAFKA_REBALANCE_IN_PROGRESS = 27,
    KAFKA_OFFSET_METADATA_TOO_LARGE = 12,
    KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KAFKA_DUPLICATE_SEQUENCE_NUMBER = 46,
    KAFKA_INVALID_PRODUCER_EPOCH = 47,
    KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KAFKA_UNKNOWN_PRODUCER_ID = 59,
    KAFKA_GROUP_ID_NOT_FOUND = 69,
    KAFKA_MEMBER_ID_REQUIRED = 79,
};

/* ---- FindCoordinator (10) ------------------------------------------------ */

struct kafka_FindCoordinatorRequest {
    struct sl_slice key; /* the group id */
    int8_t key_type;     /* v1+: 0 group, 1 transaction */
};

struct kafka_FindCoordinatorResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct sl_slice error_message; /* v1+, nullable */
    int32_t node_id;
    struct sl_slice host;
    int32_t port;
};

/* ---- JoinGroup (11) ------------------------------------------------------ */

struct kafka_JoinGroupRequestProtocol {
    struct sl_slice name;     /* assignor: "range", "roundrobin", ... */
    struct sl_slice metadata; /* opaque to the broker */
};

struct kafka_JoinGroupRequest {
    struct sl_slice group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;      /* v1+; decoded as session_timeout_ms for v0 */
    struct sl_slice member_id;         /* "" on a first join */
    struct sl_slice group_instance_id; /* v5+, nullable */
    struct sl_slice protocol_type;     /* "consumer" */
    struct kafka_JoinGroupRequestProtocol *protocols;
    int32_t nprotocols;
};

struct kafka_JoinGroupResponseMember {
    struct sl_slice member_id;
    struct sl_slice group_instance_id; /* v5+, nullable */
    struct sl_slice metadata;
};

struct kafka_JoinGroupResponse {
    int32_t throttle_time_ms; /* v2+ */
    int16_t error_code;
    int32_t generation_id;
    struct sl_slice protocol_name;
    struct sl_slice leader;
    struct sl_slice member_id;
    struct kafka_JoinGroupResponseMember *members; /* non-empty for the leader only */
    int32_t nmembers;
};

/* ---- SyncGroup (14) ------------------------------------------------------ */

struct kafka_SyncGroupRequestAssignment {
    struct sl_slice member_id;
    struct sl_slice assignment;
};

struct kafka_SyncGroupRequest {
    struct sl_slice group_id;
    int32_t generation_id;
    struct sl_slice member_id;
    struct sl_slice group_instance_id;                    /* v3+, nullable */
    struct kafka_SyncGroupRequestAssignment *assignments; /* the leader's only */
    int32_t nassignments;
};

struct kafka_SyncGroupResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct sl_slice assignment;
};

/* ---- Heartbeat (12) ------------------------------------------------------ */

struct kafka_HeartbeatRequest {
    struct sl_slice group_id;
    int32_t generation_id;
    struct sl_slice member_id;
    struct sl_slice group_instance_id; /* v3+, nullable */
};

struct kafka_HeartbeatResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
};

/* ---- LeaveGroup (13) ----------------------------------------------------- */

struct kafka_MemberIdentity {
    struct sl_slice member_id;
    struct sl_slice group_instance_id; /* nullable */
};

struct kafka_LeaveGroupRequest {
    struct sl_slice group_id;
    struct sl_slice member_id;            /* v0-2 */
    struct kafka_MemberIdentity *members; /* v3+ */
    int32_t nmembers;
};

struct kafka_MemberResponse {
    struct sl_slice member_id;
    struct sl_slice group_instance_id; /* nullable */
    int16_t error_code;
};

struct kafka_LeaveGroupResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct kafka_MemberResponse *members; /* v3+ */
    int32_t nmembers;
};

/* ---- OffsetCommit (8) ---------------------------------------------------- */

struct kafka_OffsetCommitRequestPartition {
    int32_t partition_index;
    int64_t committed_offset;           /* the next offset to consume */
    int32_t committed_leader_epoch;     /* v6+; -1 when absent */
    int64_t commit_timestamp;           /* v1 only; -1 when absent */
    struct sl_slice committed_metadata; /* nullable */
};

struct kafka_OffsetCommitRequestTopic {
    struct sl_slice name;
    struct kafka_OffsetCommitRequestPartition *partitions;
    int32_t npartitions;
};

struct kafka_OffsetCommitRequest {
    struct sl_slice group_id;
    int32_t generation_id;             /* v1+; -1 when absent */
    struct sl_slice member_id;         /* v1+ */
    struct sl_slice group_instance_id; /* v7+, nullable */
    int64_t retention_time_ms;         /* v2-4; -1 when absent */
    struct kafka_OffsetCommitRequestTopic *topics;
    int32_t ntopics;
};

struct kafka_OffsetCommitResponsePartition {
    int32_t partition_index;
    int16_t error_code;
};

struct kafka_OffsetCommitResponseTopic {
    struct sl_slice name;
    struct kafka_OffsetCommitResponsePartition *partitions;
    int32_t npartitions;
};

struct kafka_OffsetCommitResponse {
    int32_t throttle_time_ms; /* v3+ */
    struct kafka_OffsetCommitResponseTopic *topics;
    int32_t ntopics;
};

/* ---- OffsetFetch (9) ----------------------------------------------------- */

struct kafka_OffsetFetchRequestTopic {
    struct sl_slice name;
    int32_t *partition_indexes;
    int32_t npartition_indexes;
};

struct kafka_OffsetFetchRequest {
    struct sl_slice group_id;
    struct kafka_OffsetFetchRequestTopic *topics; /* v2+: null (-1) = all committed */
    int32_t ntopics;
};

struct kafka_OffsetFetchResponsePartition {
    int32_t partition_index;
    int64_t committed_offset;       /* -1: none */
    int32_t committed_leader_epoch; /* v5+; -1 unknown */
    struct sl_slice metadata;       /* nullable */
    int16_t error_code;
};

struct kafka_OffsetFetchResponseTopic {
    struct sl_slice name;
    struct kafka_OffsetFetchResponsePartition *partitions;
    int32_t npartitions;
};

struct kafka_OffsetFetchResponse {
    int32_t throttle_time_ms; /* v3+ */
    struct kafka_OffsetFetchResponseTopic *topics;
    int32_t ntopics;
    int16_t error_code; /* v2+, last */
};

/* ---- ListGroups (16) ----------------------------------------------------- */

struct kafka_ListGroupsRequest {
    int32_t unused_; /* the request has no fields in v0-2 */
};

struct kafka_ListedGroup {
    struct sl_slice group_id;
    struct sl_slice protocol_type;
};

struct kafka_ListGroupsResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct kafka_ListedGroup *groups;
    int32_t ngroups;
};

/* ---- DescribeGroups (15) ------------------------------------------------- */

struct kafka_DescribeGroupsRequest {
    struct sl_slice *groups;
    int32_t ngroups;
    bool include_authorized_operations; /* v3+ */
};

struct kafka_DescribedGroupMember {
    struct sl_slice member_id;
    struct sl_slice group_instance_id; /* v4+, nullable */
    struct sl_slice client_id;
    struct sl_slice client_host;
    struct sl_slice member_metadata;
    struct sl_slice member_assignment;
};

struct kafka_DescribedGroup {
    int16_t error_code;
    struct sl_slice group_id;
    struct sl_slice group_state; /* "Empty", "PreparingRebalance", ... */
    struct sl_slice protocol_type;
    struct sl_slice protocol_data; /* the chosen assignor */
    struct kafka_DescribedGroupMember *members;
    int32_t nmembers;
    int32_t authorized_operations; /* v3+; INT32_MIN: not requested */
};

struct kafka_DescribeGroupsResponse {
    int32_t throttle_time_ms; /* v1+ */
    struct kafka_DescribedGroup *groups;
    int32_t ngroups;
};

/* ---- InitProducerId (22) ------------------------------------------------- */

struct kafka_InitProducerIdRequest {
    struct sl_slice transactional_id; /* nullable: null for idempotence only */
    int32_t transaction_timeout_ms;
};

struct kafka_InitProducerIdResponse {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
};

KAFKA_DECLARE_CODEC(FindCoordinatorRequest, 2);
KAFKA_DECLARE_CODEC(FindCoordinatorResponse, 2);
KAFKA_DECLARE_CODEC(JoinGroupRequest, 5);
KAFKA_DECLARE_CODEC(JoinGroupResponse, 5);
KAFKA_DECLARE_CODEC(SyncGroupRequest, 3);
KAFKA_DECLARE_CODEC(SyncGroupResponse, 3);
KAFKA_DECLARE_CODEC(HeartbeatRequest, 3);
KAFKA_DECLARE_CODEC(HeartbeatResponse, 3);
KAFKA_DECLARE_CODEC(LeaveGroupRequest, 3);
KAFKA_DECLARE_CODEC(LeaveGroupResponse, 3);
KAFKA_DECLARE_CODEC(OffsetCommitRequest, 7);
KAFKA_DECLARE_CODEC(OffsetCommitResponse, 7);
KAFKA_DECLARE_CODEC(OffsetFetchRequest, 5);
KAFKA_DECLARE_CODEC(OffsetFetchResponse, 5);
KAFKA_DECLARE_CODEC(ListGroupsRequest, 2);
KAFKA_DECLARE_CODEC(ListGroupsResponse, 2);
KAFKA_DECLARE_CODEC(DescribeGroupsRequest, 4);
KAFKA_DECLARE_CODEC(DescribeGroupsResponse, 4);
KAFKA_DECLARE_CODEC(InitProducerIdRequest, 1);
KAFKA_DECLARE_CODEC(InitProducerIdResponse, 1);

#endif
