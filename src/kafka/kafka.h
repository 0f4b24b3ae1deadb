/*
 * kafka.h: the Kafka wire codec, the first thing every broker byte passes.
 *
 * Frames (INT32 size, then header and body), request header v1/v2, response
 * header v0/v1, the primitive types (STRING, NULLABLE_STRING, BYTES, ARRAY,
 * their compact forms, tag buffers), and a decoder and an encoder for both the
 * request and the response of every API sluice serves:
 *
 *   ApiVersions 0-3, Metadata 0-7, Produce 0-7, Fetch 0-11, ListOffsets 0-3,
 *   CreateTopics 0-4, DeleteTopics 0-3, DescribeConfigs 0-2, AlterConfigs 0-1.
 *
 * Field names are the spec's (design/kafka-protocol.md §4, the Apache Kafka
 * message JSON files), so grep works against the spec. Record batches inside
 * Produce and Fetch are opaque bytes here (see kafka/batch.h).
 *
 * Conventions shared by every type below:
 *   - Strings and bytes are `struct sl_slice`; p == NULL means null (length -1
 *     on the wire, or 0 in compact form). A present empty value has p != NULL.
 *     Decoded slices borrow from the decoder's input.
 *   - Arrays are a pointer plus an int32_t count; count -1 means a null array
 *     (only meaningful where the field is nullable; loops over `n` handle -1
 *     as empty). Decoded arrays are allocated in the caller's arena.
 *   - Every count and length read from the wire is checked against the bytes
 *     that remain before anything is allocated, and counts are capped at
 *     KAFKA_ARRAY_MAX, so a decoder allocates at most a small multiple of its
 *     input size.
 *   - Decoders return SL_OK or SL_EPROTO (truncated or malformed input, or a
 *     version outside what the codec knows) with a message in err. Trailing
 *     bytes after a body are ignored, as Kafka does for older versions.
 *   - Encoders append to an uncapped `struct sl_buf` (sl_buf_init(buf, 0)) and
 *     cannot fail.
 *
 * Uses only src/base. No global state; thread-safe for distinct objects.
 */
#ifndef KAFKA_KAFKA_H
#define KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/cur.h"
#include "base/err.h"
#include "base/slice.h"

#define KAFKA_ARRAY_MAX (1 << 20) /* elements in any one array */

/* ---- API keys and error codes ------------------------------------------- */

enum kafka_api_key {
    KAFKA_API_PRODUCE = 0,
    KAFKA_API_FETCH = 1,
    KAFKA_API_LIST_OFFSETS = 2,
    KAFKA_API_METADATA = 3,
    KAFKA_API_OFFSET_COMMIT = 8,
    KAFKA_API_OFFSET_FETCH = 9,
    KAFKA_API_FIND_COORDINATOR = 10,
    KAFKA_API_JOIN_GROUP = 11,
    KAFKA_API_HEARTBEAT = 12,
    KAFKA_API_LEAVE_GROUP = 13,
    KAFKA_API_SYNC_GROUP = 14,
    KAFKA_API_DESCRIBE_GROUPS = 15,
    KAFKA_API_LIST_GROUPS = 16,
    KAFKA_API_SASL_HANDSHAKE = 17,
    KAFKA_API_API_VERSIONS = 18,
    KAFKA_API_CREATE_TOPICS = 19,
    KAFKA_API_DELETE_TOPICS = 20,
    KAFKA_API_INIT_PRODUCER_ID = 22,
    KAFKA_API_DESCRIBE_CONFIGS = 32,
    KAFKA_API_ALTER_CONFIGS = 33,
};

