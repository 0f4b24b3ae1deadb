/*
 * cmd_topics.c: `sluice topics`, topic administration against any
 * Kafka-protocol broker, modelled on kafka-topics (--bootstrap-server is
 * accepted as a synonym of -b). The work is in src/kclient.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "kclient/kclient.h"

static const struct opt_cmd cmd = {
    "topics",
    "sluice topics [-b <host:port>] --create --topic <topic> [--partitions <n>] "
    "[--replication-factor <n>] [--config <name=value>]... [--if-not-exists]\n"
    "sluice topics [-b <host:port>] --describe --topic <topic>\n"
    "sluice topics [-b <host:port>] --list\n"
    "sluice topics [-b <host:port>] --delete --topic <topic> [--if-exists]",
    "create, describe, list and delete topics",
};

static void print_ids(const char *label, const int32_t *ids, int n)
{
    printf("\t%s: ", label);
    for (int i = 0; i < n; i++)
        printf("%s%" PRId32, i ? "," : "", ids[i]);
}

static void describe_print(const struct kclient_topic_info *info)
{
    printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", info->name,
           info->n_parts, info->replication, info->configs);
    for (int i = 0; i < info->n_parts; i++) {
        const struct kclient_partition_info *p = &info->parts[i];
        printf("\tTopic: %s\tPartition: %" PRId32 "\tLeader: %" PRId32, info->name, p->id,
               p->leader);
        print_ids("Replicas", p->replicas, p->n_replicas);
        print_ids("Isr", p->isrs, p->n_isrs);
        printf("\n");
    }
}

int cmd_topics(int argc, char **argv)
{
    const char *bootstrap = NULL, *bootstrap_server = NULL, *topic = NULL;
    bool create = false, describe = false, list = false, delete = false;
    bool if_not_exists = false, if_exists = false;
    int64_t partitions = 1, replication = 1;
    struct opt_list props = { 0 }, configs = { 0 };
    const struct opt opts[] = {
        { "bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
          "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)" },
        { "bootstrap-server", 0, OPT_STRING, &bootstrap_server, "HOST:PORT",
          "the same as --bootstrap (kafka-topics' spelling)" },
        { "create", 0, OPT_FLAG, &create, NULL, "create a topic" },
        { "describe", 0, OPT_FLAG, &describe, NULL, "show a topic's partitions" },
        { "list", 0, OPT_FLAG, &list, NULL, "list the topics, one per line" },
        { "delete", 0, OPT_FLAG, &delete, NULL, "delete a topic and its messages" },
        { "topic", 't', OPT_STRING, &topic, "TOPIC", "the topic to act on" },
        { "partitions", 0, OPT_INT, &partitions, "N", "partitions of a new topic (default 1)" },
        { "replication-factor", 0, OPT_INT, &replication, "N",
          "replicas of each partition (default 1)" },
        { "if-not-exists", 0, OPT_FLAG, &if_not_exists, NULL,
          "--create: succeed quietly if the topic exists" },
        { "if-exists", 0, OPT_FLAG, &if_exists, NULL,
          "--delete: succeed quietly if the topic does not exist" },
        { "config", 0, OPT_LIST, &configs, "NAME=VALUE",
          "a config of the new topic, e.g. retention.ms=86400000 (repeatable)" },
        { "property", 'X', OPT_LIST, &props, "NAME=VALUE", "a librdkafka client property" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    int rc = 2;
    if (npos > 0) {
        opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
        goto out;
    }
    if ((int)create + (int)describe + (int)list + (int)delete != 1) {
        opt_usage_error(&cmd, "give exactly one of --create, --describe, --list, --delete");
        goto out;
    }
    if (!list && !topic) {
        opt_usage_error(&cmd, "--%s needs --topic", create ? "create" : describe ? "describe"
                                                                                 : "delete");
        goto out;
    }
    if (configs.n > 0 && !create) {
        opt_usage_error(&cmd, "--config goes with --create");
        goto out;
    }
    for (int i = 0; i < configs.n; i++) {
        const char *eq = strchr(configs.items[i], '=');
        if (!eq || eq == configs.items[i]) {
            opt_usage_error(&cmd, "--config wants NAME=VALUE, not '%s'", configs.items[i]);
            goto out;
        }
    }
    if (partitions < 1 || partitions > 100000) {
        opt_usage_error(&cmd, "--partitions must be between 1 and 100000");
        goto out;
    }
    if (replication < 1 || replication > 32767) {
        opt_usage_error(&cmd, "--replication-factor must be between 1 and 32767");
        goto out;
    }

    struct sl_error err = { 0 };
    struct kclient_admin *admin =
        kclient_admin_new(cmd_bootstrap(bootstrap ? bootstrap : bootstrap_server), props.items, &err);
    if (!admin) {
        rc = err.code == SL_EUSAGE ? opt_usage_error(&cmd, "%s", err.msg) : cmd_fail("topics", &err);
        goto out;
    }
    int r = SL_OK;
    if (create) {
        r = kclient_topic_create(admin, topic, (int)partitions, (int)replication,
                                 configs.items, 0, &err);
        if (r == SL_OK)
            printf("Created topic %s.\n", topic);
        else if (r == SL_EEXIST && if_not_exists)
            r = SL_OK;
    } else if (delete) {
        r = kclient_topic_delete(admin, topic, 0, &err);
        if (r == SL_ENOTFOUND && if_exists)
            r = SL_OK;
    } else if (describe) {
        struct kclient_topic_info info;
        r = kclient_topic_describe(admin, topic, 0, &info, &err);
        if (r == SL_OK)
            describe_print(&info);
        kclient_topic_info_release(&info);
    } else {
        char **names = NULL;
        int n = 0;
        r = kclient_topic_list(admin, 0, &names, &n, &err);
        for (int i = 0; i < n; i++)
            printf("%s\n", names[i]);
        kclient_names_free(names, n);
    }
    kclient_admin_free(admin);
    rc = r == SL_OK ? 0 : cmd_fail("topics", &err);
out:
    opt_list_release(&props);
    opt_list_release(&configs);
    return rc;
}
