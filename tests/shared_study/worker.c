/* A C worker of the shared-study stress test (tests/shared_study/run.sh).
 *
 *   worker run     CONFIG TRIALS OUTFILE   TRIALS x (ask -> objective -> tell COMPLETE),
 *                                          appending "id value" per told trial to OUTFILE
 *   worker hang    CONFIG                  asks one trial, prints its id, sleeps forever
 *                                          (the kill test: run.sh sends it SIGKILL)
 *   worker enqueue CONFIG PARAMS_JSON...   enqueues each configuration, in order
 *
 * CONFIG is the study config as JSON (starting with '{') or the path of a file holding it.
 * On any error: the message on stderr and exit status 1.
 *
 * The objective, identical in the C, Go and PHP workers and in run.sh's SQL check:
 *   f = (x - 1.25)^2 + 0.5 * (y - 7)^2 + 0.25 * index(c in ["a", "b", "c"])
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gaia.h"

__attribute__((format(printf, 1, 2))) _Noreturn static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "c worker %ld: ", (long)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* A failed gaia call: its status name and message (read before any other gaia call). */
#define CHECK(call, what)                                                                  \
  do {                                                                                     \
    gaia_status st_ = (call);                                                              \
    if (st_ != GAIA_OK)                                                                    \
      die("%s failed: %s: %s", (what), gaia_status_name(st_), gaia_last_error());          \
  } while (0)

/* The config: the argument itself when it is JSON, else the contents of that file. */
static char *read_config(const char *arg) {
  if (arg[0] == '{') {
    char *copy = strdup(arg);
    if (copy == NULL) die("out of memory");
    return copy;
  }
  FILE *f = fopen(arg, "rb");
  if (f == NULL) die("cannot open config %s: %s", arg, strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) die("out of memory");
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (len + 1 == cap) {
      cap *= 2;
      char *grown = realloc(buf, cap);
      if (grown == NULL) die("out of memory");
      buf = grown;
    }
  }
  if (ferror(f)) die("cannot read config %s: %s", arg, strerror(errno));
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* The text right after "name": in a flat JSON object, or NULL. */
static const char *value_of(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\"", name);
  for (const char *p = strstr(json, key); p != NULL; p = strstr(p + 1, key)) {
    const char *q = p + strlen(key);
    while (*q == ' ') q++;
    if (*q != ':') continue; /* the name as a string value, not as a key */
    q++;
    while (*q == ' ') q++;
    return q;
  }
  return NULL;
}

static double number_param(const char *json, const char *name) {
  const char *p = value_of(json, name);
  if (p == NULL) die("parameter %s missing in %s", name, json);
  char *end = NULL;
  errno = 0;
  double v = strtod(p, &end);
  if (end == p || errno != 0) die("parameter %s is not a number in %s", name, json);
  return v;
}

static int choice_index(const char *json, const char *name) {
  static const char *const choices[] = {"a", "b", "c"};
  const char *p = value_of(json, name);
  if (p == NULL || *p != '"') die("parameter %s missing or not a string in %s", name, json);
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(choices[i]);
    if (strncmp(p + 1, choices[i], n) == 0 && p[1 + n] == '"') return i;
  }
  die("parameter %s has an unknown choice in %s", name, json);
}

static double objective(const char *params) {
  double x = number_param(params, "x");
  double y = number_param(params, "y");
  int c = choice_index(params, "c");
  if (y != (double)(long)y) die("parameter y is not an integer in %s", params);
  double dx = x - 1.25, dy = y - 7.0;
  return dx * dx + 0.5 * dy * dy + 0.25 * (double)c;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *mode = argc >= 3 ? argv[1] : "";
  int ok = (strcmp(mode, "run") == 0 && argc == 5) || (strcmp(mode, "hang") == 0 && argc == 3) ||
           (strcmp(mode, "enqueue") == 0 && argc >= 3);
  if (!ok) {
    fprintf(stderr,
            "usage: %s run CONFIG TRIALS OUTFILE | hang CONFIG | enqueue CONFIG PARAMS_JSON...\n",
            argv[0]);
    return 2;
  }
  if (gaia_abi_version() != GAIA_ABI_VERSION)
    die("libgaia has ABI %u, this worker needs %d", gaia_abi_version(), GAIA_ABI_VERSION);
  char *config = read_config(argv[2]);
  gaia_study *study = NULL;
  CHECK(gaia_study_new(config, &study), "gaia_study_new");
  free(config);

  if (strcmp(mode, "enqueue") == 0) {
    for (int i = 3; i < argc; i++) CHECK(gaia_study_enqueue(study, argv[i]), "gaia_study_enqueue");
    printf("c worker %ld: enqueued %d configurations\n", (long)getpid(), argc - 3);
    gaia_study_free(study);
    return 0;
  }

  if (strcmp(mode, "hang") == 0) {
    uint64_t id = 0;
    char *params = NULL;
    CHECK(gaia_study_ask(study, &id, &params), "gaia_study_ask");
    gaia_string_free(params);
    printf("%llu\n", (unsigned long long)id);
    fflush(stdout);
    for (;;) pause(); /* heartbeats go on in libgaia's thread until the SIGKILL */
  }

  char *end = NULL;
  long trials = strtol(argv[3], &end, 10);
  if (*argv[3] == '\0' || *end != '\0' || trials <= 0)
    die("TRIALS must be a positive integer, not %s", argv[3]);
  FILE *out = fopen(argv[4], "a");
  if (out == NULL) die("cannot open %s: %s", argv[4], strerror(errno));
  double start = mono_s();
  for (long i = 0; i < trials; i++) {
    uint64_t id = 0;
    char *params = NULL;
    CHECK(gaia_study_ask(study, &id, &params), "gaia_study_ask");
    double value = objective(params);
    gaia_string_free(params);
    CHECK(gaia_study_tell(study, id, value, GAIA_TRIAL_COMPLETE), "gaia_study_tell");
    if (fprintf(out, "%llu %.17g\n", (unsigned long long)id, value) < 0 || fflush(out) != 0)
      die("cannot write %s: %s", argv[4], strerror(errno));
  }
  double elapsed = mono_s() - start;
  if (fclose(out) != 0) die("cannot write %s: %s", argv[4], strerror(errno));
  gaia_study_free(study);
  printf("c worker %ld: %ld trials in %.2f s (%.1f trials/s)\n", (long)getpid(), trials, elapsed,
         (double)trials / elapsed);
  return 0;
}
