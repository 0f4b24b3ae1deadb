/*
 * batch.c: the Kafka RecordBatch v2 codec (see batch.h for the contract).
 *
 * Where it sits: the broker parses each Produce batch here (header + CRC) and
 * hands the bytes to src/log, which patches the base offset and stores them
 * unchanged; consumers inside sluice (extract, consume, ListOffsets by time)
 * iterate records here, decompressing as needed.
 *
 * Why the parser is split in two (header, then CRC): the log re-reads headers
 * of its own, already verified batches during recovery scans and index
 * lookups, where a CRC pass would cost a full read of every batch; the
 * broker's Produce path and recovery of a torn tail use the checked parse.
 *
 * Decompression always goes through a buffer with a hard cap, filled in
 * chunks, so a small hostile blob (a "zip bomb") stops at the cap instead of
 * exhausting memory; the size a format claims up front (snappy's preamble,
 * zstd's frame header) is checked against the cap before allocating.
 */
#include "kafka/batch.h"

#include <limits.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "base/crc32c.h"
#include "base/varint.h"

/* ===== MARK: codec names ================================================= */

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *kafka_codec_name(int codec)
{
    if (codec < 0 || codec > KAFKA_CODEC_ZSTD)
        return "invalid";
    return codec_names[codec];
}

int kafka_codec_parse(const char *name)
{
    for (int i = 0; i <= KAFKA_CODEC_ZSTD; i++)
        if (strcmp(name, codec_names[i]) == 0)
            return i;
    return SL_EUSAGE;
}

/* ===== MARK: big-endian helpers ========================================== */

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ===== MARK: parsing ===================================================== */

int64_t kafka_batch_size(struct sl_slice in, struct sl_error *err)
{
    if (in.len < KAFKA_BATCH_OFF_MAGIC + 1)
        return SL_EAGAIN;
    int32_t length = (int32_t)get_be32(in.p + KAFKA_BATCH_OFF_LENGTH);
    int8_t magic = (int8_t)in.p[KAFKA_BATCH_OFF_MAGIC];
    if (magic == 0 || magic == 1)
        return sl_fail_at(err, SL_EUNSUPPORTED, KAFKA_BATCH_OFF_MAGIC,
                          "legacy message set (magic %d) not supported", magic);
    if (magic != KAFKA_BATCH_MAGIC)
        return sl_fail_at(err, SL_EPROTO, KAFKA_BATCH_OFF_MAGIC, "bad record batch magic %d",
                          magic);
    if (length < KAFKA_BATCH_HEADER_SIZE - KAFKA_BATCH_LOG_OVERHEAD)
        return sl_fail_at(err, SL_EPROTO, KAFKA_BATCH_OFF_LENGTH,
                          "record batch length %d too small", length);
    return (int64_t)length + KAFKA_BATCH_LOG_OVERHEAD;
}

int64_t kafka_batch_peek(struct sl_slice in, struct kafka_batch *batch, struct sl_error *err)
{
    int64_t size = kafka_batch_size(in, err);
    if (size < 0)
        return size;
    if (in.len < KAFKA_BATCH_HEADER_SIZE)
        return SL_EAGAIN;
    struct sl_cur cur = sl_cur_make(sl_slice_make(in.p, KAFKA_BATCH_HEADER_SIZE));
    batch->base_offset = sl_cur_i64be(&cur);
    batch->batch_length = sl_cur_i32be(&cur);
    batch->partition_leader_epoch = sl_cur_i32be(&cur);
    batch->magic = sl_cur_i8(&cur);
    batch->crc = sl_cur_u32be(&cur);
    batch->attributes = sl_cur_i16be(&cur);
    batch->last_offset_delta = sl_cur_i32be(&cur);
    batch->base_timestamp = sl_cur_i64be(&cur);
    batch->max_timestamp = sl_cur_i64be(&cur);
    batch->producer_id = sl_cur_i64be(&cur);
    batch->producer_epoch = sl_cur_i16be(&cur);
    batch->base_sequence = sl_cur_i32be(&cur);
    batch->records_count = sl_cur_i32be(&cur);
    batch->bytes = sl_slice_make(NULL, 0);
    batch->records = sl_slice_make(NULL, 0);
    if (cur.failed) /* cannot happen: 61 bytes were checked */
        return sl_fail(err, SL_EPROTO, "record batch header truncated");
    if (kafka_batch_codec(batch) > KAFKA_CODEC_ZSTD)
        return sl_fail_at(err, SL_EPROTO, KAFKA_BATCH_OFF_ATTRIBUTES,
                          "invalid compression codec %d in record batch", kafka_batch_codec(batch));
    if (batch->records_count < 0)
        return sl_fail_at(err, SL_EPROTO, 57, "negative record count %d in record batch",
                          batch->records_count);
    if (batch->last_offset_delta < 0)
        return sl_fail_at(err, SL_EPROTO, 23, "negative last offset delta %d in record batch",
                          batch->last_offset_delta);
    return size;
}

