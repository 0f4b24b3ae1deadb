/*
 * kafka_batch.c: fuzz target for the RecordBatch v2 codec (src/kafka/batch.c).
 *
 * The input is treated as a Produce `records` field: concatenated batches are
 * split, each header parsed and validated, and every record and header
 * decoded, decompressing under a 1 MiB cap. The CRC is checked but not
 * required, so that mutated records still reach the record decoder. Then the
 * whole input is also fed to the decompressors directly, the first byte
 * choosing the codec. Nothing may read out of bounds, leak, or allocate
 * without bound; seeds are real batches of every codec (fuzz/corpus/kafka_batch).
 */
#include <stddef.h>
#include <stdint.h>

#include "kafka/batch.h"

static void read_records(const struct kafka_batch *batch)
{
    struct sl_error err = {0};
    struct kafka_batch_reader rd;
    if (kafka_batch_reader_init(&rd, batch, (size_t)1 << 20, &err) == SL_OK) {
        struct kafka_record rec;
        while (kafka_batch_reader_next(&rd, &rec, &err) == 1) {
            struct sl_cur cur = sl_cur_make(rec.headers);
            for (int32_t i = 0; i < rec.headers_count; i++) {
                struct kafka_record_header hdr;
                if (kafka_batch_header_next(&cur, &hdr, &err) < 0)
                    break;
            }
        }
    }
    kafka_batch_reader_release(&rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_slice rest = sl_slice_make(data, size);
    struct kafka_batch batch;
    for (int n = 0; n < 64; n++) {
        struct sl_error err = {0};
        if (kafka_batch_next(&rest, false, &batch, &err) != 1)
            break;
        (void)kafka_batch_check_crc(&batch, &err);
        (void)kafka_batch_validate_produce(&batch, &err);
        read_records(&batch);
    }
    struct sl_error err = {0};
    (void)kafka_batch_peek(sl_slice_make(data, size), &batch, &err);
    if (size > 0) {
        struct sl_buf out;
        sl_buf_init(&out, (size_t)1 << 20);
        (void)kafka_batch_decompress(data[0] % 5, sl_slice_make(data + 1, size - 1), &out, &err);
        sl_buf_release(&out);
    }
    return 0;
}
