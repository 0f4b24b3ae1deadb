/*
 * check.h: the unit-test harness. A test file defines `static void test_x(void)`
 * functions and lists them in main() with RUN(test_x); CHECK* macros print
 * file:line and both values on failure and let the test go on. CHECK_DONE()
 * prints "N passed, N failed" and returns the exit status.
 */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_tests_passed_, check_tests_failed_;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failures_++;                                                    \
        }                                                                         \
    } while (0)

#define CHECK_INT(a, b)                                                           \
    do {                                                                          \
        long long va_ = (long long)(a), vb_ = (long long)(b);                     \
        if (va_ != vb_) {                                                         \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,   \
                    __LINE__, #a, #b, va_, vb_);                                  \
            check_failures_++;                                                    \
        }                                                                         \
    } while (0)

#define CHECK_UINT(a, b)                                                          \
    do {                                                                          \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
        if (va_ != vb_) {                                                         \
            fprintf(stderr, "%s:%d: %s == %s failed: 0x%llx != 0x%llx\n",         \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                        \
            check_failures_++;                                                    \
        }                                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                           \
    do {                                                                          \
        const char *sa_ = (a), *sb_ = (b);                                        \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                              \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",         \
                    __FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)",             \
                    sb_ ? sb_ : "(null)");                                        \
            check_failures_++;                                                    \
        }                                                                         \
    } while (0)

#define CHECK_MEM(a, b, n)                                                        \
    do {                                                                          \
        if (memcmp((a), (b), (n)) != 0) {                                         \
            fprintf(stderr, "%s:%d: memcmp(%s, %s, %s) failed\n", __FILE__,       \
                    __LINE__, #a, #b, #n);                                        \
            check_failures_++;                                                    \
        }                                                                         \
    } while (0)

#define RUN(test)                                                                 \
    do {                                                                          \
        int before_ = check_failures_;                                            \
        test();                                                                   \
        if (check_failures_ == before_) {                                         \
            check_tests_passed_++;                                                \
        } else {                                                                  \
            check_tests_failed_++;                                                \
            fprintf(stderr, "FAIL %s\n", #test);                                  \
        }                                                                         \
    } while (0)

#define CHECK_DONE()                                                              \
    (printf("%d passed, %d failed\n", check_tests_passed_, check_tests_failed_),  \
     check_tests_failed_ ? 1 : 0)

#endif