/* Kafka ErrorCode values sluice answers with (protocol data, not sl_err). */
enum kafka_error_code {
    KAFKA_UNKNOWN_SERVER_ERROR = -1,
    KAFKA_NONE = 0,
    KAFKA_OFFSET_OUT_OF_RANGE = 1,
    KAFKA_CORRUPT_MESSAGE = 2,
    KAFKA_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KAFKA_LEADER_NOT_AVAILABLE = 5,
    KAFKA_REQUEST_TIMED_OUT = 7,
    KAFKA_MESSAGE_TOO_LARGE = 10,
    KAFKA_INVALID_TOPIC_EXCEPTION = 17,
    KAFKA_INVALID_REQUIRED_ACKS = 21,
    KAFKA_UNSUPPORTED_VERSION = 35,
    KAFKA_TOPIC_ALREADY_EXISTS = 36,
    KAFKA_INVALID_PARTITIONS = 37,
    KAFKA_INVALID_REPLICATION_FACTOR = 38,
    KAFKA_INVALID_CONFIG = 40,
    KAFKA_INVALID_REQUEST = 42,
    KAFKA_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KAFKA_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KAFKA_INVALID_RECORD = 87,
};

/* The API's name ("Produce", "ApiVersions", ...), or "Unknown"; never NULL. */
const char *kafka_api_name(int api_key);

/*
 * The first flexible version of `api_key` (KIP-482: compact strings and tag
 * buffers from that version on), INT16_MAX when no version is flexible, or -1
 * for a key the codec does not know.
 */
int kafka_api_first_flexible(int api_key);

/* Request header version for (key, version): 2 if flexible, else 1; -1 unknown key. */
int kafka_request_header_version(int api_key, int api_version);

/*
 * Response header version: 1 if flexible, else 0; ApiVersions is always 0
 * (KIP-511: clients parse it before they know the broker's versions).
 */
int kafka_response_header_version(int api_key, int api_version);

/* ---- Primitive readers (on a sl_cur; failures set cur->failed) ----------- */

/*
 * Each reader returns zero / an empty or null slice once the cursor failed.
 * A length that exceeds the bytes left fails the cursor; nothing is copied.
 */
struct sl_slice kafka_read_string(struct sl_cur *cur);         /* STRING / NULLABLE_STRING */
struct sl_slice kafka_read_bytes(struct sl_cur *cur);          /* BYTES / NULLABLE_BYTES */
struct sl_slice kafka_read_compact_string(struct sl_cur *cur); /* COMPACT_(NULLABLE_)STRING */
struct sl_slice kafka_read_compact_bytes(struct sl_cur *cur);  /* COMPACT_(NULLABLE_)BYTES */
/*
 * An ARRAY (or COMPACT_ARRAY when `compact`) count: -1 for null, else 0..N,
 * where N is capped by KAFKA_ARRAY_MAX and by the bytes left divided by
 * `min_elem` (the smallest encoding of one element, >= 1).
 */
int32_t kafka_read_array_len(struct sl_cur *cur, bool compact, size_t min_elem);
/* Skip a TAG_BUFFER (every tag is unknown to sluice's versions). */
void kafka_read_tags(struct sl_cur *cur);

/* ---- Primitive writers (append to an uncapped buf) ---------------------- */

void kafka_write_string(struct sl_buf *out, struct sl_slice s); /* p NULL: -1 */
void kafka_write_bytes(struct sl_buf *out, struct sl_slice s);  /* p NULL: -1 */
void kafka_write_compact_string(struct sl_buf *out, struct sl_slice s);
void kafka_write_compact_bytes(struct sl_buf *out, struct sl_slice s);
void kafka_write_array_len(struct sl_buf *out, bool compact, int32_t n); /* -1: null */
void kafka_write_empty_tags(struct sl_buf *out);                         /* one 0x00 byte */

/* ---- Frames and headers ------------------------------------------------- */

struct kafka_RequestHeader {
    int16_t request_api_key;
    int16_t request_api_version;
    int32_t correlation_id;
    struct sl_slice client_id; /* borrowed; p NULL for a null client id */
    int8_t header_version;     /* 1 or 2 (0 is never sent by our clients) */
};

/*
 * Decode the header of the request frame body `frame` (the bytes after the
 * size). The header version follows from key and version; a key the codec
 * does not know is read as header v1 (key, version and correlation id are
 * then still valid, which is all a broker needs to refuse it). On SL_OK,
 * `*body` is the rest of the frame. Returns SL_OK or SL_EPROTO.
 */
