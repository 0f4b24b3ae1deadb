/*
 * batch.h: the Kafka RecordBatch v2 codec (magic 2), the unit that flows from
 * Produce through the partition log (src/log) to Fetch unchanged.
 *
 * What it does:
 *   - parse and validate the 61-byte batch header, check the CRC-32C that covers
 *     bytes 21..end (attributes to the last record);
 *   - split a Produce `records` field that holds several concatenated batches;
 *   - patch the base offset and partition leader epoch in place (the CRC does
 *     not cover them, so the payload stays byte-identical for consumers);
 *   - iterate the records of a batch, decompressing gzip, snappy (raw and the
 *     xerial/snappy-java framing), lz4 (frame format) and zstd, always under a
 *     hard cap on the decompressed size;
 *   - build a batch from records, uncompressed or compressed (tests, internal
 *     producers, seed corpora).
 *
 * Every length read from input is checked against the bytes that remain before
 * it is used; no input can make a function read outside its slice or allocate
 * more than the caller's cap. Errors: SL_EAGAIN (input ends inside a batch),
 * SL_EPROTO (malformed), SL_ECORRUPT (CRC mismatch), SL_EUNSUPPORTED (magic 0/1,
 * unknown codec), SL_ELIMIT (decompressed size over the cap). SL_EAGAIN is a
 * state, not a failure: it records no message in `err`. For Produce the
 * broker maps SL_ECORRUPT to CORRUPT_MESSAGE (2) and the others to
 * INVALID_RECORD (87).
 *
 * Layout (big-endian, offsets in bytes; see design/kafka-protocol.md §5):
 *   0 base_offset i64 | 8 batch_length i32 (= size - 12) | 12 leader_epoch i32
 *   16 magic i8 | 17 crc u32 | 21 attributes i16 | 23 last_offset_delta i32
 *   27 base_timestamp i64 | 35 max_timestamp i64 | 43 producer_id i64
 *   51 producer_epoch i16 | 53 base_sequence i32 | 57 records_count i32 | 61 records
 *
 * Null keys and values: a `struct sl_slice` with p == NULL means null (length -1
 * on the wire); a slice with p != NULL and len == 0 is an empty value.
 *
 * Uses only src/base. No global state; thread-safe for distinct objects.
 */
#ifndef KAFKA_BATCH_H
#define KAFKA_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/cur.h"
#include "base/err.h"
#include "base/slice.h"

#define KAFKA_BATCH_HEADER_SIZE 61  /* bytes before the first record */
#define KAFKA_BATCH_LOG_OVERHEAD 12 /* base_offset + batch_length */
#define KAFKA_BATCH_MAGIC 2
/* Byte offsets of the fields the broker and the log touch. */
#define KAFKA_BATCH_OFF_LENGTH 8
#define KAFKA_BATCH_OFF_EPOCH 12
#define KAFKA_BATCH_OFF_MAGIC 16
#define KAFKA_BATCH_OFF_CRC 17
#define KAFKA_BATCH_OFF_ATTRIBUTES 21
#define KAFKA_BATCH_OFF_MAX_TIMESTAMP 35
/* Attribute bits (only the low byte is used). */
#define KAFKA_BATCH_ATTR_CODEC_MASK 0x07
#define KAFKA_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define KAFKA_BATCH_ATTR_TRANSACTIONAL 0x10
#define KAFKA_BATCH_ATTR_CONTROL 0x20
/* Default cap on the decompressed records of one batch (64 MiB). */
#define KAFKA_BATCH_PLAIN_MAX_DEFAULT ((size_t)64 << 20)

enum kafka_codec {
    KAFKA_CODEC_NONE = 0,
    KAFKA_CODEC_GZIP = 1,
    KAFKA_CODEC_SNAPPY = 2,
    KAFKA_CODEC_LZ4 = 3,
    KAFKA_CODEC_ZSTD = 4,
};

/* A parsed batch header. Slices borrow from the parsed input. */
struct kafka_batch {
    int64_t base_offset;
    int32_t batch_length; /* bytes after this field; >= 49 */
    int32_t partition_leader_epoch;
    int8_t magic; /* always 2 after a successful parse */
    uint32_t crc; /* as stored */
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp; /* ms since epoch */
    int64_t max_timestamp;  /* ms since epoch */
    int64_t producer_id;    /* -1: none */
    int16_t producer_epoch; /* -1: none */
    int32_t base_sequence;  /* -1: none */
    int32_t records_count;
    struct sl_slice bytes;   /* borrowed: the whole batch, 12 + batch_length */
    struct sl_slice records; /* borrowed: bytes from offset 61 (maybe compressed) */
};

static inline int kafka_batch_codec(const struct kafka_batch *batch)
{
    return batch->attributes & KAFKA_BATCH_ATTR_CODEC_MASK;
}

static inline int64_t kafka_batch_last_offset(const struct kafka_batch *batch)
{
    return batch->base_offset + batch->last_offset_delta;
}

