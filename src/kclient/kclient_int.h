/*
 * kclient_int.h: what the kclient files share (only src/kclient includes it):
 * building a librdkafka configuration with sluice's defaults and the
 * caller's properties, and turning librdkafka errors into sl_fail() lines.
 */
#ifndef KCLIENT_INT_H
#define KCLIENT_INT_H

#include <librdkafka/rdkafka.h>

#include "base/err.h"
#include "kclient/kclient.h"

/*
 * A new configuration with bootstrap.servers set and librdkafka's logging
 * routed to the sluice logger. Caller owns it (rd_kafka_conf_destroy, or
 * hand it to rd_kafka_new). NULL with SL_EUSAGE on a bad bootstrap.
 */
rd_kafka_conf_t *kclient_conf_new(const char *bootstrap, struct sl_error *err);

/* Set one property; SL_OK or SL_EUSAGE naming the property. */
int kclient_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                     struct sl_error *err);

/* The properties every sluice consumer sets (see conf.c); SL_OK or SL_EUSAGE. */
int kclient_conf_consumer(rd_kafka_conf_t *conf, struct sl_error *err);

/* Apply a NULL-terminated "name=value" list (NULL: nothing); SL_OK or SL_EUSAGE. */
int kclient_conf_props(rd_kafka_conf_t *conf, const char *const *props, struct sl_error *err);

/* rd_kafka_new() that reports failure through err; takes ownership of conf
 * in every case. */
rd_kafka_t *kclient_rk_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, struct sl_error *err);

/* The sl_err for a librdkafka error code: SL_ENOTFOUND for unknown topic or
 * partition, SL_EEXIST for topic-exists, SL_EUSAGE for invalid arguments,
 * SL_EIO for everything else. */
int kclient_err_code(rd_kafka_resp_err_t rkerr);

/* Fill msg from a librdkafka message of `topic` (borrowed: msg points into rkm). */
void kclient_msg_fill(struct kclient_msg *msg, const rd_kafka_message_t *rkm, const char *topic);

#endif
