/*
 * codec.c: page compression (design/parquet.md §6). Each page body is one
 * block: a raw Snappy block (not the framing format), a gzip member (not
 * zlib), one zstd frame, or an LZ4 block (LZ4_RAW, read only). Decompression
 * must yield exactly the page's uncompressed size, which the caller has
 * already capped; anything else is a corrupt page.
 */
#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/pq_int.h"

void pq_codec_ctx_release(struct pq_codec_ctx *ctx)
{
    if (!ctx)
        return;
    ZSTD_freeCCtx(ctx->zc);
    ZSTD_freeDCtx(ctx->zd);
    ctx->zc = ctx->zd = NULL;
}

static int gzip_compress(int level, const uint8_t *in, size_t n, struct sl_buf *out,
                         struct sl_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return sl_fail(err, SL_EIO, "cannot start gzip compression");
    size_t bound = deflateBound(&zs, n) + 32;
    if (sl_buf_reserve(out, bound) != SL_OK) {
        deflateEnd(&zs);
        return sl_fail(err, SL_ELIMIT, "gzip page too large");
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out->data;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    size_t len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return sl_fail(err, SL_EIO, "gzip compression failed");
    sl_buf_setlen(out, len);
    return SL_OK;
}

int pq_compress(struct pq_codec_ctx *ctx, int codec, int level, const uint8_t *in, size_t n,
                struct sl_buf *out, struct sl_error *err)
{
    sl_buf_reset(out);
    switch (codec) {
    case PQ_UNCOMPRESSED:
        if (sl_buf_append(out, in, n) != SL_OK)
            return sl_fail(err, SL_ELIMIT, "page too large");
        return SL_OK;
    case PQ_SNAPPY: {
        size_t len = snappy_max_compressed_length(n);
        if (sl_buf_reserve(out, len) != SL_OK)
            return sl_fail(err, SL_ELIMIT, "page too large");
        if (snappy_compress((const char *)in, n, (char *)out->data, &len) != SNAPPY_OK)
            return sl_fail(err, SL_EIO, "snappy compression failed");
        sl_buf_setlen(out, len);
        return SL_OK;
    }
    case PQ_GZIP:
        return gzip_compress(level, in, n, out, err);
    case PQ_ZSTD: {
        if (!ctx->zc)
            ctx->zc = ZSTD_createCCtx();
        size_t bound = ZSTD_compressBound(n);
        if (sl_buf_reserve(out, bound) != SL_OK)
            return sl_fail(err, SL_ELIMIT, "page too large");
        size_t len = ZSTD_compressCCtx(ctx->zc, out->data, bound, in, n, level ? level : 3);
        if (ZSTD_isError(len))
            return sl_fail(err, SL_EIO, "zstd compression failed: %s", ZSTD_getErrorName(len));
        sl_buf_setlen(out, len);
        return SL_OK;
    }
    default:
        return sl_fail(err, SL_EUNSUPPORTED, "cannot write codec %s", pq_codec_name(codec));
    }
}

/* A gzip page may hold several members back to back (concatenated files). */
static int gzip_decompress(const uint8_t *in, size_t n, uint8_t *dst, size_t out_len,
                           struct sl_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return sl_fail(err, SL_EIO, "cannot start gzip decompression");
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = dst;
    zs.avail_out = (uInt)out_len;
    int rc;
    for (;;) {
        rc = inflate(&zs, Z_FINISH);
        if (rc == Z_STREAM_END && zs.avail_in > 0 && zs.avail_out > 0) {
            if (inflateReset(&zs) != Z_OK)
                break;
            continue;
        }
        break;
    }
    size_t got = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || got != out_len)
        return sl_fail(err, SL_ECORRUPT, "gzip page does not decompress to %zu bytes", out_len);
    return SL_OK;
}

int pq_decompress(struct pq_codec_ctx *ctx, int codec, const uint8_t *in, size_t n,
                  size_t out_len, struct sl_buf *out, struct sl_error *err)
{
    sl_buf_reset(out);
    if (sl_buf_reserve(out, out_len) != SL_OK)
        return sl_fail(err, SL_ELIMIT, "page of %zu bytes too large", out_len);
    uint8_t *dst = out->data;
    switch (codec) {
    case PQ_UNCOMPRESSED:
        if (n != out_len)
            return sl_fail(err, SL_ECORRUPT, "uncompressed page sizes differ (%zu, %zu)", n,
                           out_len);
        memcpy(dst, in, n);
        break;
    case PQ_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length((const char *)in, n, &len) != SNAPPY_OK || len != out_len)
            return sl_fail(err, SL_ECORRUPT, "snappy page does not decompress to %zu bytes",
                           out_len);
        if (out_len && snappy_uncompress((const char *)in, n, (char *)dst, &len) != SNAPPY_OK)
            return sl_fail(err, SL_ECORRUPT, "corrupt snappy page");
        break;
    }
    case PQ_GZIP: {
        int rc = gzip_decompress(in, n, dst, out_len, err);
        if (rc)
            return rc;
        break;
    }
    case PQ_ZSTD: {
        if (!ctx->zd)
            ctx->zd = ZSTD_createDCtx();
        size_t len = ZSTD_decompressDCtx(ctx->zd, dst, out_len, in, n);
        if (ZSTD_isError(len) || len != out_len)
            return sl_fail(err, SL_ECORRUPT, "zstd page does not decompress to %zu bytes",
                           out_len);
        break;
    }
    case PQ_LZ4_RAW: {
        if (n > INT32_MAX || out_len > INT32_MAX)
            return sl_fail(err, SL_ELIMIT, "lz4 page too large");
        int len = LZ4_decompress_safe((const char *)in, (char *)dst, (int)n, (int)out_len);
        if (len < 0 || (size_t)len != out_len)
            return sl_fail(err, SL_ECORRUPT, "lz4 page does not decompress to %zu bytes", out_len);
        break;
    }
    default:
        return sl_fail(err, SL_EUNSUPPORTED, "unsupported compression codec %s (%d)",
                       pq_codec_name(codec), codec);
    }
    sl_buf_setlen(out, out_len);
    return SL_OK;
}