/* "none", "gzip", "snappy", "lz4", "zstd", or "invalid". */
const char *kafka_codec_name(int codec);
/* Parse a codec name as above; returns the codec or SL_EUSAGE. */
int kafka_codec_parse(const char *name);

/* ---- Parsing -------------------------------------------------------------- */

/*
 * Size of the batch at the start of `in` (12 + batch_length) from its first 17
 * bytes, without checking the CRC. Returns the size (>= 61), SL_EAGAIN if `in`
 * is shorter than 17 bytes, SL_EUNSUPPORTED for magic 0/1 (a legacy message
 * set), or SL_EPROTO for a bad length or magic. Does not require the whole
 * batch to be present: a stream reader uses it to know how much to wait for.
 */
int64_t kafka_batch_size(struct sl_slice in, struct sl_error *err);

/*
 * Parse only the 61-byte header at the start of `in` (which may hold less than
 * the whole batch), checking magic, length, codec and counts as
 * kafka_batch_parse_header does. Returns the batch size, SL_EAGAIN if `in` is
 * shorter than 61 bytes, or an error. `batch->bytes` and `batch->records` are
 * left empty. The log walks its segment files with it.
 */
int64_t kafka_batch_peek(struct sl_slice in, struct kafka_batch *batch, struct sl_error *err);

/*
 * Parse the header of the batch at the start of `in` and check its structure:
 * magic 2, batch_length >= 49 and within `in`, codec 0-4, records_count >= 0.
 * Does NOT verify the CRC (see kafka_batch_parse). Returns the batch size in
 * bytes (> 0; `in` may hold more after it), SL_EAGAIN if `in` ends inside the
 * batch, or an error as for kafka_batch_size. `batch` slices borrow from `in`.
 */
int64_t kafka_batch_parse_header(struct sl_slice in, struct kafka_batch *batch,
                                 struct sl_error *err);

/* As kafka_batch_parse_header, and also verify the CRC (SL_ECORRUPT). */
int64_t kafka_batch_parse(struct sl_slice in, struct kafka_batch *batch, struct sl_error *err);

/* Verify the CRC-32C of a parsed batch: SL_OK or SL_ECORRUPT. */
int kafka_batch_check_crc(const struct kafka_batch *batch, struct sl_error *err);

/*
 * Kafka's checks for a batch arriving in a Produce request (LogValidator,
 * origin client): records_count > 0, last_offset_delta + 1 == records_count,
 * not a control batch, base_sequence >= 0 when producer_id >= 0. Returns SL_OK
 * or SL_EPROTO (the broker answers INVALID_RECORD). Does not check the CRC.
 */
int kafka_batch_validate_produce(const struct kafka_batch *batch, struct sl_error *err);

/*
 * Split concatenated batches (a Produce `records` field, or the records of a
 * Fetch response). Call with `*rest` the whole input; each call parses the
 * next batch (with CRC check when `check_crc`) and advances `*rest` past it.
 * Returns 1 with `*batch` filled, 0 when `*rest` is empty, SL_EAGAIN when
 * `*rest` holds only part of a batch (a Fetch response may end that way; a
 * Produce request must not), or an error.
 */
int kafka_batch_next(struct sl_slice *rest, bool check_crc, struct kafka_batch *batch,
                     struct sl_error *err);

/* ---- Patching in place (bytes not covered by the CRC) --------------------- */

/* Write base_offset (bytes 0-7) of the batch starting at `bytes`. */
void kafka_batch_set_base_offset(uint8_t *bytes, int64_t base_offset);
/* Write partition_leader_epoch (bytes 12-15). */
void kafka_batch_set_leader_epoch(uint8_t *bytes, int32_t epoch);
/*
 * Switch a whole batch of `len` bytes to LogAppendTime: set attribute bit 3,
 * max_timestamp = `now_ms`, and recompute the CRC (Kafka setMaxTimestamp).
 */
void kafka_batch_set_log_append_time(uint8_t *bytes, size_t len, int64_t now_ms);

/* ---- Records -------------------------------------------------------------- */

struct kafka_record {
    int8_t attributes;       /* unused by Kafka, 0 */
    int64_t offset;          /* absolute: base_offset + offset_delta */
    int64_t timestamp;       /* absolute: base_timestamp + delta, or the batch
                                max_timestamp under LogAppendTime */
    struct sl_slice key;     /* borrowed; p == NULL: null key */
    struct sl_slice value;   /* borrowed; p == NULL: null value (tombstone) */
    int32_t headers_count;   /* >= 0 */
    struct sl_slice headers; /* borrowed: the encoded headers, for
                                kafka_batch_header_next() */
};

struct kafka_record_header {
    struct sl_slice key;   /* borrowed; never null */
    struct sl_slice value; /* borrowed; p == NULL: null */
};

/*
 * An iterator over the records of one batch. Record slices borrow from the
 * batch's bytes (uncompressed batches) or from the reader's own buffer
 * (compressed ones); either way they stay valid until the next
 * kafka_batch_reader_release() and, for the batch bytes, as long as those live.
 */
