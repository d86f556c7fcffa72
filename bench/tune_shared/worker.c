/* One worker of the shared-study benchmark (bench/tune_shared): opens the study named in the
 * config (MariaDB storage), waits at the start barrier, runs TRIALS ask -> objective -> tell
 * loops and prints one JSON line with its trial count, wall time and per-trial latencies.
 *
 *   worker CONFIG_JSON TRIALS [SYNC_DIR INDEX]
 *
 * With SYNC_DIR the run is coordinated by files in that directory (bench.py drives it):
 *   the worker opens the study, creates SYNC_DIR/ready.INDEX, waits for SYNC_DIR/go, runs
 *   its trials, prints its JSON line, writes its per-trial latencies (ms, one a line) to
 *   SYNC_DIR/lat.INDEX, creates SYNC_DIR/done.INDEX, waits for SYNC_DIR/exit
 *   and only then frees the study (so the server's counters read between "go" and the last
 *   "done" hold the trials and nothing else: no connect, no disconnect).
 * Without SYNC_DIR it starts at once.
 *
 * The objective is a 2-D sphere (x^2 + y^2), a few nanoseconds: the benchmark measures the
 * storage. Latency per trial = ask (with parsing the parameters) + tell, objective excluded.
 *
 * Build: cc -O2 -std=c11 -I include bench/tune_shared/worker.c -L target/gaia/lib -lgaia \
 *        -Wl,-rpath,target/gaia/lib -o worker            (run.sh does it)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gaia.h"

static void check(gaia_status status, const char *what) {
  if (status != GAIA_OK) {
    fprintf(stderr, "worker: %s failed: %s: %s\n", what, gaia_status_name(status),
            gaia_last_error());
    exit(1);
  }
}

/* A failed database call (GAIA_ERR_IO: a deadlock with another client of the same tables,
 * a dropped connection) is repeated, as a real worker would: the procedures roll back on
 * error and a repeated tell is accepted. Retries are counted and reported; the time they take
 * stays in the trial's latency. Any other error, or MAX_RETRIES in a row, ends the worker. */
#define MAX_RETRIES 5
static long retries = 0;
static char last_retry_error[512] = "";

static int retryable(gaia_status status, const char *what, int attempt) {
  if (status == GAIA_OK) return 0;
  if (status == GAIA_ERR_IO && attempt < MAX_RETRIES) {
    snprintf(last_retry_error, sizeof last_retry_error, "%s: %s", what, gaia_last_error());
    fprintf(stderr, "worker: retrying after %s\n", last_retry_error);
    retries++;
    return 1;
  }
  check(status, what);
  return 0;
}

/* s as the body of a JSON string (quotes, backslashes and control characters escaped). */
static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void touch(const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "worker: cannot create %s: %s\n", path, strerror(errno));
    exit(1);
  }
  fclose(f);
}

/* Polls every `ms` milliseconds (1 for the start: the skew between workers stays about a
 * millisecond; longer for the end, so finished workers do not steal CPU from running ones). */
static void wait_for(const char *path, long ms) {
  const struct timespec pause = {0, ms * 1000000L};
  while (!exists(path)) nanosleep(&pause, NULL);
}

/* The value of "name" in a flat JSON object of numbers ({"x": 1.5, "y": -2}). */
static double param(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\"", name);
  const char *p = strstr(json, key);
  if (p == NULL) {
    fprintf(stderr, "worker: parameter %s missing in %s\n", name, json);
    exit(1);
  }
  p = strchr(p + strlen(key), ':');
  if (p == NULL) {
    fprintf(stderr, "worker: malformed parameters %s\n", json);
    exit(1);
  }
  return strtod(p + 1, NULL);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, in milliseconds. */
static double pct_ms(const double *sorted, size_t n, double q) {
  if (n == 0) return 0.0;
  size_t rank = (size_t)(q / 100.0 * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1] * 1e3;
}

