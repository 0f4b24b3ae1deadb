/*
 * group.c: the group coordinator of `sluice broker` — consumer-group
 * membership and rebalancing, durable committed offsets, and producer ids.
 * Requests reach it from handle_<Api>.c; answers to parked requests leave
 * through the reply callback (group.h).
 *
 * NOTES ON THE DESIGN OF THE GROUP COORDINATOR
 *
 * Definitions.
 *   member      a consumer admitted to a group, known by its member id.
 *   pending id  a member id handed out with MEMBER_ID_REQUIRED (JoinGroup v4+)
 *               that has not joined yet; it expires after the session timeout.
 *   generation  a counter bumped each time a rebalance round completes (or the
 *               group empties); every Sync/Heartbeat/Commit names the one it
 *               belongs to.
 *   round       a rebalance: from entering PREPARING until every member has
 *               rejoined (sent JoinGroup) or the rebalance timeout passed.
 *   waiter      an opaque pointer for a parked request (the connection); a
 *               member has at most one parked JoinGroup and one parked
 *               SyncGroup.
 *
 * Invariants.
 *   1. A member's join_waiter is set only while the group is PREPARING (it is
 *      answered when the round completes); its sync_waiter only while the
 *      group is COMPLETING (answered when the leader's SyncGroup arrives, or
 *      with REBALANCE_IN_PROGRESS when a new round starts).
 *   2. Members with a parked request never expire: a client waiting for an
 *      answer cannot heartbeat on the same connection (responses are in
 *      order), so the wait counts as liveness. Every Join, Sync and Heartbeat
 *      refreshes last_heard.
 *   3. The leader is a member whenever the group is COMPLETING or STABLE.
 *   4. An OffsetCommit is acknowledged only after its records are written to
 *      the group file and fdatasync'ed; the in-memory table is updated only
 *      then, so OffsetFetch never returns what a crash could take back.
 *   5. Producer ids below the persisted high-water mark are never handed out
 *      again after a restart.
 *
 * States and transitions.
 *
 *            join (first member)             all members rejoined, or
 *   EMPTY ───────────────────────▶ PREPARING ──rebalance timeout──▶ COMPLETING
 *     ▲                              ▲   ▲                             │
 *     │ last member leaves/expires   │   │ join / leave / expiry       │ leader's
 *     │ (generation++)               │   └─────────────────────────────┤ SyncGroup
 *     └──────────────────────────────┴──── join / leave / expiry ── STABLE ◀─┘
 *
 *   EMPTY -> PREPARING         broker_groups_join -> prepare_rebalance
 *   PREPARING -> COMPLETING    complete_round (from join when the last member
 *                              rejoins, or broker_groups_tick at the deadline)
 *   PREPARING -> EMPTY         complete_round with no members left
 *   COMPLETING -> STABLE       broker_groups_sync (the leader's assignments)
 *   COMPLETING/STABLE -> PREPARING
 *                              prepare_rebalance: a new member joins, a member
 *                              changes its protocols, the leader rejoins, a
 *                              member leaves (broker_groups_leave) or its
 *                              session expires (broker_groups_tick)
 *   any -> EMPTY               remove_member of the last member
 *   EMPTY (no offsets, no pending ids) -> deleted   broker_groups_tick
 *
 * Members learn of a new round from Heartbeat (REBALANCE_IN_PROGRESS, as
 * Kafka's handleHeartbeat) and rejoin. The first round of a new group
 * completes as soon as its first member joins (no initial delay): a second
 * consumer triggers a second round, which the first learns of at its next
 * heartbeat.
 *
 * The file (group.h). Records: OFFSET (group, topic, partition, offset,
 * leader epoch, metadata, commit time), GROUP (group, generation, protocol
 * type), PID (producer-id high-water mark). Replay applies them in order;
 * the last record for a key wins. A torn or corrupt tail is cut at the first
 * bad record. The file is rewritten with only the live records on open, and
 * at run time when it exceeds COMPACT_BYTES and four times the live size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/cur.h"
#include "base/log.h"
#include "base/mem.h"
#include "broker/group.h"

#define REC_OFFSET 1
#define REC_GROUP 2
#define REC_PID 3
#define REC_MAX ((size_t)1 << 20)
#define PID_BLOCK 1000
#define COMPACT_BYTES ((int64_t)64 << 20)
#define METADATA_MAX 4096

enum gstate { EMPTY, PREPARING, COMPLETING, STABLE };

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable"};

struct proto {
    char *name;    /* owned */
    uint8_t *meta; /* owned; NULL when empty */
    size_t meta_len;
};

struct member {
    char *id;          /* owned */
    char *client_id;   /* owned */
    char *client_host; /* owned */
    int32_t session_ms, rebalance_ms;
    struct proto *protos; /* owned, nprotos entries, the member's preference order */
    int nprotos;
    uint8_t *assign; /* owned: the assignment of the current generation; NULL: none */
    size_t assign_len;
    int64_t last_heard; /* monotonic ms of the last Join/Sync/Heartbeat */
    void *join_waiter;  /* borrowed: a parked JoinGroup, or NULL */
    int16_t join_version;
    void *sync_waiter; /* borrowed: a parked SyncGroup, or NULL */
};

struct pending {
    char *id; /* owned */
    int64_t expires;
};

struct offset {
    char *topic; /* owned */
    int32_t partition;
    int64_t offset;
    int32_t epoch;
    char *meta; /* owned, never NULL */
    int64_t ts; /* wall ms of the commit */
};

struct group {
    char *id; /* owned */
    enum gstate state;
    int32_t generation;
    char *protocol_type;     /* owned; NULL until the first join */
    char *protocol;          /* owned: the chosen assignor, NULL when none */
    char *leader;            /* owned: the leader's member id, NULL when none */
    struct member **members; /* owned, in join order */
    size_t nmembers, capmembers;
    struct pending *pending; /* owned */
    size_t npending, cappending;
    struct offset *offsets; /* owned */
    size_t noffsets, capoffsets;
    int64_t deadline; /* PREPARING: when the round completes regardless */
};

struct broker_groups {
    char *dir;  /* owned */
    char *path; /* owned: dir/BROKER_GROUP_FILE */
    int fd;     /* owned: the group file, append position at its end */
    int64_t file_bytes;
    struct group **groups; /* owned */
    size_t ngroups, capgroups;
    broker_group_reply_fn *reply;
    void *reply_arg;
    int64_t pid_next, pid_limit; /* ids in [pid_next, pid_limit) may be handed out */
    uint64_t idseq;              /* member-id counter */
    void *cur_waiter;            /* the waiter of the request being handled */
    bool cur_answered;           /* ... and whether it was answered */
};

