/* Replays tests/vectors/mcts_ab.json through the C ABI: every trial handed out, every new
 * node id, every error code and the final tree (top_k, a node, the node count) must match. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>

#include "gaia.h"
#include "check.h"
#include "mcts_vectors.h"

static void replay(const mcts_case *c) {
  gaia_mcts *m = NULL;
  CHECK_STATUS(gaia_mcts_new(c->config_json, &m), GAIA_OK);
  if (!m) return;
  for (size_t i = 0; i < c->step_count; i++) {
    const mcts_step *s = &c->steps[i];
    gaia_status st = GAIA_OK;
    if (strcmp(s->op, "ask") == 0) {
      gaia_mcts_trial t[8];
      size_t n = 0;
      CHECK(s->arg >= 0 && s->arg <= 8, "ask of %ld does not fit the buffer", s->arg);
      st = gaia_mcts_ask(m, s->arg > 8 ? 8 : (size_t)s->arg, t, &n);
      char got[512] = "";
      for (size_t k = 0; st == GAIA_OK && k < n; k++) {
        char *name = NULL;
        gaia_mcts_action_name(m, t[k].action, &name);
        char row[96];
        snprintf(row, sizeof row, "%s%" PRIu64 ":%u:%s", k ? ";" : "", t[k].trial_id, t[k].node, name ? name : "?");
        strncat(got, row, sizeof got - strlen(got) - 1);
        gaia_string_free(name);
      }
      CHECK(strcmp(got, s->expect) == 0, "%s step %zu: asked %s, want %s", c->name, i, got, s->expect);
    } else if (strcmp(s->op, "tell") == 0) {
      uint32_t node = UINT32_MAX;
      if (s->payload_kind == 1) {
        st = gaia_mcts_tell_id(m, s->trial, s->score, s->payload_id, &node);
      } else if (s->payload_kind == 2) {
        st = gaia_mcts_tell(m, s->trial, s->score, (const uint8_t *)s->payload_text, strlen(s->payload_text), &node);
      } else {
        st = gaia_mcts_tell(m, s->trial, s->score, NULL, 0, &node);
      }
      if (st == GAIA_OK && s->expect_number >= 0)
        CHECK((long)node == s->expect_number, "%s step %zu: node %u, want %ld", c->name, i, node, s->expect_number);
    } else if (strcmp(s->op, "abandon") == 0) {
      st = gaia_mcts_abandon(m, s->trial);
    } else if (strcmp(s->op, "save_load") == 0) {
      uint8_t *bytes = NULL;
      size_t len = 0;
      CHECK_STATUS(gaia_mcts_save(m, &bytes, &len), GAIA_OK);
      gaia_mcts *loaded = NULL;
      st = gaia_mcts_load(bytes, len, &loaded);
      gaia_bytes_free(bytes, len);
      if (st == GAIA_OK) {
        gaia_mcts_free(m);
        m = loaded;
      }
    } else if (strcmp(s->op, "top_k") == 0 || strcmp(s->op, "node") == 0) {
      char *json = NULL;
      st = s->op[0] == 't' ? gaia_mcts_top_k_json(m, (size_t)s->arg, &json)
                           : gaia_mcts_node_json(m, (uint32_t)s->arg, &json);
      CHECK(json && strcmp(json, s->expect) == 0, "%s step %zu: %s\n  got  %s\n  want %s", c->name, i, s->op,
            json ? json : "(null)", s->expect);
      gaia_string_free(json);
    } else if (strcmp(s->op, "node_count") == 0) {
      size_t n = 0;
      st = gaia_mcts_node_count(m, &n);
      CHECK((long)n == s->expect_number, "%s: %zu nodes, want %ld", c->name, n, s->expect_number);
    } else {
      CHECK(0, "unknown op %s", s->op);
    }
    CHECK(st == (gaia_status)s->code, "%s step %zu (%s): %s, want code %d", c->name, i, s->op, gaia_status_name(st), s->code);
  }
  gaia_mcts_free(m);
}

int main(void) {
  for (size_t i = 0; i < mcts_case_count; i++) replay(&mcts_cases[i]);
  CHECK(mcts_case_count >= 8, "%zu cases", mcts_case_count);
  return done("test_mcts_vectors");
}
