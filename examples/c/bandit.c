/* Choosing an LLM with a Thompson-sampling bandit, from C.
 *
 * Build against the staged library (after `make lib`):
 *   cc -std=c11 examples/c/bandit.c $(PKG_CONFIG_PATH=target/gaia/lib/pkgconfig pkg-config --cflags --libs gaia) \
 *      -Wl,-rpath,target/gaia/lib -o bandit && ./bandit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gaia.h"

/* Print the failure and exit: a real service would log and fall back to a default. */
static void check(gaia_status status, const char *what) {
  if (status != GAIA_OK) {
    fprintf(stderr, "%s failed: %s: %s\n", what, gaia_status_name(status), gaia_last_error());
    exit(1);
  }
}

/* A stand-in for calling the model and grading the answer: success probabilities differ. */
static double fake_llm_call(const char *model, unsigned *seed) {
  double p = strcmp(model, "large") == 0 ? 0.75 : strcmp(model, "medium") == 0 ? 0.6 : 0.35;
  *seed = *seed * 1103515245u + 12345u;
  return ((*seed >> 16) & 0x7fff) / 32768.0 < p ? 1.0 : 0.0;
}

int main(void) {
  printf("libgaia %s (ABI %u)\n", gaia_version(), gaia_abi_version());
  if (gaia_abi_version() != GAIA_ABI_VERSION) return 1;

  gaia_bandit *bandit = NULL;
  check(gaia_bandit_new("{\"arms\": [\"small\", \"medium\", \"large\"], \"seed\": 42}", &bandit),
        "gaia_bandit_new");

  unsigned seed = 7;
  for (int request = 0; request < 500; request++) {
    char *model = NULL;
    check(gaia_bandit_choose_name(bandit, &model), "choose");
    check(gaia_bandit_update(bandit, model, fake_llm_call(model, &seed)), "update");
    gaia_string_free(model);

    if (request == 249) {
      /* Between requests the state can live anywhere (a cache, a file): save and reload. */
      char *state = NULL;
      check(gaia_bandit_save(bandit, &state), "save");
      gaia_bandit_free(bandit);
      check(gaia_bandit_load(state, &bandit), "load");
      printf("saved and reloaded the bandit (%zu bytes of JSON)\n", strlen(state));
      gaia_string_free(state);
    }
  }

  /* Bad input is an error code and a message, never a crash. */
  gaia_status st = gaia_bandit_update(bandit, "huge", 1.0);
  printf("update of an unknown arm: %s: %s\n", gaia_status_name(st), gaia_last_error());

  char *stats = NULL;
  check(gaia_bandit_stats_json(bandit, &stats), "stats");
  printf("stats: %s\n", stats);
  gaia_string_free(stats);
  gaia_bandit_free(bandit);
  return 0;
}