/* ---- Small helpers -------------------------------------------------------- */

static bool slice_eq(struct sl_slice s, const char *c)
{
    size_t n = c ? strlen(c) : 0;
    return c && s.len == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

static char *slice_dup(struct sl_slice s)
{
    return sl_xstrndup(s.p ? (const char *)s.p : "", s.len);
}

static struct sl_slice cs(const char *c)
{
    return sl_slice_make(c ? c : "", c ? strlen(c) : 0);
}

static void free_protos(struct member *m)
{
    for (int i = 0; i < m->nprotos; i++) {
        free(m->protos[i].name);
        free(m->protos[i].meta);
    }
    free(m->protos);
    m->protos = NULL;
    m->nprotos = 0;
}

static void free_member(struct member *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->client_id);
    free(m->client_host);
    free_protos(m);
    free(m->assign);
    free(m);
}

static void free_group(struct group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nmembers; i++)
        free_member(g->members[i]);
    free(g->members);
    for (size_t i = 0; i < g->npending; i++)
        free(g->pending[i].id);
    free(g->pending);
    for (size_t i = 0; i < g->noffsets; i++) {
        free(g->offsets[i].topic);
        free(g->offsets[i].meta);
    }
    free(g->offsets);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    free(g);
}

static struct group *find_group(struct broker_groups *gs, struct sl_slice id)
{
    for (size_t i = 0; i < gs->ngroups; i++)
        if (slice_eq(id, gs->groups[i]->id))
            return gs->groups[i];
    return NULL;
}

static struct group *add_group(struct broker_groups *gs, struct sl_slice id)
{
    struct group *g = sl_xcalloc(1, sizeof *g);
    g->id = slice_dup(id);
    g->state = EMPTY;
    if (gs->ngroups == gs->capgroups) {
        gs->capgroups = gs->capgroups ? 2 * gs->capgroups : 8;
        gs->groups = sl_xrealloc(gs->groups, gs->capgroups * sizeof *gs->groups);
    }
    gs->groups[gs->ngroups++] = g;
    return g;
}

static struct member *find_member(struct group *g, struct sl_slice id)
{
    for (size_t i = 0; i < g->nmembers; i++)
        if (slice_eq(id, g->members[i]->id))
            return g->members[i];
    return NULL;
}

static bool is_leader(const struct group *g, const struct member *m)
{
    return g->leader && strcmp(g->leader, m->id) == 0;
}

static struct offset *find_offset(struct group *g, const char *topic, size_t topic_len,
                                  int32_t partition)
{
    for (size_t i = 0; i < g->noffsets; i++) {
        struct offset *o = &g->offsets[i];
        if (o->partition == partition && strlen(o->topic) == topic_len &&
            memcmp(o->topic, topic, topic_len) == 0)
            return o;
    }
    return NULL;
}

static void set_offset(struct group *g, struct sl_slice topic, int32_t partition, int64_t offset,
                       int32_t epoch, struct sl_slice meta, int64_t ts)
{
    struct offset *o = find_offset(g, topic.p ? (const char *)topic.p : "", topic.len, partition);
    if (!o) {
        if (g->noffsets == g->capoffsets) {
            g->capoffsets = g->capoffsets ? 2 * g->capoffsets : 8;
            g->offsets = sl_xrealloc(g->offsets, g->capoffsets * sizeof *g->offsets);
        }
        o = &g->offsets[g->noffsets++];
        o->topic = slice_dup(topic);
        o->partition = partition;
        o->meta = NULL;
    }
    free(o->meta);
    o->meta = slice_dup(meta);
    o->offset = offset;
    o->epoch = epoch;
    o->ts = ts;
}

/* ---- The group file --------------------------------------------------------- */

static void put_str(struct sl_buf *b, struct sl_slice s)
{
    size_t n = s.len > 0xffff ? 0xffff : s.len;
    sl_buf_be16(b, (uint16_t)n);
    sl_buf_append(b, s.p, n);
}

/* Frame the payload written since `start` - 8 (placeholders already there). */
static void rec_end(struct sl_buf *b, size_t start)
{
    size_t len = b->len - start - 8;
    sl_buf_patch_be32(b, start, (uint32_t)len);
    sl_buf_patch_be32(b, start + 4, sl_crc32c(0, b->data + start + 8, len));
}

static size_t rec_begin(struct sl_buf *b, uint8_t type)
{
    size_t start = b->len;
    sl_buf_be32(b, 0);
    sl_buf_be32(b, 0);
    sl_buf_u8(b, type);
    return start;
}

static void rec_offset(struct sl_buf *b, const char *group, struct sl_slice topic,
                       int32_t partition, int64_t offset, int32_t epoch, struct sl_slice meta,
                       int64_t ts)
{
    size_t start = rec_begin(b, REC_OFFSET);
    put_str(b, cs(group));
    put_str(b, topic);
    sl_buf_be32(b, (uint32_t)partition);
    sl_buf_be64(b, (uint64_t)offset);
    sl_buf_be32(b, (uint32_t)epoch);
    put_str(b, meta);
    sl_buf_be64(b, (uint64_t)ts);
    rec_end(b, start);
}

static void rec_group(struct sl_buf *b, const struct group *g)
{
    size_t start = rec_begin(b, REC_GROUP);
    put_str(b, cs(g->id));
    sl_buf_be32(b, (uint32_t)g->generation);
    put_str(b, cs(g->protocol_type));
    rec_end(b, start);
}

static void rec_pid(struct sl_buf *b, int64_t limit)
{
    size_t start = rec_begin(b, REC_PID);
    sl_buf_be64(b, (uint64_t)limit);
    rec_end(b, start);
}

