/* ns per choose + update round trip through the C ABI (the floor every binding adds to). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gaia.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  gaia_bandit *b = NULL;
  if (gaia_bandit_new("{\"arms\":[\"a\",\"b\",\"c\"],\"seed\":1}", &b) != GAIA_OK) return 1;
  size_t i = 0;
  double sink = 0;
  for (long k = 0; k < n / 10; k++) { /* warm-up */
    gaia_bandit_choose(b, &i);
    gaia_bandit_update_index(b, i, (double)(k & 1));
  }
  double t0 = now();
  for (long k = 0; k < n; k++) {
    gaia_bandit_choose(b, &i);
    gaia_bandit_update_index(b, i, (double)(k & 1));
    sink += (double)i;
  }
  double by_index = (now() - t0) / n;
  const char *names[3] = {"a", "b", "c"};
  t0 = now();
  for (long k = 0; k < n; k++) {
    gaia_bandit_choose(b, &i);
    gaia_bandit_update(b, names[i], (double)(k & 1));
  }
  double by_name = (now() - t0) / n;
  gaia_bandit_free(b);
  printf("c %.0f\n", by_index);
  printf("c-by-name %.0f\n", by_name);

  /* mcts ask + tell round trip: repeated sampling keeps the engine's own work constant. */
  long m = n / 10;
  gaia_mcts *s = NULL;
  if (gaia_mcts_new("{\"algorithm\":\"repeated_sampling\",\"actions\":[\"a\",\"b\"],\"seed\":1}", &s) != GAIA_OK) return 1;
  gaia_mcts_trial t;
  size_t got = 0;
  t0 = now();
  for (long k = 0; k < m; k++) {
    gaia_mcts_ask(s, 1, &t, &got);
    gaia_mcts_tell(s, t.trial_id, (double)(k & 7) / 8.0, NULL, 0, NULL);
  }
  printf("c-mcts %.0f\n", (now() - t0) / m);
  gaia_mcts_free(s);
  return sink < 0;
}
