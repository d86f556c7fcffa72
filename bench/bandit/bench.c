/* bench/bandit through the C ABI (libgaia.so): Thompson sampling ask + tell over 16 beta arms,
 * LinTS ask / tell over 32 features (4 and 16 arms). Prints JSON lines as the Rust example
 * does, with "impl": "gaia-c". Usage: bench [iterations] */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gaia.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t state = 88172645463325252ull;
static double uniform(void) {
  state ^= state << 13; state ^= state >> 7; state ^= state << 17;
  return (double)(state >> 11) / 9007199254740992.0;
}

static void die(gaia_status st, const char *what) {
  if (st != GAIA_OK) {
    fprintf(stderr, "%s: %s\n", what, gaia_last_error());
    exit(1);
  }
}

static void line(const char *c, int arms, int features, double seconds, long n) {
  printf("{\"impl\": \"gaia-c\", \"case\": \"%s\", \"arms\": %d, \"features\": %d, \"us\": %.4f}\n", c,
         arms, features, seconds * 1e6 / (double)n);
}

static char *config(char *buf, size_t size, int k, const char *extra) {
  int used = snprintf(buf, size, "{\"arms\":[");
  for (int i = 0; i < k; i++) used += snprintf(buf + used, size - (size_t)used, "%s\"arm%d\"", i ? "," : "", i);
  snprintf(buf + used, size - (size_t)used, "],\"seed\":1%s}", extra);
  return buf;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  char buf[4096];
  gaia_bandit *b = NULL;
  uint64_t ticket = 0;
  size_t arm = 0;

  die(gaia_bandit_new(config(buf, sizeof buf, 16, ""), &b), "new");
  for (long i = 0; i < n / 10; i++) {
    die(gaia_bandit_ask(b, NULL, 0, &ticket, &arm), "ask");
    die(gaia_bandit_tell(b, ticket, uniform() < 0.2 + 0.6 * (double)arm / 16 ? 1.0 : 0.0), "tell");
  }
  double start = now();
  for (long i = 0; i < n; i++) {
    die(gaia_bandit_ask(b, NULL, 0, &ticket, &arm), "ask");
    die(gaia_bandit_tell(b, ticket, uniform() < 0.2 + 0.6 * (double)arm / 16 ? 1.0 : 0.0), "tell");
  }
  line("thompson_ask_tell", 16, 0, now() - start, n);
  gaia_bandit_free(b);

  enum { D = 32 };
  static double contexts[256][D];
  static double rewards[256];
  static uint64_t tickets[1 << 20];
  long m = n / 10 < (1 << 20) ? n / 10 : (1 << 20);
  int ks[2] = {4, 16};
  for (int r = 0; r < 2; r++) {
    for (int i = 0; i < 256; i++) {
      for (int j = 0; j < D; j++) contexts[i][j] = uniform() - 0.5;
      rewards[i] = uniform();
    }
    die(gaia_bandit_new(config(buf, sizeof buf, ks[r], ",\"policy\":\"lints\",\"features\":32,\"v\":0.5"), &b), "new");
    for (long i = 0; i < m; i++) {
      die(gaia_bandit_ask(b, contexts[i % 256], D, &ticket, &arm), "ask");
      die(gaia_bandit_tell(b, ticket, rewards[i % 256]), "tell");
    }
    start = now();
    for (long i = 0; i < m; i++) die(gaia_bandit_ask(b, contexts[i % 256], D, &tickets[i], &arm), "ask");
    line("lints_ask", ks[r], D, now() - start, m);
    start = now();
    for (long i = 0; i < m; i++) die(gaia_bandit_tell(b, tickets[i], rewards[i % 256]), "tell");
    line("lints_tell", ks[r], D, now() - start, m);
    start = now();
    for (long i = 0; i < m; i++) {
      die(gaia_bandit_ask(b, contexts[i % 256], D, &ticket, &arm), "ask");
      die(gaia_bandit_tell(b, ticket, rewards[i % 256]), "tell");
    }
    line("lints_ask_tell", ks[r], D, now() - start, m);
    gaia_bandit_free(b);
  }
  return 0;
}
