/*
 * msg_admin.c: the codecs of the cluster-level APIs: ApiVersions, Metadata,
 * CreateTopics, DeleteTopics, DescribeConfigs and AlterConfigs. Each message is one M_io()
 * visitor (kafka_int.h); field order and version gates follow the Kafka
 * message JSON files (design/kafka-protocol.md §4).
 */
#include "kafka/kafka_int.h"

/* ---- ApiVersions (18): flexible from v3, response header always v0 ------- */

static void ApiVersionsRequest_io(struct kafka_io *io, struct kafka_ApiVersionsRequest *m)
{
    if (io->version >= 3) {
        kio_string(io, &m->client_software_name);
        kio_string(io, &m->client_software_version);
    }
    kio_tags(io);
}

static void ApiVersionsResponse_io(struct kafka_io *io, struct kafka_ApiVersionsResponse *m)
{
    kio_i16(io, &m->error_code);
    int32_t n = KIO_ARRAY(io, m->api_keys, m->napi_keys, io->flexible ? 7 : 6);
    for (int32_t i = 0; i < n; i++) {
        kio_i16(io, &m->api_keys[i].api_key);
        kio_i16(io, &m->api_keys[i].min_version);
        kio_i16(io, &m->api_keys[i].max_version);
        kio_tags(io);
    }
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(ApiVersionsRequest, 3)
KAFKA_DEFINE_CODEC(ApiVersionsResponse, 3)

void kafka_ApiVersions_unsupported_encode(struct sl_buf *out, int32_t correlation_id,
                                          const struct kafka_ApiVersion *api_keys,
                                          int32_t napi_keys)
{
    struct kafka_ApiVersionsResponse res = {
        .error_code = KAFKA_UNSUPPORTED_VERSION,
        .api_keys = (struct kafka_ApiVersion *)api_keys,
        .napi_keys = napi_keys,
    };
    size_t start = kafka_response_begin(out, correlation_id, 0);
    kafka_ApiVersionsResponse_encode(out, 0, &res);
    kafka_frame_end(out, start, 0);
}

/* ---- Metadata (3): v0-7, flexible from 9 --------------------------------- */

static void MetadataRequest_io(struct kafka_io *io, struct kafka_MetadataRequest *m)
{
    int32_t n = KIO_ARRAY(io, m->topics, m->ntopics, io->flexible ? 1 : 2);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->topics[i].name);
        kio_tags(io);
    }
    if (io->version >= 4)
        kio_bool(io, &m->allow_auto_topic_creation);
    else if (kio_reading(io))
        m->allow_auto_topic_creation = true;
    kio_tags(io);
}

static void int32_array(struct kafka_io *io, int32_t **v, int32_t *n)
{
    int32_t k = kio_array(io, (void **)v, n, sizeof **v, 4);
    for (int32_t i = 0; i < k; i++)
        kio_i32(io, &(*v)[i]);
}