struct kafka_batch_reader {
    struct kafka_batch batch;  /* copy of the header; slices borrowed as given */
    struct sl_buf plain;       /* owned: decompressed records (unused if codec 0) */
    struct sl_cur cur;         /* over the records, plain or batch.records */
    int32_t left;              /* records not yet returned */
    int64_t prev_offset_delta; /* for the increasing-offset check; -1 at start */
};

/*
 * Start reading the records of `batch` (already parsed; CRC checked or not as
 * the caller chose). Compressed records are decompressed at once into a buffer
 * capped at `plain_max` bytes (0: KAFKA_BATCH_PLAIN_MAX_DEFAULT); a larger
 * result fails with SL_ELIMIT. On failure the reader is still released safely.
 * Returns SL_OK or an error.
 */
int kafka_batch_reader_init(struct kafka_batch_reader *rd, const struct kafka_batch *batch,
                            size_t plain_max, struct sl_error *err);

/*
 * Decode the next record. Returns 1 with `*rec` filled, 0 after the last
 * record (records_count reached; trailing bytes are an SL_EPROTO error), or
 * SL_EPROTO for a malformed record (length overrun, bad varint, a negative
 * key/value length other than -1, offset deltas not increasing).
 */
int kafka_batch_reader_next(struct kafka_batch_reader *rd, struct kafka_record *rec,
                            struct sl_error *err);

/* Free the reader's buffer. NULL-safe and safe after a failed init. */
void kafka_batch_reader_release(struct kafka_batch_reader *rd);

/*
 * Decode the next header of a record: `cur` starts as sl_cur_make(rec.headers)
 * and the caller calls this rec.headers_count times. Returns SL_OK or
 * SL_EPROTO.
 */
int kafka_batch_header_next(struct sl_cur *cur, struct kafka_record_header *hdr,
                            struct sl_error *err);

/* ---- Compression ---------------------------------------------------------- */

/*
 * Decompress `in` (the records blob of a batch with `codec`) and append the
 * result to `out`, which must have been initialised with its cap: output
 * beyond out->max fails with SL_ELIMIT. Snappy accepts raw snappy and the
 * xerial framing (`\x82SNAPPY\0` header, then big-endian length-prefixed
 * chunks); lz4 expects the LZ4 frame format. Returns SL_OK or an error.
 */
int kafka_batch_decompress(int codec, struct sl_slice in, struct sl_buf *out, struct sl_error *err);

/*
 * Compress `in` with `codec` (snappy: raw, as librdkafka writes it; lz4: frame
 * format; gzip: a gzip stream) and append the result to `out`. Returns SL_OK,
 * SL_ELIMIT if `out` would exceed its cap, or SL_EUNSUPPORTED.
 */
int kafka_batch_compress(int codec, struct sl_slice in, struct sl_buf *out, struct sl_error *err);

/* ---- Building ------------------------------------------------------------- */

/*
 * Builds one batch record by record:
 *
 *     struct kafka_batch_writer w;
 *     kafka_batch_writer_init(&w, KAFKA_CODEC_NONE, now_ms);
 *     kafka_batch_writer_add(&w, now_ms, key, value, NULL, 0);
 *     kafka_batch_writer_finish(&w, 0, &out, &err);   appends the batch to out
 *     kafka_batch_writer_release(&w);
 *
 * Producer fields default to -1 (no idempotence); set them before finish.
 */
struct kafka_batch_writer {
    int codec;                      /* enum kafka_codec */
    int16_t attributes;             /* extra attribute bits (codec is added) */
    int64_t base_timestamp;         /* ms; record deltas are relative to it */
    int64_t max_timestamp;          /* largest record timestamp added so far */
    int64_t producer_id;            /* -1 */
    int16_t producer_epoch;         /* -1 */
    int32_t base_sequence;          /* -1 */
    int32_t partition_leader_epoch; /* 0 */
    int32_t count;                  /* records added */
    struct sl_buf records;          /* owned: the encoded records, uncompressed */
};

void kafka_batch_writer_init(struct kafka_batch_writer *w, int codec, int64_t base_timestamp);

/*
 * Append one record with absolute `timestamp`; key/value with p == NULL are
 * null. `headers` may be NULL when `nheaders` is 0. Returns SL_OK or SL_ELIMIT
 * (more than INT32_MAX records or bytes).
 */
int kafka_batch_writer_add(struct kafka_batch_writer *w, int64_t timestamp, struct sl_slice key,
                           struct sl_slice value, const struct kafka_record_header *headers,
                           size_t nheaders);

/*
 * Append the finished batch (header, CRC, records compressed with w->codec) to
 * `out`, with `base_offset`. A writer with no records makes no batch and
 * returns SL_EUSAGE. The writer may be finished more than once (same records).
 * Returns SL_OK or an error.
 */
int kafka_batch_writer_finish(struct kafka_batch_writer *w, int64_t base_offset, struct sl_buf *out,
                              struct sl_error *err);

/* Free the writer's buffer. NULL-safe. */
void kafka_batch_writer_release(struct kafka_batch_writer *w);

#endif
