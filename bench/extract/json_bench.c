/*
 * json_bench.c: throughput of the JSON reader (src/json) on an NDJSON file,
 * one core: every line parsed onto the tape (json_parse), then every line
 * parsed and flattened into a typed row (extract_flatten), the per-record
 * work extract does before its tables. Prints one line per pass:
 *   <pass> <MB/s> <M events/s>
 * Rates are per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
 * best of 3, so that other work on a shared machine does not distort them.
 * Compiled and run by bench/extract/run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "extract/extract.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: json_bench FILE.ndjson\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return 1;
    const uint8_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return 1;
    size_t len = (size_t)st.st_size;
    struct json_doc doc;
    json_doc_init(&doc);
    struct extract_row row;
    extract_row_init(&row);
    for (int pass = 0; pass < 2; pass++) {
        double best = 1e30;
        long events = 0;
        for (int rep = 0; rep < 3; rep++) {
            struct timespec a, b;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
            events = 0;
            size_t pos = 0;
            while (pos < len) {
                const uint8_t *nl = memchr(p + pos, '\n', len - pos);
                size_t end = nl ? (size_t)(nl - p) : len;
                struct sl_error err = { 0 };
                if (json_parse(&doc, sl_slice_make(p + pos, end - pos), &err) == SL_OK) {
                    events++;
                    if (pass == 1) {
                        extract_row_reset(&row);
                        extract_flatten(&row, &doc, json_root(&doc), &err);
                    }
                }
                pos = end + 1;
            }
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
            double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
            if (secs < best)
                best = secs;
        }
        printf("%s %.0f MB/s %.2f M events/s (per CPU-second)\n", pass == 0 ? "json_parse" : "parse+flatten",
               (double)len / best / 1e6, (double)events / best / 1e6);
    }
    extract_row_release(&row);
    json_doc_release(&doc);
    return 0;
}