int kafka_RequestHeader_decode(struct sl_slice frame, struct kafka_RequestHeader *hdr,
                               struct sl_slice *body, struct sl_error *err);

/* Append a request frame's size placeholder and header; returns the frame start. */
size_t kafka_request_begin(struct sl_buf *out, const struct kafka_RequestHeader *hdr);

/*
 * Append a response frame's size placeholder and a header of version 0 or 1;
 * returns the frame start, to give to kafka_frame_end().
 */
size_t kafka_response_begin(struct sl_buf *out, int32_t correlation_id, int header_version);

/*
 * Patch the size of the frame that starts at `start`: the bytes written since,
 * plus `extra` bytes that will be sent after them from elsewhere (sendfile).
 */
void kafka_frame_end(struct sl_buf *out, size_t start, size_t extra);

/* ---- ApiVersions (18) ---------------------------------------------------- */

struct kafka_ApiVersionsRequest {
    struct sl_slice client_software_name;    /* v3+ */
    struct sl_slice client_software_version; /* v3+ */
};

struct kafka_ApiVersion {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
};

struct kafka_ApiVersionsResponse {
    int16_t error_code;
    struct kafka_ApiVersion *api_keys;
    int32_t napi_keys;
    int32_t throttle_time_ms; /* v1+ */
};

/* ---- Metadata (3) -------------------------------------------------------- */

struct kafka_MetadataRequestTopic {
    struct sl_slice name;
};

struct kafka_MetadataRequest {
    struct kafka_MetadataRequestTopic *topics; /* v0: empty = all; v1+: null (-1) = all */
    int32_t ntopics;
    bool allow_auto_topic_creation; /* v4+; decoded as true for v0-3 */
};

struct kafka_MetadataResponseBroker {
    int32_t node_id;
    struct sl_slice host;
    int32_t port;
    struct sl_slice rack; /* v1+, nullable */
};

struct kafka_MetadataResponsePartition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch; /* v7+ */
    int32_t *replica_nodes;
    int32_t nreplica_nodes;
    int32_t *isr_nodes;
    int32_t nisr_nodes;
    int32_t *offline_replicas; /* v5+ */
    int32_t noffline_replicas;
};

struct kafka_MetadataResponseTopic {
    int16_t error_code;
    struct sl_slice name;
    bool is_internal; /* v1+ */
    struct kafka_MetadataResponsePartition *partitions;
    int32_t npartitions;
};

struct kafka_MetadataResponse {
    int32_t throttle_time_ms; /* v3+ */
    struct kafka_MetadataResponseBroker *brokers;
    int32_t nbrokers;
    struct sl_slice cluster_id; /* v2+, nullable */
    int32_t controller_id;      /* v1+ */
    struct kafka_MetadataResponseTopic *topics;
    int32_t ntopics;
};

/* ---- Produce (0) --------------------------------------------------------- */

struct kafka_ProducePartitionData {
    int32_t index;
    struct sl_slice records; /* nullable; v3+: one magic-2 batch; v0-2: a MessageSet */
};

struct kafka_ProduceTopicData {
    struct sl_slice name;
    struct kafka_ProducePartitionData *partition_data;
    int32_t npartition_data;
};

struct kafka_ProduceRequest {
    struct sl_slice transactional_id; /* v3+, nullable */
    int16_t acks;                     /* 0, 1 or -1 */
    int32_t timeout_ms;
    struct kafka_ProduceTopicData *topic_data;
    int32_t ntopic_data;
};

struct kafka_ProducePartitionResponse {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms; /* v2+; -1 under CreateTime */
    int64_t log_start_offset;   /* v5+ */
};

struct kafka_ProduceTopicResponse {
    struct sl_slice name;
    struct kafka_ProducePartitionResponse *partition_responses;
    int32_t npartition_responses;
};

struct kafka_ProduceResponse {
    struct kafka_ProduceTopicResponse *responses;
    int32_t nresponses;
    int32_t throttle_time_ms; /* v1+, last */
};

/* ---- Fetch (1) ----------------------------------------------------------- */