/* Apply one record's payload; false if it does not parse. */
static bool apply(struct broker_groups *gs, struct sl_slice payload)
{
    struct sl_cur cur = sl_cur_make(payload);
    uint8_t type = sl_cur_u8(&cur);
    if (type == REC_OFFSET) {
        struct sl_slice group = sl_cur_bytes(&cur, (uint16_t)sl_cur_i16be(&cur));
        struct sl_slice topic = sl_cur_bytes(&cur, (uint16_t)sl_cur_i16be(&cur));
        int32_t partition = sl_cur_i32be(&cur);
        int64_t offset = sl_cur_i64be(&cur);
        int32_t epoch = sl_cur_i32be(&cur);
        struct sl_slice meta = sl_cur_bytes(&cur, (uint16_t)sl_cur_i16be(&cur));
        int64_t ts = sl_cur_i64be(&cur);
        if (cur.failed || group.len == 0)
            return false;
        struct group *g = find_group(gs, group);
        if (!g)
            g = add_group(gs, group);
        set_offset(g, topic, partition, offset, epoch, meta, ts);
        return true;
    }
    if (type == REC_GROUP) {
        struct sl_slice group = sl_cur_bytes(&cur, (uint16_t)sl_cur_i16be(&cur));
        int32_t gen = sl_cur_i32be(&cur);
        struct sl_slice ptype = sl_cur_bytes(&cur, (uint16_t)sl_cur_i16be(&cur));
        if (cur.failed || group.len == 0)
            return false;
        struct group *g = find_group(gs, group);
        if (!g)
            g = add_group(gs, group);
        g->generation = gen;
        free(g->protocol_type);
        g->protocol_type = ptype.len ? slice_dup(ptype) : NULL;
        return true;
    }
    if (type == REC_PID) {
        int64_t limit = sl_cur_i64be(&cur);
        if (cur.failed)
            return false;
        if (limit > gs->pid_limit)
            gs->pid_limit = limit;
        return true;
    }
    return false;
}

static int fsync_dir(const char *dir, struct sl_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot open directory '%s'", dir);
    int rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return sl_fail_errno(err, SL_EIO, "cannot fsync directory '%s'", dir);
    return SL_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Every live record: the whole state, for compaction. */
static void snapshot(struct broker_groups *gs, struct sl_buf *b)
{
    rec_pid(b, gs->pid_limit);
    for (size_t i = 0; i < gs->ngroups; i++) {
        struct group *g = gs->groups[i];
        rec_group(b, g);
        for (size_t j = 0; j < g->noffsets; j++) {
            struct offset *o = &g->offsets[j];
            rec_offset(b, g->id, cs(o->topic), o->partition, o->offset, o->epoch, cs(o->meta),
                       o->ts);
        }
    }
}

/* Rewrite the file with only live records: temp, fsync, rename, fsync dir. */
static int compact(struct broker_groups *gs, struct sl_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", gs->path);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    snapshot(gs, &b);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = SL_OK;
    if (fd < 0) {
        rc = sl_fail_errno(err, SL_EIO, "cannot create '%s'", tmp);
        goto out;
    }
    if (write_all(fd, b.data, b.len) != 0 || fdatasync(fd) != 0) {
        rc = sl_fail_errno(err, SL_EIO, "cannot write '%s'", tmp);
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, gs->path) != 0) {
        rc = sl_fail_errno(err, SL_EIO, "cannot rename '%s'", tmp);
        close(fd);
        unlink(tmp);
        goto out;
    }
    rc = fsync_dir(gs->dir, err);
    if (rc != SL_OK) {
        close(fd);
        goto out;
    }
    if (gs->fd >= 0)
        close(gs->fd);
    gs->fd = fd;
    gs->file_bytes = (int64_t)b.len;
out:
    sl_buf_release(&b);
    return rc;
}

/* Append records; fdatasync when `sync`. On failure the file is cut back. */
static int append(struct broker_groups *gs, const struct sl_buf *b, bool sync, struct sl_error *err)
{
    if (gs->fd < 0)
        return sl_fail(err, SL_EIO, "group file '%s' is not open", gs->path);
    if (write_all(gs->fd, b->data, b->len) != 0 || (sync && fdatasync(gs->fd) != 0)) {
        int e = errno;
        if (ftruncate(gs->fd, gs->file_bytes) != 0 || lseek(gs->fd, gs->file_bytes, SEEK_SET) < 0) {
            close(gs->fd);
            gs->fd = -1;
        }
        errno = e;
        return sl_fail_errno(err, SL_EIO, "cannot write group file '%s'", gs->path);
    }
    gs->file_bytes += (int64_t)b->len;
    return SL_OK;
}

