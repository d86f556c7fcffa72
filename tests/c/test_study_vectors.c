/* Replays tests/vectors/tune_study.json through the C ABI: every proposal (exact JSON),
 * every error code, the best trial, the importances and the trials must match. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>

#include "gaia.h"
#include "check.h"
#include "study_vectors.h"

static void replay(const study_case *c) {
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new(c->config_json, &s), GAIA_OK);
  if (!s) return;
  for (size_t i = 0; i < c->step_count; i++) {
    const study_step *st = &c->steps[i];
    gaia_status r = GAIA_OK;
    char *text = NULL;
    if (strcmp(st->op, "enqueue") == 0) {
      r = gaia_study_enqueue(s, st->arg);
    } else if (strcmp(st->op, "ask") == 0) {
      uint64_t id = UINT64_MAX;
      r = gaia_study_ask(s, &id, &text);
      CHECK(id == st->id, "%s step %zu: id %" PRIu64 ", want %" PRIu64, c->name, i, id, st->id);
      CHECK(text && strcmp(text, st->expect) == 0, "%s step %zu: asked %s, want %s", c->name, i,
            text ? text : "(null)", st->expect);
    } else if (strcmp(st->op, "tell") == 0 && st->n_values >= 0) {
      r = gaia_study_tell_values(s, st->id, st->n_values ? st->values : NULL, (size_t)st->n_values, st->state,
                                 st->arg);
    } else if (strcmp(st->op, "tell") == 0) {
      r = st->arg ? gaia_study_tell_constraints(s, st->id, st->value, st->state, st->arg)
                  : gaia_study_tell(s, st->id, st->value, st->state);
    } else if (strcmp(st->op, "report") == 0) {
      r = gaia_study_report(s, st->id, st->step, st->value);
    } else if (strcmp(st->op, "should_prune") == 0) {
      bool prune = false;
      r = gaia_study_should_prune(s, st->id, &prune);
      CHECK(strcmp(prune ? "true" : "false", st->expect) == 0, "%s step %zu: should_prune %d, want %s", c->name, i,
            prune, st->expect);
    } else if (strcmp(st->op, "save_load") == 0) {
      char *saved = NULL;
      CHECK_STATUS(gaia_study_save(s, &saved), GAIA_OK);
      gaia_study *loaded = NULL;
      r = gaia_study_load(saved, &loaded);
      gaia_string_free(saved);
      if (r == GAIA_OK) {
        gaia_study_free(s);
        s = loaded;
      }
    } else if (strcmp(st->op, "best") == 0 || strcmp(st->op, "importance") == 0 ||
               strcmp(st->op, "trials") == 0) {
      r = st->op[0] == 'b' ? gaia_study_best_json(s, &text)
          : st->op[0] == 'i' ? gaia_study_importance_json(s, &text)
                             : gaia_study_trials_json(s, &text);
      CHECK(text && st->expect && strcmp(text, st->expect) == 0, "%s step %zu: %s\n  got  %s\n  want %s", c->name, i,
            st->op, text ? text : "(null)", st->expect ? st->expect : "(null)");
    } else {
      CHECK(0, "unknown op %s", st->op);
    }
    gaia_string_free(text);
    CHECK(r == (gaia_status)st->code, "%s step %zu (%s): %s, want code %d", c->name, i, st->op, gaia_status_name(r),
          st->code);
  }
  gaia_study_free(s);
}

int main(void) {
  for (size_t i = 0; i < study_case_count; i++) replay(&study_cases[i]);
  CHECK(study_case_count >= 10, "%zu cases", study_case_count);
  return done("test_study_vectors");
}