struct kafka_FetchPartition {
    int32_t partition;
    int32_t current_leader_epoch; /* v9+; -1 when absent */
    int64_t fetch_offset;
    int64_t log_start_offset; /* v5+; -1 when absent */
    int32_t partition_max_bytes;
};

struct kafka_FetchTopic {
    struct sl_slice topic;
    struct kafka_FetchPartition *partitions;
    int32_t npartitions;
};

struct kafka_ForgottenTopic {
    struct sl_slice topic;
    int32_t *partitions;
    int32_t npartitions;
};

struct kafka_FetchRequest {
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;      /* v3+; INT32_MAX when absent */
    int8_t isolation_level; /* v4+; 0 read_uncommitted, 1 read_committed */
    int32_t session_id;     /* v7+ */
    int32_t session_epoch;  /* v7+; -1 when absent */
    struct kafka_FetchTopic *topics;
    int32_t ntopics;
    struct kafka_ForgottenTopic *forgotten_topics_data; /* v7+ */
    int32_t nforgotten_topics_data;
    struct sl_slice rack_id; /* v11+ */
};

/*
 * The records of one Fetch partition: `mem` bytes, then (encoding only)
 * `file_len` bytes that the sender copies from a file after the encoded
 * prefix. The encoder writes the RECORDS length as mem.len + file_len and
 * records where the file bytes go (see kafka_FetchResponse_encode). Never
 * null on the wire: a null `mem` with file_len 0 is written as length 0.
 */
struct kafka_FetchRecords {
    struct sl_slice mem; /* borrowed */
    size_t file_len;     /* bytes to splice in from a file (encoding only) */
    void *file;          /* borrowed opaque tag handed back to the splice list */
};

struct kafka_AbortedTransaction {
    int64_t producer_id;
    int64_t first_offset;
};

struct kafka_FetchPartitionData {
    int32_t partition_index;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset;                            /* v4+ */
    int64_t log_start_offset;                              /* v5+ */
    struct kafka_AbortedTransaction *aborted_transactions; /* v4+, nullable */
    int32_t naborted_transactions;
    int32_t preferred_read_replica; /* v11+; always -1 from sluice */
    struct kafka_FetchRecords records;
};

struct kafka_FetchableTopicResponse {
    struct sl_slice topic;
    struct kafka_FetchPartitionData *partitions;
    int32_t npartitions;
};

struct kafka_FetchResponse {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;       /* v7+ */
    int32_t session_id;       /* v7+ */
    struct kafka_FetchableTopicResponse *responses;
    int32_t nresponses;
};

/*
 * Where file bytes go in an encoded Fetch response: after byte `at` of the
 * output buffer, send `len` bytes described by `file` (the tag the caller put
 * in kafka_FetchRecords). Entries are in output order.
 */
struct kafka_splice {
    size_t at;
    size_t len;
    void *file;
};

struct kafka_splices {
    struct kafka_splice *v; /* owned; from malloc() */
    size_t n, cap;
};

void kafka_splices_release(struct kafka_splices *sp);

/* ---- ListOffsets (2) ----------------------------------------------------- */

struct kafka_ListOffsetsPartition {
    int32_t partition_index;
    int64_t timestamp;       /* -1 latest, -2 earliest, else ms */
    int32_t max_num_offsets; /* v0 only */
};

struct kafka_ListOffsetsTopic {
    struct sl_slice name;
    struct kafka_ListOffsetsPartition *partitions;
    int32_t npartitions;
};

struct kafka_ListOffsetsRequest {
    int32_t replica_id;
    int8_t isolation_level; /* v2+ */
    struct kafka_ListOffsetsTopic *topics;
    int32_t ntopics;
};

struct kafka_ListOffsetsPartitionResponse {
    int32_t partition_index;
    int16_t error_code;
    int64_t *old_style_offsets; /* v0 only */
    int32_t nold_style_offsets;
    int64_t timestamp; /* v1+ */
    int64_t offset;    /* v1+ */
};

