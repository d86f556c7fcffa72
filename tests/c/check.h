/* A tiny test harness: CHECK records a failure and goes on; DONE prints the totals. */
#ifndef GAIA_CHECK_H
#define GAIA_CHECK_H
#include <stdio.h>
#include <string.h>

static int checks_passed = 0;
static int checks_failed = 0;

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (cond) {                                                           \
      checks_passed++;                                                    \
    } else {                                                              \
      checks_failed++;                                                    \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                       \
      fprintf(stderr, " [last error: %s]\n", gaia_last_error());          \
    }                                                                     \
  } while (0)

#define CHECK_STATUS(call, want) \
  do { gaia_status got_ = (call); CHECK(got_ == (want), "%s returned %s, want %s", #call, \
       gaia_status_name(got_), gaia_status_name(want)); } while (0)

#define CHECK_STR(a, b) \
  do { const char *a_ = (a), *b_ = (b); CHECK(a_ && b_ && strcmp(a_, b_) == 0, \
       "\"%s\" != \"%s\"", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

static int done(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}
#endif