static void MetadataResponse_io(struct kafka_io *io, struct kafka_MetadataResponse *m)
{
    int16_t v = io->version;
    if (v >= 3)
        kio_i32(io, &m->throttle_time_ms);
    int32_t nb = KIO_ARRAY(io, m->brokers, m->nbrokers, 10);
    for (int32_t i = 0; i < nb; i++) {
        struct kafka_MetadataResponseBroker *b = &m->brokers[i];
        kio_i32(io, &b->node_id);
        kio_string(io, &b->host);
        kio_i32(io, &b->port);
        if (v >= 1)
            kio_string(io, &b->rack);
        kio_tags(io);
    }
    if (v >= 2)
        kio_string(io, &m->cluster_id);
    if (v >= 1)
        kio_i32(io, &m->controller_id);
    else if (kio_reading(io))
        m->controller_id = -1;
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 8);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_MetadataResponseTopic *t = &m->topics[i];
        kio_i16(io, &t->error_code);
        kio_string(io, &t->name);
        if (v >= 1)
            kio_bool(io, &t->is_internal);
        int32_t np = KIO_ARRAY(io, t->partitions, t->npartitions, 18);
        for (int32_t j = 0; j < np; j++) {
            struct kafka_MetadataResponsePartition *p = &t->partitions[j];
            kio_i16(io, &p->error_code);
            kio_i32(io, &p->partition_index);
            kio_i32(io, &p->leader_id);
            if (v >= 7)
                kio_i32(io, &p->leader_epoch);
            else if (kio_reading(io))
                p->leader_epoch = -1;
            int32_array(io, &p->replica_nodes, &p->nreplica_nodes);
            int32_array(io, &p->isr_nodes, &p->nisr_nodes);
            if (v >= 5)
                int32_array(io, &p->offline_replicas, &p->noffline_replicas);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(MetadataRequest, 9)
KAFKA_DEFINE_CODEC(MetadataResponse, 9)

/* ---- CreateTopics (19): v0-4, flexible from 5 ---------------------------- */

static void CreateTopicsRequest_io(struct kafka_io *io, struct kafka_CreateTopicsRequest *m)
{
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 16);
    for (int32_t i = 0; i < nt; i++) {
        struct kafka_CreatableTopic *t = &m->topics[i];
        kio_string(io, &t->name);
        kio_i32(io, &t->num_partitions);
        kio_i16(io, &t->replication_factor);
        int32_t na = KIO_ARRAY(io, t->assignments, t->nassignments, 8);
        for (int32_t j = 0; j < na; j++) {
            kio_i32(io, &t->assignments[j].partition_index);
            int32_array(io, &t->assignments[j].broker_ids, &t->assignments[j].nbroker_ids);
            kio_tags(io);
        }
        int32_t nc = KIO_ARRAY(io, t->configs, t->nconfigs, 4);
        for (int32_t j = 0; j < nc; j++) {
            kio_string(io, &t->configs[j].name);
            kio_string(io, &t->configs[j].value);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_i32(io, &m->timeout_ms);
    if (io->version >= 1)
        kio_bool(io, &m->validate_only);
    kio_tags(io);
}

static void CreateTopicsResponse_io(struct kafka_io *io, struct kafka_CreateTopicsResponse *m)
{
    if (io->version >= 2)
        kio_i32(io, &m->throttle_time_ms);
    int32_t nt = KIO_ARRAY(io, m->topics, m->ntopics, 4);
    for (int32_t i = 0; i < nt; i++) {
        kio_string(io, &m->topics[i].name);
        kio_i16(io, &m->topics[i].error_code);
        if (io->version >= 1)
            kio_string(io, &m->topics[i].error_message);
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(CreateTopicsRequest, 5)
KAFKA_DEFINE_CODEC(CreateTopicsResponse, 5)

/* ---- DeleteTopics (20): v0-3, flexible from 4 ---------------------------- */

static void DeleteTopicsRequest_io(struct kafka_io *io, struct kafka_DeleteTopicsRequest *m)
{
    int32_t n = KIO_ARRAY(io, m->topic_names, m->ntopic_names, io->flexible ? 1 : 2);
    for (int32_t i = 0; i < n; i++)
        kio_string(io, &m->topic_names[i]);
    kio_i32(io, &m->timeout_ms);
    kio_tags(io);
}

static void DeleteTopicsResponse_io(struct kafka_io *io, struct kafka_DeleteTopicsResponse *m)
{
    if (io->version >= 1)
        kio_i32(io, &m->throttle_time_ms);
    int32_t n = KIO_ARRAY(io, m->responses, m->nresponses, 4);
    for (int32_t i = 0; i < n; i++) {
        kio_string(io, &m->responses[i].name);
        kio_i16(io, &m->responses[i].error_code);
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(DeleteTopicsRequest, 4)
KAFKA_DEFINE_CODEC(DeleteTopicsResponse, 4)

/* ---- DescribeConfigs (32): v0-2, flexible from 4 ------------------------- */

static void DescribeConfigsRequest_io(struct kafka_io *io, struct kafka_DescribeConfigsRequest *m)
{
    int32_t n = KIO_ARRAY(io, m->resources, m->nresources, 7);
    for (int32_t i = 0; i < n; i++) {
        struct kafka_DescribeConfigsResource *r = &m->resources[i];
        kio_i8(io, &r->resource_type);
        kio_string(io, &r->resource_name);
        int32_t k = KIO_ARRAY(io, r->configuration_keys, r->nconfiguration_keys, 2);
        for (int32_t j = 0; j < k; j++)
            kio_string(io, &r->configuration_keys[j]);
        kio_tags(io);
    }
    if (io->version >= 1)
        kio_bool(io, &m->include_synonyms);
    kio_tags(io);
}

static void DescribeConfigsResponse_io(struct kafka_io *io, struct kafka_DescribeConfigsResponse *m)
{
    int16_t v = io->version;
    kio_i32(io, &m->throttle_time_ms);
    int32_t n = KIO_ARRAY(io, m->results, m->nresults, 11);
    for (int32_t i = 0; i < n; i++) {
        struct kafka_DescribeConfigsResult *r = &m->results[i];
        kio_i16(io, &r->error_code);
        kio_string(io, &r->error_message);
        kio_i8(io, &r->resource_type);
        kio_string(io, &r->resource_name);
        int32_t nc = KIO_ARRAY(io, r->configs, r->nconfigs, 7);
        for (int32_t j = 0; j < nc; j++) {
            struct kafka_DescribeConfigsResourceResult *c = &r->configs[j];
            kio_string(io, &c->name);
            kio_string(io, &c->value);
            kio_bool(io, &c->read_only);
            if (v == 0)
                kio_bool(io, &c->is_default);
            else
                kio_i8(io, &c->config_source);
            kio_bool(io, &c->is_sensitive);
            if (v >= 1) {
                int32_t ns = KIO_ARRAY(io, c->synonyms, c->nsynonyms, 5);
                for (int32_t s = 0; s < ns; s++) {
                    kio_string(io, &c->synonyms[s].name);
                    kio_string(io, &c->synonyms[s].value);
                    kio_i8(io, &c->synonyms[s].source);
                    kio_tags(io);
                }
            }
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(DescribeConfigsRequest, 4)
KAFKA_DEFINE_CODEC(DescribeConfigsResponse, 4)

/* ---- AlterConfigs (33): v0-1 (1 is 0), flexible from 2 ------------------- */

static void AlterConfigsRequest_io(struct kafka_io *io, struct kafka_AlterConfigsRequest *m)
{
    int32_t n = KIO_ARRAY(io, m->resources, m->nresources, 7);
    for (int32_t i = 0; i < n; i++) {
        struct kafka_AlterConfigsResource *r = &m->resources[i];
        kio_i8(io, &r->resource_type);
        kio_string(io, &r->resource_name);
        int32_t k = KIO_ARRAY(io, r->configs, r->nconfigs, 4);
        for (int32_t j = 0; j < k; j++) {
            kio_string(io, &r->configs[j].name);
            kio_string(io, &r->configs[j].value);
            kio_tags(io);
        }
        kio_tags(io);
    }
    kio_bool(io, &m->validate_only);
    kio_tags(io);
}

static void AlterConfigsResponse_io(struct kafka_io *io, struct kafka_AlterConfigsResponse *m)
{
    kio_i32(io, &m->throttle_time_ms);
    int32_t n = KIO_ARRAY(io, m->responses, m->nresponses, 7);
    for (int32_t i = 0; i < n; i++) {
        struct kafka_AlterConfigsResourceResponse *r = &m->responses[i];
        kio_i16(io, &r->error_code);
        kio_string(io, &r->error_message);
        kio_i8(io, &r->resource_type);
        kio_string(io, &r->resource_name);
        kio_tags(io);
    }
    kio_tags(io);
}

KAFKA_DEFINE_CODEC(AlterConfigsRequest, 2)
KAFKA_DEFINE_CODEC(AlterConfigsResponse, 2)