struct kafka_ListOffsetsTopicResponse {
    struct sl_slice name;
    struct kafka_ListOffsetsPartitionResponse *partitions;
    int32_t npartitions;
};

struct kafka_ListOffsetsResponse {
    int32_t throttle_time_ms; /* v2+ */
    struct kafka_ListOffsetsTopicResponse *topics;
    int32_t ntopics;
};

/* ---- CreateTopics (19) --------------------------------------------------- */

struct kafka_CreatableReplicaAssignment {
    int32_t partition_index;
    int32_t *broker_ids;
    int32_t nbroker_ids;
};

struct kafka_CreateableTopicConfig {
    struct sl_slice name;
    struct sl_slice value; /* nullable */
};

struct kafka_CreatableTopic {
    struct sl_slice name;
    int32_t num_partitions;     /* -1: broker default (v4+) */
    int16_t replication_factor; /* -1: broker default (v4+) */
    struct kafka_CreatableReplicaAssignment *assignments;
    int32_t nassignments;
    struct kafka_CreateableTopicConfig *configs;
    int32_t nconfigs;
};

struct kafka_CreateTopicsRequest {
    struct kafka_CreatableTopic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
    bool validate_only; /* v1+ */
};

struct kafka_CreatableTopicResult {
    struct sl_slice name;
    int16_t error_code;
    struct sl_slice error_message; /* v1+, nullable */
};

struct kafka_CreateTopicsResponse {
    int32_t throttle_time_ms; /* v2+ */
    struct kafka_CreatableTopicResult *topics;
    int32_t ntopics;
};

/* ---- DeleteTopics (20) --------------------------------------------------- */

struct kafka_DeleteTopicsRequest {
    struct sl_slice *topic_names;
    int32_t ntopic_names;
    int32_t timeout_ms;
};

struct kafka_DeletableTopicResult {
    struct sl_slice name;
    int16_t error_code;
};

struct kafka_DeleteTopicsResponse {
    int32_t throttle_time_ms; /* v1+ */
    struct kafka_DeletableTopicResult *responses;
    int32_t nresponses;
};

/* ---- DescribeConfigs (32) ------------------------------------------------ */

/* Config resource types (DescribeConfigs, AlterConfigs). */
enum { KAFKA_RESOURCE_TOPIC = 2, KAFKA_RESOURCE_BROKER = 4 };

struct kafka_DescribeConfigsResource {
    int8_t resource_type; /* 2 topic, 4 broker */
    struct sl_slice resource_name;
    struct sl_slice *configuration_keys; /* nullable: null = all */
    int32_t nconfiguration_keys;
};

struct kafka_DescribeConfigsRequest {
    struct kafka_DescribeConfigsResource *resources;
    int32_t nresources;
    bool include_synonyms; /* v1+ */
};

struct kafka_DescribeConfigsSynonym {
    struct sl_slice name;
    struct sl_slice value; /* nullable */
    int8_t source;
};

struct kafka_DescribeConfigsResourceResult {
    struct sl_slice name;
    struct sl_slice value; /* nullable */
    bool read_only;
    bool is_default;      /* v0 only */
    int8_t config_source; /* v1+ */
    bool is_sensitive;
    struct kafka_DescribeConfigsSynonym *synonyms; /* v1+ */
    int32_t nsynonyms;
};

struct kafka_DescribeConfigsResult {
    int16_t error_code;
    struct sl_slice error_message; /* nullable */
    int8_t resource_type;
    struct sl_slice resource_name;
    struct kafka_DescribeConfigsResourceResult *configs;
    int32_t nconfigs;
};

struct kafka_DescribeConfigsResponse {
    int32_t throttle_time_ms;
    struct kafka_DescribeConfigsResult *results;
    int32_t nresults;
};

/* ---- AlterConfigs (33) --------------------------------------------------- */

struct kafka_AlterableConfig {
    struct sl_slice name;
    struct sl_slice value; /* nullable */
};

struct kafka_AlterConfigsResource {
    int8_t resource_type; /* 2 topic, 4 broker */
    struct sl_slice resource_name;
    struct kafka_AlterableConfig *configs;
    int32_t nconfigs;
};

