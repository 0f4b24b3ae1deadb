/*
 * cmd_groups.c: `sluice groups`, list consumer groups with their state,
 * members and assignments, committed offsets and lag, against any
 * Kafka-protocol broker (modelled on kafka-consumer-groups --describe). The
 * work is in src/kclient (kclient_groups_describe).
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
    "groups",
    "sluice groups [-b <host:port>] [-g <group>] [--list] [-X <name=value>]...",
    "list consumer groups: members, assignments, committed offsets and lag",
};

/* The member the partition is assigned to, or "-". */
static const char *owner(const struct kclient_group_info *g, const char *topic, int32_t part)
{
    for (int i = 0; i < g->n_members; i++)
        for (int k = 0; k < g->members[i].n_assignment; k++)
            if (g->members[i].assignment[k].partition == part &&
                strcmp(g->members[i].assignment[k].topic, topic) == 0)
                return g->members[i].member_id;
    return "-";
}

static void print_group(const struct kclient_group_info *g)
{
    printf("GROUP %s\tSTATE %s\tPROTOCOL %s\tMEMBERS %d\n", g->group, g->state,
           g->protocol[0] ? g->protocol : "-", g->n_members);
    for (int i = 0; i < g->n_members; i++) {
        const struct kclient_group_member *m = &g->members[i];
        printf("  MEMBER %s\tCLIENT-ID %s\tHOST %s\tASSIGNMENT ", m->member_id, m->client_id,
               m->host);
        if (m->n_assignment == 0)
            printf("-");
        for (int k = 0; k < m->n_assignment; k++)
            printf("%s%s:%" PRId32, k ? "," : "", m->assignment[k].topic,
                   m->assignment[k].partition);
        printf("\n");
    }
    if (g->n_offsets)
        printf("  %-24s %9s %14s %14s %10s  %s\n", "TOPIC", "PARTITION", "CURRENT-OFFSET",
               "LOG-END-OFFSET", "LAG", "CONSUMER-ID");
    for (int i = 0; i < g->n_offsets; i++) {
        const struct kclient_group_offset *o = &g->offsets[i];
        char end[32] = "-", lag[32] = "-";
        if (o->high >= 0) {
            snprintf(end, sizeof end, "%" PRId64, o->high);
            snprintf(lag, sizeof lag, "%" PRId64,
                     o->high > o->committed ? o->high - o->committed : 0);
        }
        printf("  %-24s %9" PRId32 " %14" PRId64 " %14s %10s  %s\n", o->topic, o->partition,
               o->committed, end, lag, owner(g, o->topic, o->partition));
    }
}

int cmd_groups(int argc, char **argv)
{
    const char *bootstrap = NULL, *bootstrap_server = NULL, *group = NULL;
    bool list = false;
    struct opt_list props = {0};
    const struct opt opts[] = {
        {"bootstrap", 'b', OPT_STRING, &bootstrap, "HOST:PORT",
         "broker address (default: $SLUICE_BOOTSTRAP or localhost:9092)"},
        {"bootstrap-server", 0, OPT_STRING, &bootstrap_server, "HOST:PORT",
         "the same as --bootstrap (kafka-consumer-groups' spelling)"},
        {"group", 'g', OPT_STRING, &group, "GROUP", "only this group"},
        {"list", 0, OPT_FLAG, &list, NULL, "only the group names, one per line"},
        {"property", 'X', OPT_LIST, &props, "NAME=VALUE", "a librdkafka client property"},
        OPT_TABLE_END,
    };
    int npos = opt_parse(&cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos > 0) {
        opt_list_release(&props);
        return opt_usage_error(&cmd, "unexpected argument '%s'", argv[1]);
    }
    struct kclient_group_info *groups = NULL;
    int n = 0, rc = 0;
    struct sl_error err = {0};
    if (kclient_groups_describe(cmd_bootstrap(bootstrap ? bootstrap : bootstrap_server), group,
                                props.items, 0, &groups, &n, &err) != SL_OK) {
        rc =
            err.code == SL_EUSAGE ? opt_usage_error(&cmd, "%s", err.msg) : cmd_fail("groups", &err);
    } else {
        for (int i = 0; i < n; i++) {
            if (list)
                printf("%s\n", groups[i].group);
            else
                print_group(&groups[i]);
        }
    }
    kclient_groups_free(groups, n);
    opt_list_release(&props);
    return rc;
}