static int replay(struct broker_groups *gs, struct sl_error *err)
{
    int fd = open(gs->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return SL_OK;
        return sl_fail_errno(err, SL_EIO, "cannot open group file '%s'", gs->path);
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int rc = SL_OK;
    for (;;) {
        if (sl_buf_reserve(&b, 1 << 16) != SL_OK)
            break;
        ssize_t n = read(fd, b.data + b.len, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sl_fail_errno(err, SL_EIO, "cannot read group file '%s'", gs->path);
            break;
        }
        if (n == 0)
            break;
        sl_buf_setlen(&b, b.len + (size_t)n);
    }
    close(fd);
    size_t pos = 0, nrec = 0;
    while (rc == SL_OK && b.len - pos >= 8) {
        struct sl_cur cur = sl_cur_make(sl_slice_make(b.data + pos, 8));
        uint32_t len = sl_cur_u32be(&cur);
        uint32_t crc = sl_cur_u32be(&cur);
        if (len == 0 || len > REC_MAX || len > b.len - pos - 8)
            break;
        struct sl_slice payload = sl_slice_make(b.data + pos + 8, len);
        if (sl_crc32c(0, payload.p, len) != crc || !apply(gs, payload))
            break;
        pos += 8 + len;
        nrec++;
    }
    if (rc == SL_OK && pos < b.len)
        sl_warn("group file '%s': cutting %zu bytes of torn or corrupt records at byte %zu",
                gs->path, b.len - pos, pos);
    sl_debug("group file '%s': %zu records, %zu groups", gs->path, nrec, gs->ngroups);
    sl_buf_release(&b);
    return rc;
}

/* ---- Lifecycle ---------------------------------------------------------------- */

struct broker_groups *broker_groups_open(const char *data_dir, broker_group_reply_fn *reply,
                                         void *arg, struct sl_error *err)
{
    struct broker_groups *gs = sl_xcalloc(1, sizeof *gs);
    gs->fd = -1;
    gs->reply = reply;
    gs->reply_arg = arg;
    gs->dir = sl_xstrdup(data_dir);
    size_t n = strlen(data_dir) + sizeof BROKER_GROUP_FILE + 2;
    gs->path = sl_xmalloc(n);
    snprintf(gs->path, n, "%s/%s", data_dir, BROKER_GROUP_FILE);
    gs->pid_limit = 0;
    if (replay(gs, err) != SL_OK || compact(gs, err) != SL_OK)
        goto fail;
    gs->pid_next = gs->pid_limit; /* ids below the mark may have been used */
    if (lseek(gs->fd, 0, SEEK_END) < 0) {
        sl_fail_errno(err, SL_EIO, "cannot seek group file '%s'", gs->path);
        goto fail;
    }
    /* Members are not persisted: every group starts without them (design §7.3). */
    return gs;
fail:
    broker_groups_free(gs);
    return NULL;
}

void broker_groups_free(struct broker_groups *gs)
{
    if (!gs)
        return;
    for (size_t i = 0; i < gs->ngroups; i++)
        free_group(gs->groups[i]);
    free(gs->groups);
    if (gs->fd >= 0)
        close(gs->fd);
    free(gs->dir);
    free(gs->path);
    free(gs);
}

/* Best effort: a lost generation record only lets an old generation's commit in. */
static void persist_group(struct broker_groups *gs, const struct group *g)
{
    struct sl_buf b;
    struct sl_error err = {0};
    sl_buf_init(&b, 0);
    rec_group(&b, g);
    if (append(gs, &b, false, &err) != SL_OK)
        sl_warn("%s", err.msg);
    sl_buf_release(&b);
}

/* ---- Replies ------------------------------------------------------------------ */

static void deliver(struct broker_groups *gs, void *waiter, int api_key, const void *resp)
{
    if (waiter == gs->cur_waiter)
        gs->cur_answered = true;
    gs->reply(gs->reply_arg, waiter, api_key, resp);
}

static void join_error(struct broker_groups *gs, void *waiter, int16_t ec, const char *member_id)
{
    struct kafka_JoinGroupResponse r = {
        .error_code = ec,
        .generation_id = -1,
        .protocol_name = cs(""),
        .leader = cs(""),
        .member_id = cs(member_id),
    };
    deliver(gs, waiter, KAFKA_API_JOIN_GROUP, &r);
}

static void sync_reply(struct broker_groups *gs, void *waiter, int16_t ec, const uint8_t *p,
                       size_t len)
{
    struct kafka_SyncGroupResponse r = {
        .error_code = ec,
        .assignment = sl_slice_make(p ? p : (const uint8_t *)"", p ? len : 0),
    };
    deliver(gs, waiter, KAFKA_API_SYNC_GROUP, &r);
}

static const struct proto *member_proto(const struct member *m, const char *name)
{
    for (int i = 0; i < m->nprotos; i++)
        if (name && strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

/* The first of the first member's protocols that every member supports. */
static char *choose_protocol(const struct group *g)
{
    if (g->nmembers == 0)
        return NULL;
    const struct member *first = g->members[0];
    for (int i = 0; i < first->nprotos; i++) {
        bool all = true;
        for (size_t k = 1; k < g->nmembers && all; k++)
            all = member_proto(g->members[k], first->protos[i].name) != NULL;
        if (all)
            return sl_xstrdup(first->protos[i].name);
    }
    return NULL;
}

static void join_reply(struct broker_groups *gs, struct group *g, struct member *m)
{
    struct kafka_JoinGroupResponse r = {
        .error_code = KAFKA_NONE,
        .generation_id = g->generation,
        .protocol_name = cs(g->protocol),
        .leader = cs(g->leader),
        .member_id = cs(m->id),
    };
    struct kafka_JoinGroupResponseMember *mv = NULL;
    if (is_leader(g, m)) {
        mv = sl_xcalloc(g->nmembers ? g->nmembers : 1, sizeof *mv);
        for (size_t i = 0; i < g->nmembers; i++) {
            const struct proto *p = member_proto(g->members[i], g->protocol);
            mv[i].member_id = cs(g->members[i]->id);
            mv[i].group_instance_id = sl_slice_make(NULL, 0);
            mv[i].metadata = p && p->meta ? sl_slice_make(p->meta, p->meta_len) : cs("");
        }
        r.members = mv;
        r.nmembers = (int32_t)g->nmembers;
    }
    void *w = m->join_waiter;
    m->join_waiter = NULL;
    deliver(gs, w, KAFKA_API_JOIN_GROUP, &r);
    free(mv);
}

/* ---- State machine ---------------------------------------------------------- */

static void prepare_rebalance(struct broker_groups *gs, struct group *g, int64_t now)
{
    if (g->state == PREPARING)
        return;
    int32_t longest = 0;
    for (size_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->rebalance_ms > longest)
            longest = g->members[i]->rebalance_ms;
    g->state = PREPARING;
    g->deadline = now + longest;
    sl_debug("group '%s' preparing rebalance (generation %d, %zu members)", g->id, g->generation,
             g->nmembers);
    for (size_t i = 0; i < g->nmembers; i++) {
        struct member *m = g->members[i];
        if (m->sync_waiter) {
            void *w = m->sync_waiter;
            m->sync_waiter = NULL;
            sync_reply(gs, w, KAFKA_REBALANCE_IN_PROGRESS, NULL, 0);
        }
    }
}

static void remove_member_at(struct broker_groups *gs, struct group *g, size_t i);

/* Complete the round if every member rejoined (or `force`: the deadline). */
static void complete_round(struct broker_groups *gs, struct group *g, int64_t now, bool force)
{
    if (g->state != PREPARING)
        return;
    bool all = true;
    for (size_t i = 0; i < g->nmembers; i++)
        if (!g->members[i]->join_waiter)
            all = false;
    if (!all && !force)
        return;
    for (size_t i = g->nmembers; i-- > 0;)
        if (!g->members[i]->join_waiter) {
            sl_info("group '%s': member '%s' did not rejoin in time, removing it", g->id,
                    g->members[i]->id);
            remove_member_at(gs, g, i);
        }
    g->generation++;
    free(g->protocol);
    g->protocol = NULL;
    if (g->nmembers == 0) {
        g->state = EMPTY;
        free(g->leader);
        g->leader = NULL;
        persist_group(gs, g);
        return;
    }
    g->protocol = choose_protocol(g);
    bool keep = false;
    for (size_t i = 0; g->leader && i < g->nmembers; i++)
        keep = keep || strcmp(g->leader, g->members[i]->id) == 0;
    if (!keep) {
        free(g->leader);
        g->leader = sl_xstrdup(g->members[0]->id);
    }
    g->state = COMPLETING;
    sl_info("group '%s' generation %d: %zu member%s, protocol '%s', leader '%s'", g->id,
            g->generation, g->nmembers, g->nmembers == 1 ? "" : "s", g->protocol ? g->protocol : "",
            g->leader);
    persist_group(gs, g);
    for (size_t i = 0; i < g->nmembers; i++) {
        struct member *m = g->members[i];
        free(m->assign);
        m->assign = NULL;
        m->assign_len = 0;
        m->last_heard = now;
    }
    for (size_t i = 0; i < g->nmembers; i++)
        join_reply(gs, g, g->members[i]);
}

static void remove_member_at(struct broker_groups *gs, struct group *g, size_t i)
{
    struct member *m = g->members[i];
    /* Its own parked requests cannot be waiting (same connection), but a
     * second connection might be: tell it the member is gone. */
    if (m->join_waiter)
        join_error(gs, m->join_waiter, KAFKA_UNKNOWN_MEMBER_ID, m->id);
    if (m->sync_waiter)
        sync_reply(gs, m->sync_waiter, KAFKA_UNKNOWN_MEMBER_ID, NULL, 0);
    if (is_leader(g, m)) {
        free(g->leader);
        g->leader = NULL;
    }
    free_member(m);
    memmove(&g->members[i], &g->members[i + 1], (g->nmembers - i - 1) * sizeof *g->members);
    g->nmembers--;
}

/* A member left or expired: rebalance the rest, or empty the group. */
static void member_gone(struct broker_groups *gs, struct group *g, size_t i, int64_t now)
{
    remove_member_at(gs, g, i);
    if (g->state == PREPARING) {
        complete_round(gs, g, now, false);
        return;
    }
    if (g->nmembers == 0) {
        g->state = EMPTY;
        g->generation++;
        free(g->protocol);
        g->protocol = NULL;
        persist_group(gs, g);
        return;
    }
    prepare_rebalance(gs, g, now);
    complete_round(gs, g, now, false);
}

static bool same_protocols(const struct member *m, const struct kafka_JoinGroupRequest *req)
{
    if (m->nprotos != req->nprotocols)
        return false;
    for (int i = 0; i < m->nprotos; i++) {
        const struct kafka_JoinGroupRequestProtocol *p = &req->protocols[i];
        if (!slice_eq(p->name, m->protos[i].name) || p->metadata.len != m->protos[i].meta_len ||
            (p->metadata.len && memcmp(p->metadata.p, m->protos[i].meta, p->metadata.len)))
            return false;
    }
    return true;
}

static void set_protocols(struct member *m, const struct kafka_JoinGroupRequest *req)
{
    free_protos(m);
    m->nprotos = req->nprotocols;
    m->protos = sl_xcalloc((size_t)(m->nprotos ? m->nprotos : 1), sizeof *m->protos);
    for (int i = 0; i < m->nprotos; i++) {
        const struct kafka_JoinGroupRequestProtocol *p = &req->protocols[i];
        m->protos[i].name = slice_dup(p->name);
        m->protos[i].meta_len = p->metadata.len;
        if (p->metadata.len) {
            m->protos[i].meta = sl_xmalloc(p->metadata.len);
            memcpy(m->protos[i].meta, p->metadata.p, p->metadata.len);
        }
    }
}

/* Whether every current member (other than `self`) supports one of req's protocols. */
static bool protocols_compatible(const struct group *g, const struct member *self,
                                 const struct kafka_JoinGroupRequest *req)
{
    for (int32_t i = 0; i < req->nprotocols; i++) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)req->protocols[i].name.len,
                 req->protocols[i].name.p ? (const char *)req->protocols[i].name.p : "");
        bool all = true;
        for (size_t k = 0; k < g->nmembers && all; k++)
            if (g->members[k] != self)
                all = member_proto(g->members[k], name) != NULL;
        if (all)
            return true;
    }
    return false;
}

