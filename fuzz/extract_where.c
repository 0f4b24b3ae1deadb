/*
 * extract_where.c: libFuzzer target for the --where language
 * (src/extract/where.c). The input is split at the first NUL byte: the part
 * before is the expression, the part after a JSON record. A compiled
 * expression is evaluated against the record (or a fixed event when the
 * record is missing or not an object); compile failures must carry a
 * message. Nothing may crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract/extract.h"

static const char fixed_event[] =
    "{\"event_type\":\"purchase_sword\",\"Host\":\"user1.comcast.com\",\"n\":5,\"d\":2.5,"
    "\"ok\":true,\"z\":null,\"o\":{\"a\":\"x\"},\"arr\":[1,2]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t elen = nul ? (size_t)(nul - data) : size;
    char *expr = malloc(elen + 1);
    memcpy(expr, data, elen);
    expr[elen] = '\0';
    struct sl_error err = { 0 };
    struct extract_where *w = extract_where_compile(expr, &err);
    if (!w) {
        if (err.code != SL_EUSAGE || err.msg[0] == '\0')
            abort();
        free(expr);
        return 0;
    }
    struct json_doc doc;
    json_doc_init(&doc);
    struct extract_row row;
    extract_row_init(&row);
    struct sl_slice rec = nul ? sl_slice_make(nul + 1, size - elen - 1) : sl_slice_str(fixed_event);
    if (json_parse(&doc, rec, &err) != SL_OK || extract_flatten(&row, &doc, json_root(&doc), &err) != SL_OK) {
        extract_row_reset(&row);
        sl_error_clear(&err);
        if (json_parse(&doc, sl_slice_str(fixed_event), &err) != SL_OK ||
            extract_flatten(&row, &doc, json_root(&doc), &err) != SL_OK)
            abort();
    }
    bool a = extract_where_eval(w, &row);
    bool b = extract_where_eval(w, &row);
    if (a != b) /* evaluation is pure */
        abort();
    extract_row_release(&row);
    json_doc_release(&doc);
    extract_where_free(w);
    free(expr);
    return 0;
}