struct kafka_AlterConfigsRequest {
    struct kafka_AlterConfigsResource *resources;
    int32_t nresources;
    bool validate_only;
};

struct kafka_AlterConfigsResourceResponse {
    int16_t error_code;
    struct sl_slice error_message; /* nullable */
    int8_t resource_type;
    struct sl_slice resource_name;
};

struct kafka_AlterConfigsResponse {
    int32_t throttle_time_ms;
    struct kafka_AlterConfigsResourceResponse *responses;
    int32_t nresponses;
};

/* ---- Decoders and encoders ----------------------------------------------- */

/*
 * For each message M of the APIs above:
 *
 *   int  kafka_M_decode(struct sl_slice body, int16_t version, struct sl_arena *arena,
 *                       struct M *msg, struct sl_error *err);
 *   void kafka_M_encode(struct sl_buf *out, int16_t version, const struct M *msg);
 *
 * decode reads a body (the bytes after the header) into *msg, allocating its
 * arrays in `arena`; slices borrow from `body`. encode appends the body only:
 * callers frame it with kafka_request_begin / kafka_response_begin and
 * kafka_frame_end. Versions outside the codec's range fail decode with
 * SL_EPROTO and are a caller bug for encode (asserted).
 */
#define KAFKA_DECLARE_CODEC(M, MAXV)                                                               \
    enum { kafka_##M##_max_version = (MAXV) };                                                     \
    int kafka_##M##_decode(struct sl_slice body, int16_t version, struct sl_arena *arena,          \
                           struct kafka_##M *msg, struct sl_error *err);                           \
    void kafka_##M##_encode(struct sl_buf *out, int16_t version, const struct kafka_##M *msg)

KAFKA_DECLARE_CODEC(ApiVersionsRequest, 3);
KAFKA_DECLARE_CODEC(ApiVersionsResponse, 3);
KAFKA_DECLARE_CODEC(MetadataRequest, 7);
KAFKA_DECLARE_CODEC(MetadataResponse, 7);
KAFKA_DECLARE_CODEC(ProduceRequest, 7);
KAFKA_DECLARE_CODEC(ProduceResponse, 7);
KAFKA_DECLARE_CODEC(FetchRequest, 11);
KAFKA_DECLARE_CODEC(FetchResponse, 11);
KAFKA_DECLARE_CODEC(ListOffsetsRequest, 3);
KAFKA_DECLARE_CODEC(ListOffsetsResponse, 3);
KAFKA_DECLARE_CODEC(CreateTopicsRequest, 4);
KAFKA_DECLARE_CODEC(CreateTopicsResponse, 4);
KAFKA_DECLARE_CODEC(DeleteTopicsRequest, 3);
KAFKA_DECLARE_CODEC(DeleteTopicsResponse, 3);
KAFKA_DECLARE_CODEC(DescribeConfigsRequest, 2);
KAFKA_DECLARE_CODEC(DescribeConfigsResponse, 2);
KAFKA_DECLARE_CODEC(AlterConfigsRequest, 1);
KAFKA_DECLARE_CODEC(AlterConfigsResponse, 1);

/*
 * A Fetch response whose records may come from files: as
 * kafka_FetchResponse_encode, and for every partition with records.file_len >
 * 0 appends a kafka_splice to `sp` (at = the output position where the file
 * bytes belong). Returns the total file bytes, to pass to kafka_frame_end().
 */
size_t kafka_FetchResponse_encode_spliced(struct sl_buf *out, int16_t version,
                                          const struct kafka_FetchResponse *msg,
                                          struct kafka_splices *sp);

/*
 * The UNSUPPORTED_VERSION answer to an ApiVersions request of a version the
 * broker does not know (KIP-511): a whole frame, header v0, v0 body with
 * error 35 and `api_keys` (the broker's full list).
 */
void kafka_ApiVersions_unsupported_encode(struct sl_buf *out, int32_t correlation_id,
                                          const struct kafka_ApiVersion *api_keys,
                                          int32_t napi_keys);

#endif