static char *new_member_id(struct broker_groups *gs, struct sl_slice client_id)
{
    char buf[512];
    uint64_t x = (uint64_t)sl_clock_wall_us() * 0x9e3779b97f4a7c15ull ^ ++gs->idseq;
    snprintf(buf, sizeof buf, "%.*s-%016llx%04llx",
             (int)(client_id.len > 200 ? 200 : client_id.len),
             client_id.p ? (const char *)client_id.p : "", (unsigned long long)x,
             (unsigned long long)(gs->idseq & 0xffff));
    return sl_xstrdup(buf);
}

static struct member *add_member(struct group *g, char *id)
{
    struct member *m = sl_xcalloc(1, sizeof *m);
    m->id = id;
    if (g->nmembers == g->capmembers) {
        g->capmembers = g->capmembers ? 2 * g->capmembers : 4;
        g->members = sl_xrealloc(g->members, g->capmembers * sizeof *g->members);
    }
    g->members[g->nmembers++] = m;
    return m;
}

bool broker_groups_join(struct broker_groups *gs, const struct kafka_JoinGroupRequest *req,
                        int16_t version, struct sl_slice client_id, const char *client_host,
                        void *waiter, int64_t now)
{
    gs->cur_waiter = waiter;
    gs->cur_answered = false;
    char *mid_copy = slice_dup(req->member_id);
    const char *mid = mid_copy;
    struct group *g = NULL;
    struct member *m = NULL;
    if (!req->group_id.p || req->group_id.len == 0) {
        join_error(gs, waiter, KAFKA_INVALID_GROUP_ID, mid);
        goto out;
    }
    if (req->session_timeout_ms < BROKER_GROUP_MIN_SESSION_MS ||
        req->session_timeout_ms > BROKER_GROUP_MAX_SESSION_MS) {
        join_error(gs, waiter, KAFKA_INVALID_SESSION_TIMEOUT, mid);
        goto out;
    }
    g = find_group(gs, req->group_id);
    if (!g && req->member_id.len) {
        join_error(gs, waiter, KAFKA_UNKNOWN_MEMBER_ID, mid);
        goto out;
    }
    if (!g)
        g = add_group(gs, req->group_id);
    if (req->member_id.len)
        m = find_member(g, req->member_id);
    if (req->nprotocols <= 0 || !req->protocol_type.p || req->protocol_type.len == 0 ||
        (g->nmembers > (m ? 1u : 0u) && g->protocol_type &&
         !slice_eq(req->protocol_type, g->protocol_type)) ||
        !protocols_compatible(g, m, req)) {
        join_error(gs, waiter, KAFKA_INCONSISTENT_GROUP_PROTOCOL, mid);
        goto out;
    }
    if (!m && req->member_id.len == 0) {
        char *id = new_member_id(gs, client_id);
        if (version >= 4) {
            /* KIP-394: hand out the id, let the client rejoin with it. */
            if (g->npending == g->cappending) {
                g->cappending = g->cappending ? 2 * g->cappending : 4;
                g->pending = sl_xrealloc(g->pending, g->cappending * sizeof *g->pending);
            }
            g->pending[g->npending++] = (struct pending){id, now + req->session_timeout_ms};
            join_error(gs, waiter, KAFKA_MEMBER_ID_REQUIRED, id);
            goto out;
        }
        m = add_member(g, id);
    } else if (!m) {
        size_t k = 0;
        while (k < g->npending && !slice_eq(req->member_id, g->pending[k].id))
            k++;
        if (k == g->npending) {
            join_error(gs, waiter, KAFKA_UNKNOWN_MEMBER_ID, mid);
            goto out;
        }
        m = add_member(g, g->pending[k].id);
        g->pending[k] = g->pending[--g->npending];
    }
    bool changed = !same_protocols(m, req);
    if (changed)
        set_protocols(m, req);
    free(m->client_id);
    m->client_id = slice_dup(client_id);
    free(m->client_host);
    m->client_host = sl_xstrdup(client_host ? client_host : "");
    m->session_ms = req->session_timeout_ms;
    m->rebalance_ms =
        req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    m->last_heard = now;
    if (!g->protocol_type || g->nmembers == 1) {
        free(g->protocol_type);
        g->protocol_type = slice_dup(req->protocol_type);
    }
    if (m->join_waiter && m->join_waiter != waiter)
        join_error(gs, m->join_waiter, KAFKA_REBALANCE_IN_PROGRESS, m->id);
    m->join_waiter = waiter;
    m->join_version = version;
    if (g->state == STABLE && !changed && !is_leader(g, m)) {
        /* A follower that rejoins unchanged gets the current generation. */
        join_reply(gs, g, m);
        goto out;
    }
    prepare_rebalance(gs, g, now);
    complete_round(gs, g, now, false);
out:
    free(mid_copy);
    gs->cur_waiter = NULL;
    return gs->cur_answered;
}

