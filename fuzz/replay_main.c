/*
 * Corpus replayer: runs a libFuzzer target's LLVMFuzzerTestOneInput over every
 * file of its corpus directory, so that plain ctest (gcc, ASan) checks each
 * saved input on every build without clang. The model is SQLite's fuzzcheck.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open '%s'\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    if (!data)
        abort();
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "cannot open corpus '%s'\n", argv[1]);
        return 1;
    }
    int count = 0, failed = 0;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
        if (replay_file(path) < 0)
            failed++;
        else
            count++;
    }
    closedir(dir);
    printf("%d passed, %d failed\n", count, failed);
    return failed || count == 0 ? 1 : 0;
}
