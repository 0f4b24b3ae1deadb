/*
 * group.h: the group coordinator of `sluice broker` (design §7): consumer
 * group membership and rebalances (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup), the durable committed offsets (OffsetCommit, OffsetFetch),
 * ListGroups and DescribeGroups, and the producer-id allocator of
 * InitProducerId. Private to src/broker; the state machine is described in
 * the design notes at the top of group.c and in docs/internals/broker.md.
 *
 * The coordinator knows nothing about connections: a request that cannot be
 * answered at once (a JoinGroup waiting for the rebalance to complete, a
 * follower's SyncGroup waiting for the leader's) is parked with an opaque
 * `waiter` pointer, and its answer is delivered later through the reply
 * callback given to broker_groups_open(). Time is passed in (`now`,
 * monotonic ms) and deadlines are acted on by broker_groups_tick(), so the
 * unit tests drive the machine without sockets or clocks.
 *
 * Durability: committed offsets, each group's generation and protocol type,
 * and the producer-id high-water mark are records in one append-only file,
 * DATA_DIR/__sluice_groups.log, each [u32 length][u32 crc32c][payload]. A
 * commit is written and fdatasync'ed before broker_groups_offset_commit()
 * returns, so an acknowledged OffsetCommit survives kill -9. On open the file
 * is replayed up to the first torn or corrupt record (which is cut off) and
 * rewritten compactly (temp file, fsync, rename, fsync of the directory).
 *
 * Threading: one thread (the broker's event loop). Ownership: the
 * coordinator owns every group, member and offset; slices in responses it
 * fills are borrowed from it (or from `arena`) until the next call.
 */
#ifndef BROKER_GROUP_H
#define BROKER_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "kafka/groups.h"

#define BROKER_GROUP_MIN_SESSION_MS 6000    /* Kafka group.min.session.timeout.ms */
#define BROKER_GROUP_MAX_SESSION_MS 1800000 /* Kafka group.max.session.timeout.ms */
#define BROKER_GROUP_FILE "__sluice_groups.log"

struct broker_groups;

/*
 * Delivers the answer to a parked request: `api_key` is KAFKA_API_JOIN_GROUP
 * (resp: const struct kafka_JoinGroupResponse *) or KAFKA_API_SYNC_GROUP
 * (const struct kafka_SyncGroupResponse *). The response borrows from the
 * coordinator for the duration of the call. Called from inside
 * broker_groups_join/_sync/_leave/_tick, also for the waiter of the request
 * being handled when that request completes the round itself.
 */
typedef void broker_group_reply_fn(void *arg, void *waiter, int api_key, const void *resp);

/*
 * Open the coordinator's store in `data_dir` (replaying and compacting the
 * file). Returns a coordinator (caller owns; broker_groups_free) or NULL
 * with err set (SL_EIO).
 */
struct broker_groups *broker_groups_open(const char *data_dir, broker_group_reply_fn *reply,
                                         void *arg, struct sl_error *err);
/* Close the file and free everything; parked waiters are dropped unanswered. NULL-safe. */
void broker_groups_free(struct broker_groups *gs);

/*
 * JoinGroup. `client_id` and `client_host` are copied for DescribeGroups.
 * Returns true when the answer for `waiter` was delivered (through the reply
 * callback) before returning, false when it is parked until the rebalance
 * completes or the waiter is cancelled.
 */
bool broker_groups_join(struct broker_groups *gs, const struct kafka_JoinGroupRequest *req,
                        int16_t version, struct sl_slice client_id, const char *client_host,
                        void *waiter, int64_t now);

/* SyncGroup; same return convention as broker_groups_join(). */
bool broker_groups_sync(struct broker_groups *gs, const struct kafka_SyncGroupRequest *req,
                        void *waiter, int64_t now);

/* Heartbeat: returns the ErrorCode to answer. */
int16_t broker_groups_heartbeat(struct broker_groups *gs, const struct kafka_HeartbeatRequest *req,
                                int64_t now);

/*
 * LeaveGroup of member `member_id` from `group_id`: returns the ErrorCode
 * for that member (UNKNOWN_MEMBER_ID when it is not one).
 */
int16_t broker_groups_leave(struct broker_groups *gs, struct sl_slice group_id,
                            struct sl_slice member_id, int64_t now);

/* A waiter is gone (its connection closed): forget it. No reply is made. */
void broker_groups_cancel(struct broker_groups *gs, void *waiter);

/*
 * Act on deadlines up to `now`: expire members whose session timed out and
 * pending member ids, complete rebalances whose timeout passed. Call it
 * every few hundred ms.
 */
void broker_groups_tick(struct broker_groups *gs, int64_t now);

/*
 * OffsetCommit: validate (design §7.2 table), store every partition, and
 * fdatasync before returning. Fills `resp` (arrays in `arena`). Returns
 * SL_OK, or SL_EIO when the file could not be written or synced (then every
 * partition answers UNKNOWN_SERVER_ERROR and nothing was acknowledged).
 */
int broker_groups_offset_commit(struct broker_groups *gs,
                                const struct kafka_OffsetCommitRequest *req, int64_t wall_ms,
                                struct sl_arena *arena, struct kafka_OffsetCommitResponse *resp,
                                struct sl_error *err);

/* OffsetFetch (null topics: every committed partition of the group). */
void broker_groups_offset_fetch(struct broker_groups *gs,
                                const struct kafka_OffsetFetchRequest *req, struct sl_arena *arena,
                                struct kafka_OffsetFetchResponse *resp);

void broker_groups_list(struct broker_groups *gs, struct sl_arena *arena,
                        struct kafka_ListGroupsResponse *resp);

void broker_groups_describe(struct broker_groups *gs, const struct kafka_DescribeGroupsRequest *req,
                            struct sl_arena *arena, struct kafka_DescribeGroupsResponse *resp);

/*
 * A new producer id, never handed out before by this data directory (the
 * high-water mark is persisted in blocks before use). `floor` raises the
 * next id above ids seen in the log. Returns >= 0, or SL_EIO.
 */
int64_t broker_groups_new_producer_id(struct broker_groups *gs, int64_t floor,
                                      struct sl_error *err);

/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" for a group, or NULL. */
const char *broker_groups_state(struct broker_groups *gs, const char *group_id);
/* Current generation of a group, or -1 if there is none. */
int32_t broker_groups_generation(struct broker_groups *gs, const char *group_id);

#endif