bool broker_groups_sync(struct broker_groups *gs, const struct kafka_SyncGroupRequest *req,
                        void *waiter, int64_t now)
{
    gs->cur_waiter = waiter;
    gs->cur_answered = false;
    struct group *g = find_group(gs, req->group_id);
    struct member *m = g ? find_member(g, req->member_id) : NULL;
    if (!m) {
        sync_reply(gs, waiter, KAFKA_UNKNOWN_MEMBER_ID, NULL, 0);
    } else if (req->generation_id != g->generation) {
        sync_reply(gs, waiter, KAFKA_ILLEGAL_GENERATION, NULL, 0);
    } else if (g->state == PREPARING) {
        sync_reply(gs, waiter, KAFKA_REBALANCE_IN_PROGRESS, NULL, 0);
    } else if (g->state == STABLE) {
        m->last_heard = now;
        sync_reply(gs, waiter, KAFKA_NONE, m->assign, m->assign_len);
    } else if (g->state == COMPLETING) {
        m->last_heard = now;
        if (m->sync_waiter && m->sync_waiter != waiter)
            sync_reply(gs, m->sync_waiter, KAFKA_REBALANCE_IN_PROGRESS, NULL, 0);
        m->sync_waiter = waiter;
        if (is_leader(g, m)) {
            for (int32_t i = 0; i < req->nassignments; i++) {
                struct member *t = find_member(g, req->assignments[i].member_id);
                if (!t)
                    continue;
                free(t->assign);
                t->assign = NULL;
                t->assign_len = req->assignments[i].assignment.len;
                if (t->assign_len) {
                    t->assign = sl_xmalloc(t->assign_len);
                    memcpy(t->assign, req->assignments[i].assignment.p, t->assign_len);
                }
            }
            g->state = STABLE;
            sl_debug("group '%s' generation %d stable", g->id, g->generation);
            for (size_t i = 0; i < g->nmembers; i++) {
                struct member *t = g->members[i];
                if (t->sync_waiter) {
                    void *w = t->sync_waiter;
                    t->sync_waiter = NULL;
                    sync_reply(gs, w, KAFKA_NONE, t->assign, t->assign_len);
                }
            }
        }
    } else {
        sync_reply(gs, waiter, KAFKA_UNKNOWN_MEMBER_ID, NULL, 0);
    }
    gs->cur_waiter = NULL;
    return gs->cur_answered;
}

int16_t broker_groups_heartbeat(struct broker_groups *gs, const struct kafka_HeartbeatRequest *req,
                                int64_t now)
{
    struct group *g = find_group(gs, req->group_id);
    struct member *m = g ? find_member(g, req->member_id) : NULL;
    if (!m)
        return KAFKA_UNKNOWN_MEMBER_ID;
    m->last_heard = now;
    if (req->generation_id != g->generation)
        return KAFKA_ILLEGAL_GENERATION;
    if (g->state == PREPARING)
        return KAFKA_REBALANCE_IN_PROGRESS;
    if (g->state == EMPTY)
        return KAFKA_UNKNOWN_MEMBER_ID;
    return KAFKA_NONE;
}

int16_t broker_groups_leave(struct broker_groups *gs, struct sl_slice group_id,
                            struct sl_slice member_id, int64_t now)
{
    struct group *g = find_group(gs, group_id);
    if (!g)
        return KAFKA_UNKNOWN_MEMBER_ID;
    for (size_t i = 0; i < g->nmembers; i++) {
        if (slice_eq(member_id, g->members[i]->id)) {
            sl_info("group '%s': member '%s' left", g->id, g->members[i]->id);
            member_gone(gs, g, i, now);
            return KAFKA_NONE;
        }
    }
    for (size_t k = 0; k < g->npending; k++) {
        if (slice_eq(member_id, g->pending[k].id)) {
            free(g->pending[k].id);
            g->pending[k] = g->pending[--g->npending];
            return KAFKA_NONE;
        }
    }
    return KAFKA_UNKNOWN_MEMBER_ID;
}