int64_t kafka_batch_parse_header(struct sl_slice in, struct kafka_batch *batch,
                                 struct sl_error *err)
{
    int64_t size = kafka_batch_size(in, err);
    if (size < 0)
        return size;
    if ((uint64_t)size > in.len)
        return SL_EAGAIN;
    size = kafka_batch_peek(in, batch, err);
    if (size < 0)
        return size;
    batch->bytes = sl_slice_make(in.p, (size_t)size);
    batch->records =
        sl_slice_make(in.p + KAFKA_BATCH_HEADER_SIZE, (size_t)size - KAFKA_BATCH_HEADER_SIZE);
    return size;
}

int kafka_batch_check_crc(const struct kafka_batch *batch, struct sl_error *err)
{
    const uint8_t *p = batch->bytes.p + KAFKA_BATCH_OFF_ATTRIBUTES;
    uint32_t crc = sl_crc32c(0, p, batch->bytes.len - KAFKA_BATCH_OFF_ATTRIBUTES);
    if (crc != batch->crc)
        return sl_fail_at(err, SL_ECORRUPT, KAFKA_BATCH_OFF_CRC,
                          "record batch crc mismatch: stored 0x%08x, computed 0x%08x", batch->crc,
                          crc);
    return SL_OK;
}

int64_t kafka_batch_parse(struct sl_slice in, struct kafka_batch *batch, struct sl_error *err)
{
    int64_t size = kafka_batch_parse_header(in, batch, err);
    if (size < 0)
        return size;
    int rc = kafka_batch_check_crc(batch, err);
    return rc < 0 ? rc : size;
}

int kafka_batch_validate_produce(const struct kafka_batch *batch, struct sl_error *err)
{
    if (batch->records_count <= 0)
        return sl_fail(err, SL_EPROTO, "record batch has no records");
    if ((int64_t)batch->last_offset_delta + 1 != batch->records_count)
        return sl_fail(err, SL_EPROTO,
                       "record batch last offset delta %d does not match record count %d",
                       batch->last_offset_delta, batch->records_count);
    if (batch->attributes & KAFKA_BATCH_ATTR_CONTROL)
        return sl_fail(err, SL_EPROTO, "clients may not produce control batches");
    if (batch->producer_id >= 0 && batch->base_sequence < 0)
        return sl_fail(err, SL_EPROTO, "idempotent record batch has no base sequence");
    return SL_OK;
}

int kafka_batch_next(struct sl_slice *rest, bool check_crc, struct kafka_batch *batch,
                     struct sl_error *err)
{
    if (rest->len == 0)
        return 0;
    int64_t size = check_crc ? kafka_batch_parse(*rest, batch, err)
                             : kafka_batch_parse_header(*rest, batch, err);
    if (size < 0)
        return (int)size;
    rest->p += size;
    rest->len -= (size_t)size;
    return 1;
}

/* ===== MARK: patching ==================================================== */

void kafka_batch_set_base_offset(uint8_t *bytes, int64_t base_offset)
{
    put_be64(bytes, (uint64_t)base_offset);
}

void kafka_batch_set_leader_epoch(uint8_t *bytes, int32_t epoch)
{
    put_be32(bytes + KAFKA_BATCH_OFF_EPOCH, (uint32_t)epoch);
}

