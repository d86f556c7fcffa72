/* Replays tests/vectors/bandit.json through the C ABI: every choice, error code, arm list
 * and stats text must match exactly, and a failed call must leave the bandit unchanged. */
#include <stdint.h>
#include <stdlib.h>

#include "gaia.h"
#include "check.h"
#include "vectors.h"

static char *save_copy(const gaia_bandit *b) {
  char *s = NULL;
  CHECK_STATUS(gaia_bandit_save(b, &s), GAIA_OK);
  return s;
}

static void replay(const vector_case *c) {
  gaia_bandit *b = NULL;
  CHECK_STATUS(gaia_bandit_new(c->config_json, &b), GAIA_OK);
  if (!b) return;
  for (size_t i = 0; i < c->step_count; i++) {
    const vector_step *s = &c->steps[i];
    char *before = save_copy(b);
    gaia_status st = GAIA_OK;
    char *text = NULL;
    if (strcmp(s->op, "choose") == 0) {
      st = gaia_bandit_choose_name(b, &text);
      if (st == GAIA_OK) CHECK_STR(text, s->expect);
    } else if (strcmp(s->op, "ask") == 0) {
      uint64_t ticket = 0;
      size_t arm = 0;
      st = gaia_bandit_ask(b, s->context, s->context_len, &ticket, &arm);
      if (st == GAIA_OK) {
        CHECK(ticket == s->ticket, "%s step %zu: ticket %llu, want %llu", c->name, i,
              (unsigned long long)ticket, s->ticket);
        CHECK_STATUS(gaia_bandit_arm_name(b, arm, &text), GAIA_OK);
        CHECK_STR(text, s->expect);
      }
    } else if (strcmp(s->op, "tell") == 0) {
      st = gaia_bandit_tell(b, s->ticket, s->reward);
    } else if (strcmp(s->op, "update") == 0) {
      st = gaia_bandit_update(b, s->arm, s->reward);
    } else if (strcmp(s->op, "add_arm") == 0) {
      st = gaia_bandit_add_arm(b, s->arm);
    } else if (strcmp(s->op, "remove_arm") == 0) {
      st = gaia_bandit_remove_arm(b, s->arm);
    } else if (strcmp(s->op, "save_load") == 0) {
      gaia_bandit *loaded = NULL;
      st = gaia_bandit_load(before, &loaded);
      if (st == GAIA_OK) {
        gaia_bandit_free(b);
        b = loaded;
      }
    } else if (strcmp(s->op, "arms") == 0) {
      size_t n = 0;
      char joined[4096] = "";
      CHECK_STATUS(gaia_bandit_arm_count(b, &n), GAIA_OK);
      for (size_t k = 0; k < n; k++) {
        char *name = NULL;
        CHECK_STATUS(gaia_bandit_arm_name(b, k, &name), GAIA_OK);
        if (k) strncat(joined, "\n", sizeof joined - strlen(joined) - 1);
        if (name) strncat(joined, name, sizeof joined - strlen(joined) - 1);
        gaia_string_free(name);
      }
      CHECK_STR(joined, s->expect);
    } else if (strcmp(s->op, "stats") == 0) {
      st = gaia_bandit_stats_json(b, &text);
      if (st == GAIA_OK) CHECK_STR(text, s->expect);
    } else {
      CHECK(0, "unknown op %s", s->op);
    }
    CHECK(st == s->code, "%s step %zu (%s %s): status %s, want %d", c->name, i, s->op,
          s->arm ? s->arm : "", gaia_status_name(st), s->code);
    if (s->code != 0) {
      CHECK(strlen(gaia_last_error()) > 0, "no message for a failure");
      char *after = save_copy(b);
      CHECK(after && before && strcmp(before, after) == 0, "%s step %zu changed the bandit", c->name, i);
      gaia_string_free(after);
    }
    gaia_string_free(text);
    gaia_string_free(before);
  }
  gaia_bandit_free(b);
}

int main(void) {
  for (size_t i = 0; i < vector_case_count; i++) replay(&vector_cases[i]);
  CHECK(vector_case_count >= 4, "only %zu vector cases", vector_case_count);
  return done("test_vectors");
}