void broker_groups_cancel(struct broker_groups *gs, void *waiter)
{
    for (size_t i = 0; i < gs->ngroups; i++) {
        struct group *g = gs->groups[i];
        for (size_t j = 0; j < g->nmembers; j++) {
            if (g->members[j]->join_waiter == waiter)
                g->members[j]->join_waiter = NULL;
            if (g->members[j]->sync_waiter == waiter)
                g->members[j]->sync_waiter = NULL;
        }
    }
}

void broker_groups_tick(struct broker_groups *gs, int64_t now)
{
    for (size_t i = 0; i < gs->ngroups;) {
        struct group *g = gs->groups[i];
        for (size_t k = g->npending; k-- > 0;)
            if (g->pending[k].expires <= now) {
                free(g->pending[k].id);
                g->pending[k] = g->pending[--g->npending];
            }
        for (size_t j = g->nmembers; j-- > 0;) {
            struct member *m = g->members[j];
            if (j >= g->nmembers || m->join_waiter || m->sync_waiter ||
                now - m->last_heard <= m->session_ms)
                continue;
            sl_info("group '%s': member '%s' session timed out after %d ms", g->id, m->id,
                    m->session_ms);
            member_gone(gs, g, j, now);
        }
        if (g->state == PREPARING && now >= g->deadline)
            complete_round(gs, g, now, true);
        if (g->state == EMPTY && g->nmembers == 0 && g->npending == 0 && g->noffsets == 0) {
            free_group(g);
            gs->groups[i] = gs->groups[--gs->ngroups];
            continue;
        }
        i++;
    }
}

/* ---- Offsets ------------------------------------------------------------------ */

static int16_t commit_check(struct broker_groups *gs, const struct kafka_OffsetCommitRequest *req,
                            struct group **gp)
{
    if (!req->group_id.p || req->group_id.len == 0)
        return KAFKA_INVALID_GROUP_ID;
    struct group *g = find_group(gs, req->group_id);
    *gp = g;
    if (req->generation_id < 0 && req->member_id.len == 0) {
        /* A standalone consumer (assign() + commit). */
        if (g && g->nmembers > 0)
            return KAFKA_UNKNOWN_MEMBER_ID;
        if (!g)
            *gp = add_group(gs, req->group_id);
        return KAFKA_NONE;
    }
    struct member *m = g ? find_member(g, req->member_id) : NULL;
    if (!m)
        return KAFKA_UNKNOWN_MEMBER_ID;
    if (req->generation_id != g->generation)
        return KAFKA_ILLEGAL_GENERATION;
    if (g->state == COMPLETING)
        return KAFKA_REBALANCE_IN_PROGRESS;
    return KAFKA_NONE;
}

int broker_groups_offset_commit(struct broker_groups *gs,
                                const struct kafka_OffsetCommitRequest *req, int64_t wall_ms,
                                struct sl_arena *arena, struct kafka_OffsetCommitResponse *resp,
                                struct sl_error *err)
{
    struct group *g = NULL;
    int16_t ec = commit_check(gs, req, &g);
    int32_t nt = req->ntopics < 0 ? 0 : req->ntopics;
    resp->throttle_time_ms = 0;
    resp->ntopics = nt;
    resp->topics = sl_arena_alloc(arena, (nt ? (size_t)nt : 1) * sizeof *resp->topics);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    for (int32_t i = 0; i < nt; i++) {
        const struct kafka_OffsetCommitRequestTopic *t = &req->topics[i];
        struct kafka_OffsetCommitResponseTopic *rt = &resp->topics[i];
        int32_t np = t->npartitions < 0 ? 0 : t->npartitions;
        rt->name = t->name.p ? t->name : cs("");
        rt->npartitions = np;
        rt->partitions = sl_arena_alloc(arena, (np ? (size_t)np : 1) * sizeof *rt->partitions);
        for (int32_t j = 0; j < np; j++) {
            const struct kafka_OffsetCommitRequestPartition *p = &t->partitions[j];
            int16_t pec = ec;
            if (pec == KAFKA_NONE && p->committed_metadata.len > METADATA_MAX)
                pec = KAFKA_OFFSET_METADATA_TOO_LARGE;
            if (pec == KAFKA_NONE && (!t->name.p || t->name.len == 0))
                pec = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            rt->partitions[j].partition_index = p->partition_index;
            rt->partitions[j].error_code = pec;
            if (pec == KAFKA_NONE)
                rec_offset(&b, g->id, t->name, p->partition_index, p->committed_offset,
                           p->committed_leader_epoch, p->committed_metadata,
                           p->commit_timestamp >= 0 ? p->commit_timestamp : wall_ms);
        }
    }
    int rc = SL_OK;
    if (b.len && (rc = append(gs, &b, true, err)) != SL_OK) {
        for (int32_t i = 0; i < nt; i++)
            for (int32_t j = 0; j < resp->topics[i].npartitions; j++)
                if (resp->topics[i].partitions[j].error_code == KAFKA_NONE)
                    resp->topics[i].partitions[j].error_code = KAFKA_UNKNOWN_SERVER_ERROR;
    }
    sl_buf_release(&b);
    if (rc != SL_OK)
        return rc;
    /* Durable: now it may be read back (invariant 4). */
    for (int32_t i = 0; i < nt; i++) {
        const struct kafka_OffsetCommitRequestTopic *t = &req->topics[i];
        for (int32_t j = 0; j < resp->topics[i].npartitions; j++) {
            const struct kafka_OffsetCommitRequestPartition *p = &t->partitions[j];
            if (resp->topics[i].partitions[j].error_code == KAFKA_NONE)
                set_offset(g, t->name, p->partition_index, p->committed_offset,
                           p->committed_leader_epoch, p->committed_metadata,
                           p->commit_timestamp >= 0 ? p->commit_timestamp : wall_ms);
        }
    }
    if (gs->file_bytes > COMPACT_BYTES) {
        size_t live = 0;
        for (size_t i = 0; i < gs->ngroups; i++)
            live += 64 + gs->groups[i]->noffsets * 96;
        if ((int64_t)live * 4 < gs->file_bytes) {
            struct sl_error cerr = {0};
            if (compact(gs, &cerr) != SL_OK)
                sl_warn("cannot compact group file: %s", cerr.msg);
        }
    }
    return SL_OK;
}