void kafka_batch_set_log_append_time(uint8_t *bytes, size_t len, int64_t now_ms)
{
    uint16_t attr = get_be16(bytes + KAFKA_BATCH_OFF_ATTRIBUTES);
    put_be16(bytes + KAFKA_BATCH_OFF_ATTRIBUTES, attr | KAFKA_BATCH_ATTR_LOG_APPEND_TIME);
    put_be64(bytes + KAFKA_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
    uint32_t crc =
        sl_crc32c(0, bytes + KAFKA_BATCH_OFF_ATTRIBUTES, len - KAFKA_BATCH_OFF_ATTRIBUTES);
    put_be32(bytes + KAFKA_BATCH_OFF_CRC, crc);
}

/* ===== MARK: decompression =============================================== */

/*
 * Make room for more output: up to `want` bytes, less if the cap is near.
 * Returns the room made (0 when the buffer is at its cap).
 */
static size_t out_room(struct sl_buf *out, size_t want)
{
    size_t avail = out->max - out->len;
    size_t n = want < avail ? want : avail;
    if (n && sl_buf_reserve(out, n) < 0)
        return 0;
    return n;
}

static int fail_cap(struct sl_buf *out, const char *codec, struct sl_error *err)
{
    return sl_fail(err, SL_ELIMIT, "%s records decompress to more than %zu bytes", codec, out->max);
}

#define CHUNK ((size_t)64 << 10)

static int inflate_gzip(struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* 32: accept gzip or zlib headers */
        return sl_fail(err, SL_EIO, "cannot initialise zlib");
    int rc = SL_OK;
    zs.next_in = (Bytef *)(uintptr_t)in.p;
    size_t in_left = in.len;
    for (;;) {
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        size_t room = out_room(out, CHUNK);
        if (room == 0) {
            rc = fail_cap(out, "gzip", err);
            break;
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        sl_buf_setlen(out, out->len + (room - zs.avail_out));
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
            rc = sl_fail(err, SL_EPROTO, "gzip records truncated");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = sl_fail(err, SL_EPROTO, "bad gzip records: %s", zs.msg ? zs.msg : "error");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int snappy_raw(const uint8_t *p, size_t n, struct sl_buf *out, struct sl_error *err)
{
    size_t plain = 0;
    if (snappy_uncompressed_length((const char *)p, n, &plain) != SNAPPY_OK)
        return sl_fail(err, SL_EPROTO, "bad snappy records: invalid length preamble");
    if (plain > out->max - out->len)
        return fail_cap(out, "snappy", err);
    if (sl_buf_reserve(out, plain) < 0)
        return fail_cap(out, "snappy", err);
    size_t got = plain;
    if (snappy_uncompress((const char *)p, n, (char *)out->data + out->len, &got) != SNAPPY_OK ||
        got != plain)
        return sl_fail(err, SL_EPROTO, "bad snappy records");
    sl_buf_setlen(out, out->len + got);
    return SL_OK;
}

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static int unsnappy(struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    /* snappy-java (Kafka's Java producer): magic, version, compat version,
     * then chunks of (be32 length, raw snappy block). librdkafka writes raw
     * snappy; both read both. */
    if (in.len >= 16 && memcmp(in.p, xerial_magic, 8) == 0) {
        struct sl_cur cur = sl_cur_make(in);
        sl_cur_skip(&cur, 16);
        while (sl_cur_left(&cur) > 0) {
            uint32_t n = sl_cur_u32be(&cur);
            if (cur.failed || n > sl_cur_left(&cur))
                return sl_fail_at(err, SL_EPROTO, cur.pos, "xerial snappy chunk truncated");
            struct sl_slice chunk = sl_cur_bytes(&cur, n);
            int rc = snappy_raw(chunk.p, chunk.len, out, err);
            if (rc < 0)
                return rc;
        }
        return SL_OK;
    }
    return snappy_raw(in.p, in.len, out, err);
}

static int unlz4(struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    LZ4F_dctx *dctx = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return sl_fail(err, SL_EIO, "cannot initialise lz4");
    int rc = SL_OK;
    const uint8_t *src = in.p;
    size_t left = in.len;
    size_t hint = 1;
    while (left > 0) {
        size_t room = out_room(out, CHUNK);
        if (room == 0) {
            rc = fail_cap(out, "lz4", err);
            break;
        }
        size_t dst_n = room, src_n = left;
        hint = LZ4F_decompress(dctx, out->data + out->len, &dst_n, src, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = sl_fail(err, SL_EPROTO, "bad lz4 records: %s", LZ4F_getErrorName(hint));
            break;
        }
        sl_buf_setlen(out, out->len + dst_n);
        src += src_n;
        left -= src_n;
        if (src_n == 0 && dst_n == 0 && hint != 0) {
            rc = sl_fail(err, SL_EPROTO, "bad lz4 records: no progress");
            break;
        }
    }
    /* Input consumed: the frame may still hold buffered output. */
    while (rc == SL_OK && hint != 0) {
        size_t room = out_room(out, CHUNK);
        if (room == 0) {
            rc = fail_cap(out, "lz4", err);
            break;
        }
        size_t dst_n = room, src_n = 0;
        hint = LZ4F_decompress(dctx, out->data + out->len, &dst_n, src, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = sl_fail(err, SL_EPROTO, "bad lz4 records: %s", LZ4F_getErrorName(hint));
            break;
        }
        sl_buf_setlen(out, out->len + dst_n);
        if (dst_n == 0 && hint != 0) {
            rc = sl_fail(err, SL_EPROTO, "lz4 records truncated");
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int unzstd(struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    unsigned long long claimed = ZSTD_getFrameContentSize(in.p, in.len);
    if (claimed != ZSTD_CONTENTSIZE_UNKNOWN && claimed != ZSTD_CONTENTSIZE_ERROR &&
        claimed > out->max - out->len)
        return fail_cap(out, "zstd", err);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return sl_fail(err, SL_EIO, "cannot initialise zstd");
    /* A window bigger than 64 MiB is refused instead of allocated. */
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 26);
    int rc = SL_OK;
    ZSTD_inBuffer zin = {in.p, in.len, 0};
    size_t zr = 1;
    for (;;) {
        size_t room = out_room(out, CHUNK);
        if (room == 0) {
            rc = fail_cap(out, "zstd", err);
            break;
        }
        ZSTD_outBuffer zout = {out->data + out->len, room, 0};
        zr = ZSTD_decompressStream(dctx, &zout, &zin);
        if (ZSTD_isError(zr)) {
            rc = sl_fail(err, SL_EPROTO, "bad zstd records: %s", ZSTD_getErrorName(zr));
            break;
        }
        sl_buf_setlen(out, out->len + zout.pos);
        if (zin.pos == zin.size && zr == 0)
            break; /* every frame complete */
        if (zin.pos == zin.size && zout.pos < zout.size) {
            rc = sl_fail(err, SL_EPROTO, "zstd records truncated");
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return rc;
}

int kafka_batch_decompress(int codec, struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    switch (codec) {
    case KAFKA_CODEC_NONE:
        if (sl_buf_append(out, in.p, in.len) < 0)
            return fail_cap(out, "plain", err);
        return SL_OK;
    case KAFKA_CODEC_GZIP:
        return inflate_gzip(in, out, err);
    case KAFKA_CODEC_SNAPPY:
        return unsnappy(in, out, err);
    case KAFKA_CODEC_LZ4:
        return unlz4(in, out, err);
    case KAFKA_CODEC_ZSTD:
        return unzstd(in, out, err);
    default:
        return sl_fail(err, SL_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}

/* ===== MARK: compression ================================================= */

static int deflate_gzip(struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return sl_fail(err, SL_EIO, "cannot initialise zlib");
    size_t bound = deflateBound(&zs, (uLong)in.len) + 32;
    if (in.len > UINT_MAX || bound > UINT_MAX || sl_buf_reserve(out, bound) < 0) {
        deflateEnd(&zs);
        return sl_fail(err, SL_ELIMIT, "gzip input of %zu bytes too large", in.len);
    }
    zs.next_in = (Bytef *)(uintptr_t)in.p;
    zs.avail_in = (uInt)in.len;
    zs.next_out = out->data + out->len;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    size_t n = bound - zs.avail_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END)
        return sl_fail(err, SL_EIO, "gzip compression failed");
    sl_buf_setlen(out, out->len + n);
    return SL_OK;
}

int kafka_batch_compress(int codec, struct sl_slice in, struct sl_buf *out, struct sl_error *err)
{
    switch (codec) {
    case KAFKA_CODEC_NONE:
        if (sl_buf_append(out, in.p, in.len) < 0)
            return sl_fail(err, SL_ELIMIT, "record batch over %zu bytes", out->max);
        return SL_OK;
    case KAFKA_CODEC_GZIP:
        return deflate_gzip(in, out, err);
    case KAFKA_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(in.len);
        if (sl_buf_reserve(out, bound) < 0)
            return sl_fail(err, SL_ELIMIT, "record batch over %zu bytes", out->max);
        size_t n = bound;
        if (snappy_compress((const char *)in.p, in.len, (char *)out->data + out->len, &n) !=
            SNAPPY_OK)
            return sl_fail(err, SL_EIO, "snappy compression failed");
        sl_buf_setlen(out, out->len + n);
        return SL_OK;
    }
    case KAFKA_CODEC_LZ4: {
        /* Independent 64 KiB blocks, as librdkafka and Kafka's Java client write. */
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof prefs);
        prefs.frameInfo.blockSizeID = LZ4F_max64KB;
        prefs.frameInfo.blockMode = LZ4F_blockIndependent;
        size_t bound = LZ4F_compressFrameBound(in.len, &prefs);
        if (sl_buf_reserve(out, bound) < 0)
            return sl_fail(err, SL_ELIMIT, "record batch over %zu bytes", out->max);
        size_t n = LZ4F_compressFrame(out->data + out->len, bound, in.p, in.len, &prefs);
        if (LZ4F_isError(n))
            return sl_fail(err, SL_EIO, "lz4 compression failed: %s", LZ4F_getErrorName(n));
        sl_buf_setlen(out, out->len + n);
        return SL_OK;
    }
    case KAFKA_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(in.len);
        if (sl_buf_reserve(out, bound) < 0)
            return sl_fail(err, SL_ELIMIT, "record batch over %zu bytes", out->max);
        size_t n = ZSTD_compress(out->data + out->len, bound, in.p, in.len, 3);
        if (ZSTD_isError(n))
            return sl_fail(err, SL_EIO, "zstd compression failed: %s", ZSTD_getErrorName(n));
        sl_buf_setlen(out, out->len + n);
        return SL_OK;
    }
    default:
        return sl_fail(err, SL_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}

/* ===== MARK: records ===================================================== */

int kafka_batch_reader_init(struct kafka_batch_reader *rd, const struct kafka_batch *batch,
                            size_t plain_max, struct sl_error *err)
{
    rd->batch = *batch;
    sl_buf_init(&rd->plain, plain_max ? plain_max : KAFKA_BATCH_PLAIN_MAX_DEFAULT);
    rd->left = batch->records_count;
    rd->prev_offset_delta = -1;
    int codec = kafka_batch_codec(batch);
    if (codec == KAFKA_CODEC_NONE) {
        rd->cur = sl_cur_make(batch->records);
        return SL_OK;
    }
    rd->cur = sl_cur_make(sl_slice_make(NULL, 0));
    int rc = kafka_batch_decompress(codec, batch->records, &rd->plain, err);
    if (rc < 0)
        return rc;
    rd->cur = sl_cur_make(sl_buf_slice(&rd->plain));
    return SL_OK;
}

void kafka_batch_reader_release(struct kafka_batch_reader *rd)
{
    if (!rd)
        return;
    sl_buf_release(&rd->plain);
}

/* A nullable byte field: varint length (-1: null), then bytes. */
static struct sl_slice read_nullable(struct sl_cur *cur, bool *bad)
{
    int32_t n = sl_cur_varint32(cur);
    if (cur->failed)
        return sl_slice_make(NULL, 0);
    if (n == -1)
        return sl_slice_make(NULL, 0);
    if (n < -1 || (size_t)n > sl_cur_left(cur)) {
        *bad = true;
        sl_cur_fail(cur);
        return sl_slice_make(NULL, 0);
    }
    struct sl_slice s = sl_cur_bytes(cur, (size_t)n);
    if (s.p == NULL) /* an empty, non-null value at the very end of input */
        s.p = cur->p ? cur->p + cur->pos : (const uint8_t *)"";
    return s;
}

int kafka_batch_header_next(struct sl_cur *cur, struct kafka_record_header *hdr,
                            struct sl_error *err)
{
    bool bad = false;
    size_t at = cur->pos;
    hdr->key = read_nullable(cur, &bad);
    if (!cur->failed && hdr->key.p == NULL)
        return sl_fail_at(err, SL_EPROTO, at, "record header has a null key");
    hdr->value = read_nullable(cur, &bad);
    if (cur->failed)
        return sl_fail_at(err, SL_EPROTO, at, "record header truncated or malformed");
    return SL_OK;
}

int kafka_batch_reader_next(struct kafka_batch_reader *rd, struct kafka_record *rec,
                            struct sl_error *err)
{
    struct sl_cur *cur = &rd->cur;
    if (rd->left <= 0) {
        if (sl_cur_left(cur) != 0)
            return sl_fail_at(err, SL_EPROTO, cur->pos,
                              "%zu bytes after the last record of the batch", sl_cur_left(cur));
        return 0;
    }
    size_t at = cur->pos;
    int32_t len = sl_cur_varint32(cur);
    if (cur->failed || len < 0 || (size_t)len > sl_cur_left(cur))
        return sl_fail_at(err, SL_EPROTO, at, "record %d truncated or has a bad length",
                          rd->batch.records_count - rd->left);
    struct sl_cur rc = sl_cur_make(sl_cur_bytes(cur, (size_t)len));
    bool bad = false;
    rec->attributes = sl_cur_i8(&rc);
    int64_t ts_delta = sl_cur_varint(&rc);
    int32_t off_delta = sl_cur_varint32(&rc);
    rec->key = read_nullable(&rc, &bad);
    rec->value = read_nullable(&rc, &bad);
    rec->headers_count = sl_cur_varint32(&rc);
    if (rc.failed)
        return sl_fail_at(err, SL_EPROTO, at, "record %d malformed",
                          rd->batch.records_count - rd->left);
    if (rec->headers_count < 0 || (size_t)rec->headers_count > sl_cur_left(&rc) / 2)
        return sl_fail_at(err, SL_EPROTO, at, "record %d has a bad header count %d",
                          rd->batch.records_count - rd->left, rec->headers_count);
    rec->headers = sl_cur_rest(&rc);
    for (int32_t i = 0; i < rec->headers_count; i++) {
        struct kafka_record_header hdr;
        if (kafka_batch_header_next(&rc, &hdr, err) < 0)
            return SL_EPROTO;
    }
    if (sl_cur_left(&rc) != 0)
        return sl_fail_at(err, SL_EPROTO, at, "record %d has %zu trailing bytes",
                          rd->batch.records_count - rd->left, sl_cur_left(&rc));
    if (off_delta <= rd->prev_offset_delta || off_delta > rd->batch.last_offset_delta)
        return sl_fail_at(err, SL_EPROTO, at, "record %d has offset delta %d out of order",
                          rd->batch.records_count - rd->left, off_delta);
    rd->prev_offset_delta = off_delta;
    rec->offset = (int64_t)((uint64_t)rd->batch.base_offset + (uint64_t)(int64_t)off_delta);
    if (rd->batch.attributes & KAFKA_BATCH_ATTR_LOG_APPEND_TIME)
        rec->timestamp = rd->batch.max_timestamp;
    else
        rec->timestamp = (int64_t)((uint64_t)rd->batch.base_timestamp + (uint64_t)ts_delta);
    rd->left--;
    return 1;
}

/* ===== MARK: building ==================================================== */

void kafka_batch_writer_init(struct kafka_batch_writer *w, int codec, int64_t base_timestamp)
{
    w->codec = codec;
    w->attributes = 0;
    w->base_timestamp = base_timestamp;
    w->max_timestamp = INT64_MIN;
    w->producer_id = -1;
    w->producer_epoch = -1;
    w->base_sequence = -1;
    w->partition_leader_epoch = 0;
    w->count = 0;
    sl_buf_init(&w->records, (size_t)INT32_MAX - KAFKA_BATCH_HEADER_SIZE);
}

void kafka_batch_writer_release(struct kafka_batch_writer *w)
{
    if (!w)
        return;
    sl_buf_release(&w->records);
}

static size_t varint_size(int64_t v)
{
    uint8_t tmp[SL_VARINT_MAX];
    return sl_uvarint_encode(tmp, sl_zigzag_encode(v));
}

static size_t nullable_size(struct sl_slice s)
{
    return s.p ? varint_size((int64_t)s.len) + s.len : varint_size(-1);
}

static int put_nullable(struct sl_buf *buf, struct sl_slice s)
{
    if (!s.p)
        return sl_buf_varint(buf, -1);
    int rc = sl_buf_varint(buf, (int64_t)s.len);
    return rc < 0 ? rc : sl_buf_append(buf, s.p, s.len);
}

int kafka_batch_writer_add(struct kafka_batch_writer *w, int64_t timestamp, struct sl_slice key,
                           struct sl_slice value, const struct kafka_record_header *headers,
                           size_t nheaders)
{
    if (w->count == INT32_MAX || nheaders > INT32_MAX)
        return SL_ELIMIT;
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)w->base_timestamp);
    size_t body = 1 + varint_size(ts_delta) + varint_size(w->count) + nullable_size(key) +
                  nullable_size(value) + varint_size((int64_t)nheaders);
    for (size_t i = 0; i < nheaders; i++)
        body += varint_size((int64_t)headers[i].key.len) + headers[i].key.len +
                nullable_size(headers[i].value);
    if (body > INT32_MAX)
        return SL_ELIMIT;
    size_t mark = w->records.len;
    int rc = sl_buf_reserve(&w->records, body + SL_VARINT_MAX);
    if (rc == SL_OK)
        rc = sl_buf_varint(&w->records, (int64_t)body);
    if (rc == SL_OK)
        rc = sl_buf_u8(&w->records, 0);
    if (rc == SL_OK)
        rc = sl_buf_varint(&w->records, ts_delta);
    if (rc == SL_OK)
        rc = sl_buf_varint(&w->records, w->count);
    if (rc == SL_OK)
        rc = put_nullable(&w->records, key);
    if (rc == SL_OK)
        rc = put_nullable(&w->records, value);
    if (rc == SL_OK)
        rc = sl_buf_varint(&w->records, (int64_t)nheaders);
    for (size_t i = 0; rc == SL_OK && i < nheaders; i++) {
        struct sl_slice hkey = headers[i].key;
        if (!hkey.p)
            hkey = sl_slice_make("", 0);
        rc = put_nullable(&w->records, hkey);
        if (rc == SL_OK)
            rc = put_nullable(&w->records, headers[i].value);
    }
    if (rc < 0) {
        sl_buf_setlen(&w->records, mark);
        return rc;
    }
    if (timestamp > w->max_timestamp)
        w->max_timestamp = timestamp;
    w->count++;
    return SL_OK;
}

int kafka_batch_writer_finish(struct kafka_batch_writer *w, int64_t base_offset, struct sl_buf *out,
                              struct sl_error *err)
{
    if (w->count == 0)
        return sl_fail(err, SL_EUSAGE, "cannot build a record batch without records");
    if (w->codec < KAFKA_CODEC_NONE || w->codec > KAFKA_CODEC_ZSTD)
        return sl_fail(err, SL_EUNSUPPORTED, "unknown compression codec %d", w->codec);
    size_t start = out->len;
    uint8_t hdr[KAFKA_BATCH_HEADER_SIZE];
    put_be64(hdr, (uint64_t)base_offset);
    put_be32(hdr + 8, 0); /* length, patched below */
    put_be32(hdr + 12, (uint32_t)w->partition_leader_epoch);
    hdr[16] = KAFKA_BATCH_MAGIC;
    put_be32(hdr + 17, 0); /* crc, patched below */
    put_be16(hdr + 21, (uint16_t)((w->attributes & ~KAFKA_BATCH_ATTR_CODEC_MASK) | w->codec));
    put_be32(hdr + 23, (uint32_t)(w->count - 1));
    put_be64(hdr + 27, (uint64_t)w->base_timestamp);
    put_be64(hdr + 35,
             (uint64_t)(w->max_timestamp == INT64_MIN ? w->base_timestamp : w->max_timestamp));
    put_be64(hdr + 43, (uint64_t)w->producer_id);
    put_be16(hdr + 51, (uint16_t)w->producer_epoch);
    put_be32(hdr + 53, (uint32_t)w->base_sequence);
    put_be32(hdr + 57, (uint32_t)w->count);
    if (sl_buf_append(out, hdr, sizeof hdr) < 0)
        return sl_fail(err, SL_ELIMIT, "record batch over %zu bytes", out->max);
    int rc = kafka_batch_compress(w->codec, sl_buf_slice(&w->records), out, err);
    if (rc < 0) {
        sl_buf_setlen(out, start);
        return rc;
    }
    size_t size = out->len - start;
    if (size > (size_t)INT32_MAX) {
        sl_buf_setlen(out, start);
        return sl_fail(err, SL_ELIMIT, "record batch of %zu bytes too large", size);
    }
    sl_buf_patch_be32(out, start + 8, (uint32_t)(size - KAFKA_BATCH_LOG_OVERHEAD));
    uint32_t crc = sl_crc32c(0, out->data + start + KAFKA_BATCH_OFF_ATTRIBUTES,
                             size - KAFKA_BATCH_OFF_ATTRIBUTES);
    sl_buf_patch_be32(out, start + KAFKA_BATCH_OFF_CRC, crc);
    return SL_OK;
}
