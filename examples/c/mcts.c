/* AB-MCTS from C: ask for expansions, call the (simulated) model, tell the graded answers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gaia.h"

static double cap_of[1024], score_of[1024];

static double uniform(void) { return (double)rand() / ((double)RAND_MAX + 1.0); }

int main(void) {
  gaia_mcts *search = NULL;
  if (gaia_mcts_new("{\"actions\": [\"draft\"], \"seed\": 3}", &search) != GAIA_OK) {
    fprintf(stderr, "gaia_mcts_new: %s\n", gaia_last_error());
    return 1;
  }
  srand(3);
  for (int step = 0; step < 200; step++) {
    gaia_mcts_trial t;
    size_t n = 0;
    if (gaia_mcts_ask(search, 1, &t, &n) != GAIA_OK) {
      fprintf(stderr, "gaia_mcts_ask: %s\n", gaia_last_error());
      return 1;
    }
    double cap, score;
    if (t.node == 0) { /* a first answer */
      cap = uniform() * uniform();
      score = cap * (0.3 + 0.5 * uniform());
    } else { /* refine answer t.node */
      cap = cap_of[t.node];
      score = score_of[t.node] + 0.3 * (cap - score_of[t.node]) * uniform();
    }
    uint32_t node = 0;
    if (gaia_mcts_tell_id(search, t.trial_id, score, (uint64_t)step, &node) != GAIA_OK) {
      fprintf(stderr, "gaia_mcts_tell_id: %s\n", gaia_last_error());
      return 1;
    }
    if (node < 1024) {
      cap_of[node] = cap;
      score_of[node] = score;
    }
  }
  char *top = NULL;
  gaia_mcts_top_k_json(search, 1, &top);
  printf("best of 200 answers: %s\n", top ? top : "(none)");
  gaia_string_free(top);
  gaia_mcts_free(search);
  return 0;
}
