/*
 * kafka_int.h: private to src/kafka. The two-way field visitor that every
 * message codec is written with, so that a message's layout is stated once
 * and its decoder and encoder cannot disagree (each kafka_M_decode and
 * kafka_M_encode is the same M_io() function run with a reader or a writer).
 */
#ifndef KAFKA_KAFKA_INT_H
#define KAFKA_KAFKA_INT_H

#include <assert.h>
#include <string.h>

#include "kafka/kafka.h"

struct kafka_io {
    struct sl_cur cur;        /* reading: over the body */
    struct sl_buf *out;       /* writing: the output; NULL while reading */
    struct sl_arena *arena;   /* reading: where arrays go; borrowed */
    struct kafka_splices *sp; /* writing: file splices (Fetch); may be NULL */
    size_t spliced;           /* writing: file bytes recorded in sp */
    int16_t version;          /* the message version */
    bool flexible;            /* compact forms and tag buffers */
};

static inline bool kio_reading(const struct kafka_io *io)
{
    return io->out == NULL;
}

void kio_i8(struct kafka_io *io, int8_t *v);
void kio_bool(struct kafka_io *io, bool *v);
void kio_i16(struct kafka_io *io, int16_t *v);
void kio_i32(struct kafka_io *io, int32_t *v);
void kio_i64(struct kafka_io *io, int64_t *v);
/* STRING / NULLABLE_STRING, compact when flexible. */
void kio_string(struct kafka_io *io, struct sl_slice *s);
/* BYTES / NULLABLE_BYTES, compact when flexible. */
void kio_bytes(struct kafka_io *io, struct sl_slice *s);
/* RECORDS of a Fetch partition (mem, then spliced file bytes on write). */
void kio_records(struct kafka_io *io, struct kafka_FetchRecords *r);
/*
 * An array: on read, allocate *n elements of elem_size (zeroed) in the arena;
 * on write, emit *n. Returns the number of elements to visit (0 for null).
 */
int32_t kio_array(struct kafka_io *io, void **items, int32_t *n, size_t elem_size, size_t min_elem);
/* The TAG_BUFFER of a struct when flexible; nothing otherwise. */
void kio_tags(struct kafka_io *io);

/* Run the visitor `fn` as a decoder or an encoder (see KAFKA_DEFINE_CODEC). */
int kio_decode(void (*fn)(struct kafka_io *, void *), const char *name, int max_version,
               int first_flexible, struct sl_slice body, int16_t version, struct sl_arena *arena,
               void *msg, size_t msg_size, struct sl_error *err);
void kio_encode(void (*fn)(struct kafka_io *, void *), int max_version, int first_flexible,
                struct sl_buf *out, int16_t version, const void *msg, struct kafka_splices *sp,
                size_t *spliced);

#define KIO_ARRAY(io, arr, n, min_elem)                                                            \
    kio_array((io), (void **)&(arr), &(n), sizeof *(arr), (min_elem))

/* Define kafka_M_decode / kafka_M_encode from `static void M_io(io, struct kafka_M *)`. */
#define KAFKA_DEFINE_CODEC(M, FIRST_FLEX)                                                          \
    static void M##_visit(struct kafka_io *io, void *msg)                                          \
    {                                                                                              \
        M##_io(io, msg);                                                                           \
    }                                                                                              \
    int kafka_##M##_decode(struct sl_slice body, int16_t version, struct sl_arena *arena,          \
                           struct kafka_##M *msg, struct sl_error *err)                            \
    {                                                                                              \
        return kio_decode(M##_visit, #M, kafka_##M##_max_version, (FIRST_FLEX), body, version,     \
                          arena, msg, sizeof *msg, err);                                           \
    }                                                                                              \
    void kafka_##M##_encode(struct sl_buf *out, int16_t version, const struct kafka_##M *msg)      \
    {                                                                                              \
        kio_encode(M##_visit, kafka_##M##_max_version, (FIRST_FLEX), out, version, msg, NULL,      \
                   NULL);                                                                          \
    }

#endif