static void print_dist(const char *name, double *v, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += v[i];
  qsort(v, n, sizeof *v, cmp_double);
  printf("\"%s\": {\"mean\": %.4f, \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f}",
         name, n ? sum / (double)n * 1e3 : 0.0, pct_ms(v, n, 50), pct_ms(v, n, 90),
         pct_ms(v, n, 99), n ? v[n - 1] * 1e3 : 0.0);
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 5) {
    fprintf(stderr, "usage: %s CONFIG_JSON TRIALS [SYNC_DIR INDEX]\n", argv[0]);
    return 2;
  }
  const char *config = argv[1];
  long trials = strtol(argv[2], NULL, 10);
  const char *dir = argc == 5 ? argv[3] : NULL;
  const char *index = argc == 5 ? argv[4] : "0";
  if (trials <= 0) {
    fprintf(stderr, "worker: TRIALS must be positive\n");
    return 2;
  }
  if (gaia_abi_version() != GAIA_ABI_VERSION) {
    fprintf(stderr, "worker: libgaia ABI %u, header %d\n", gaia_abi_version(), GAIA_ABI_VERSION);
    return 1;
  }
  char path[4096];

  double t_open = mono_s();
  gaia_study *study = NULL;
  check(gaia_study_new(config, &study), "gaia_study_new");
  double open_s = mono_s() - t_open;

  double *lat = malloc(sizeof(double) * (size_t)trials);
  double *ask = malloc(sizeof(double) * (size_t)trials);
  double *tell = malloc(sizeof(double) * (size_t)trials);
  double *raw = malloc(sizeof(double) * (size_t)trials);
  if (lat == NULL || ask == NULL || tell == NULL || raw == NULL) {
    fprintf(stderr, "worker: out of memory\n");
    return 1;
  }

  if (dir != NULL) {
    snprintf(path, sizeof path, "%s/ready.%s", dir, index);
    touch(path);
    snprintf(path, sizeof path, "%s/go", dir);
    wait_for(path, 1);
  }

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double start_wall = wall_s(), start = mono_s();
  double best = 1e300, sink = 0.0;
  for (long i = 0; i < trials; i++) {
    uint64_t id = 0;
    char *params = NULL;
    double t0 = mono_s();
    for (int a = 0; retryable(gaia_study_ask(study, &id, &params), "gaia_study_ask", a); a++) {
    }
    double x = param(params, "x"), y = param(params, "y");
    gaia_string_free(params);
    double t1 = mono_s();
    double value = x * x + y * y; /* the objective: not timed */
    double t2 = mono_s();
    for (int a = 0; retryable(gaia_study_tell(study, id, value, GAIA_TRIAL_COMPLETE),
                              "gaia_study_tell", a);
         a++) {
    }
    double t3 = mono_s();
    ask[i] = t1 - t0;
    tell[i] = t3 - t2;
    lat[i] = raw[i] = ask[i] + tell[i];
    if (value < best) best = value;
    sink += value;
  }
  double elapsed = mono_s() - start, end_wall = start_wall + elapsed;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                    (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-6;
  double cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                   (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-6;

  printf("{\"side\": \"gaia\", \"worker\": %s, \"pid\": %ld, \"trials\": %ld, "
         "\"open_s\": %.6f, \"start_unix\": %.6f, \"end_unix\": %.6f, \"elapsed_s\": %.6f, "
         "\"trials_per_s\": %.2f, \"cpu_user_s\": %.3f, \"cpu_sys_s\": %.3f, \"best\": %.6g, "
         "\"retries\": %ld, \"last_retry_error\": ",
         index, (long)getpid(), trials, open_s, start_wall, end_wall, elapsed,
         (double)trials / elapsed, cpu_user, cpu_sys, best, retries);
  print_json_string(last_retry_error);
  printf(", ");
  print_dist("latency_ms", lat, (size_t)trials);
  printf(", ");
  print_dist("ask_ms", ask, (size_t)trials);
  printf(", ");
  print_dist("tell_ms", tell, (size_t)trials);
  printf("}\n");
  fflush(stdout);
  if (sink != sink) fprintf(stderr, "worker: NaN objective\n");

  if (dir != NULL) {
    /* The raw per-trial latencies (ms, in trial order), for pooled percentiles. */
    snprintf(path, sizeof path, "%s/lat.%s", dir, index);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
      fprintf(stderr, "worker: cannot create %s: %s\n", path, strerror(errno));
      return 1;
    }
    for (long i = 0; i < trials; i++) fprintf(f, "%.4f\n", raw[i] * 1e3);
    fclose(f);
    snprintf(path, sizeof path, "%s/done.%s", dir, index);
    touch(path);
    snprintf(path, sizeof path, "%s/exit", dir);
    wait_for(path, 50);
  }
  gaia_study_free(study);
  free(lat);
  free(ask);
  free(tell);
  free(raw);
  return 0;
}