static void fill_fetched(struct kafka_OffsetFetchResponsePartition *rp, const struct offset *o,
                         int32_t partition)
{
    rp->partition_index = partition;
    rp->error_code = KAFKA_NONE;
    rp->committed_offset = o ? o->offset : -1;
    rp->committed_leader_epoch = o ? o->epoch : -1;
    rp->metadata = o ? cs(o->meta) : cs("");
}

void broker_groups_offset_fetch(struct broker_groups *gs,
                                const struct kafka_OffsetFetchRequest *req, struct sl_arena *arena,
                                struct kafka_OffsetFetchResponse *resp)
{
    struct group *g = find_group(gs, req->group_id);
    memset(resp, 0, sizeof *resp);
    /* Null topics (v2+) mean every committed partition; librdkafka's admin
     * ListConsumerGroupOffsets sends an empty array for that, so take an
     * empty array the same way (no consumer asks for nothing). */
    if (req->ntopics > 0) {
        int32_t nt = req->ntopics;
        resp->ntopics = nt;
        resp->topics = sl_arena_alloc(arena, (nt ? (size_t)nt : 1) * sizeof *resp->topics);
        for (int32_t i = 0; i < nt; i++) {
            const struct kafka_OffsetFetchRequestTopic *t = &req->topics[i];
            struct kafka_OffsetFetchResponseTopic *rt = &resp->topics[i];
            int32_t np = t->npartition_indexes < 0 ? 0 : t->npartition_indexes;
            rt->name = t->name.p ? t->name : cs("");
            rt->npartitions = np;
            rt->partitions = sl_arena_alloc(arena, (np ? (size_t)np : 1) * sizeof *rt->partitions);
            for (int32_t j = 0; j < np; j++) {
                const struct offset *o =
                    g ? find_offset(g, t->name.p ? (const char *)t->name.p : "", t->name.len,
                                    t->partition_indexes[j])
                      : NULL;
                fill_fetched(&rt->partitions[j], o, t->partition_indexes[j]);
            }
        }
        return;
    }
    /* Null topics: every committed partition, grouped by topic. */
    size_t n = g ? g->noffsets : 0;
    resp->topics = sl_arena_alloc(arena, (n ? n : 1) * sizeof *resp->topics);
    bool *done = sl_arena_alloc(arena, n ? n : 1);
    memset(done, 0, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        struct kafka_OffsetFetchResponseTopic *rt = &resp->topics[resp->ntopics++];
        rt->npartitions = 0;
        rt->name = cs(g->offsets[i].topic);
        rt->partitions = sl_arena_alloc(arena, (n - i) * sizeof *rt->partitions);
        for (size_t j = i; j < n; j++) {
            if (done[j] || strcmp(g->offsets[j].topic, g->offsets[i].topic) != 0)
                continue;
            done[j] = true;
            fill_fetched(&rt->partitions[rt->npartitions++], &g->offsets[j],
                         g->offsets[j].partition);
        }
    }
}

void broker_groups_list(struct broker_groups *gs, struct sl_arena *arena,
                        struct kafka_ListGroupsResponse *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->groups = sl_arena_alloc(arena, (gs->ngroups ? gs->ngroups : 1) * sizeof *resp->groups);
    for (size_t i = 0; i < gs->ngroups; i++) {
        resp->groups[i].group_id = cs(gs->groups[i]->id);
        resp->groups[i].protocol_type = cs(gs->groups[i]->protocol_type);
    }
    resp->ngroups = (int32_t)gs->ngroups;
}

void broker_groups_describe(struct broker_groups *gs, const struct kafka_DescribeGroupsRequest *req,
                            struct sl_arena *arena, struct kafka_DescribeGroupsResponse *resp)
{
    memset(resp, 0, sizeof *resp);
    int32_t n = req->ngroups < 0 ? 0 : req->ngroups;
    resp->ngroups = n;
    resp->groups = sl_arena_alloc(arena, (n ? (size_t)n : 1) * sizeof *resp->groups);
    for (int32_t i = 0; i < n; i++) {
        struct kafka_DescribedGroup *d = &resp->groups[i];
        memset(d, 0, sizeof *d);
        d->group_id = req->groups[i].p ? req->groups[i] : cs("");
        d->authorized_operations = INT32_MIN;
        d->protocol_type = cs("");
        d->protocol_data = cs("");
        struct group *g = find_group(gs, req->groups[i]);
        if (!g) {
            d->group_state = cs("Dead");
            continue;
        }
        d->group_state = cs(state_names[g->state]);
        d->protocol_type = cs(g->protocol_type);
        bool assigned = g->state == STABLE || g->state == COMPLETING;
        d->protocol_data = cs(assigned ? g->protocol : "");
        d->nmembers = (int32_t)g->nmembers;
        d->members = sl_arena_alloc(arena, (g->nmembers ? g->nmembers : 1) * sizeof *d->members);
        for (size_t j = 0; j < g->nmembers; j++) {
            const struct member *m = g->members[j];
            struct kafka_DescribedGroupMember *dm = &d->members[j];
            const struct proto *p = member_proto(m, g->protocol);
            if (!p && m->nprotos)
                p = &m->protos[0];
            dm->member_id = cs(m->id);
            dm->group_instance_id = sl_slice_make(NULL, 0);
            dm->client_id = cs(m->client_id);
            dm->client_host = cs(m->client_host);
            dm->member_metadata = p && p->meta ? sl_slice_make(p->meta, p->meta_len) : cs("");
            dm->member_assignment =
                assigned && m->assign ? sl_slice_make(m->assign, m->assign_len) : cs("");
        }
    }
}

int64_t broker_groups_new_producer_id(struct broker_groups *gs, int64_t floor, struct sl_error *err)
{
    if (floor >= gs->pid_next)
        gs->pid_next = floor + 1;
    if (gs->pid_next >= gs->pid_limit) {
        struct sl_buf b;
        sl_buf_init(&b, 0);
        int64_t limit = gs->pid_next + PID_BLOCK;
        rec_pid(&b, limit);
        int rc = append(gs, &b, true, err);
        sl_buf_release(&b);
        if (rc != SL_OK)
            return rc;
        gs->pid_limit = limit;
    }
    return gs->pid_next++;
}

const char *broker_groups_state(struct broker_groups *gs, const char *group_id)
{
    struct group *g = find_group(gs, cs(group_id));
    return g ? state_names[g->state] : NULL;
}

int32_t broker_groups_generation(struct broker_groups *gs, const char *group_id)
{
    struct group *g = find_group(gs, cs(group_id));
    return g ? g->generation : -1;
}
