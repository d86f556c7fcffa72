/* Studies through the C ABI: ask/tell with TPE, every kind of bad input, save/load. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gaia.h"
#include "check.h"

static const char *CONFIG =
    "{\"space\": {\"params\": ["
    "{\"name\": \"x\", \"type\": \"float\", \"low\": -5, \"high\": 5},"
    "{\"name\": \"kind\", \"type\": \"categorical\", \"choices\": [\"a\", \"b\"]}]},"
    " \"sampler\": {\"type\": \"tpe\"}, \"seed\": 7}";

/* The objective: (x - 1)^2, plus 1 when kind is "b". */
static double objective(const char *params) {
  const char *at = strstr(params, "\"x\":");
  double x = at ? strtod(at + 4, NULL) : 100.0;
  return (x - 1.0) * (x - 1.0) + (strstr(params, "\"kind\":\"b\"") ? 1.0 : 0.0);
}

static char *saved(const gaia_study *s) {
  char *out = NULL;
  CHECK_STATUS(gaia_study_save(s, &out), GAIA_OK);
  return out;
}

static void test_optimises(void) {
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new(CONFIG, &s), GAIA_OK);
  for (int i = 0; s && i < 60; i++) {
    uint64_t id = 99;
    char *params = NULL;
    CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
    CHECK(id == (uint64_t)i, "id %llu", (unsigned long long)id);
    if (params) CHECK_STATUS(gaia_study_tell(s, id, objective(params), GAIA_TRIAL_COMPLETE), GAIA_OK);
    gaia_string_free(params);
  }
  char *best = NULL;
  CHECK_STATUS(gaia_study_best_json(s, &best), GAIA_OK);
  const char *v = best ? strstr(best, "\"value\":") : NULL;
  CHECK(v && strtod(v + 8, NULL) < 0.05, "best %s", best ? best : "(null)");
  CHECK(best && strstr(best, "\"kind\":\"a\""), "best %s", best ? best : "(null)");
  gaia_string_free(best);
  char *trials = NULL;
  CHECK_STATUS(gaia_study_trials_json(s, &trials), GAIA_OK);
  CHECK(trials && trials[0] == '[' && strstr(trials, "\"id\":59"), "trials");
  gaia_string_free(trials);
  gaia_study_free(s);
}

static void test_bad_input(void) {
  gaia_study *s = (gaia_study *)&CONFIG;
  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": [{\"name\": \"top_p\", \"type\": \"float\", \"low\": 1.5, \"high\": 1.0}]}}", &s),
               GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "search space: param \"top_p\": low 1.5 > high 1.0") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_study_new("{\"space\": 3}", &s), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_study_new(NULL, &s), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_new("{\"space\":\xff}", &s), GAIA_ERR_INVALID_UTF8);
  CHECK(s == (gaia_study *)&CONFIG, "out-param written on failure");

  CHECK_STATUS(gaia_study_new(CONFIG, &s), GAIA_OK);
  char *out = NULL;
  CHECK_STATUS(gaia_study_best_json(s, &out), GAIA_ERR_INVALID_STATE);
  uint64_t id = 0;
  char *params = NULL;
  CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
  gaia_string_free(params);
  char *before = saved(s);
  CHECK_STATUS(gaia_study_tell(s, id, 1.0, 7), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "pruned (3), got 7") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_study_tell(s, 42, 1.0, GAIA_TRIAL_COMPLETE), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_study_enqueue(s, "{\"x\": 9, \"kind\": \"a\"}"), GAIA_ERR_INVALID_CONFIG);
  CHECK_STATUS(gaia_study_enqueue(s, "{\"x\": "), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_study_add_trial(s, "{\"x\": 0}", 1.0, GAIA_TRIAL_COMPLETE, &id), GAIA_ERR_INVALID_CONFIG);
  CHECK_STATUS(gaia_study_ask(s, NULL, &params), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_ask((gaia_study *)&before, &id, &params), GAIA_ERR_INVALID_HANDLE);
  CHECK_STATUS(gaia_study_tell_constraints(s, id, 1.0, GAIA_TRIAL_COMPLETE, "[1.0]"), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "declares no constraints") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_study_tell_constraints(s, id, 1.0, GAIA_TRIAL_COMPLETE, "[1.0"), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_study_importance_json(s, &out), GAIA_ERR_INVALID_STATE);
  CHECK_STATUS(gaia_study_importance_json(s, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_flush(NULL), GAIA_ERR_NULL_POINTER);
  char *after = saved(s);
  CHECK(before && after && strcmp(before, after) == 0, "refused calls changed the study");
  gaia_string_free(after);
  /* NaN is recorded as a failure, never as a value. */
  CHECK_STATUS(gaia_study_tell(s, 0, NAN, GAIA_TRIAL_COMPLETE), GAIA_OK);
  CHECK_STATUS(gaia_study_tell(s, 0, 1.0, GAIA_TRIAL_COMPLETE), GAIA_ERR_INVALID_STATE);
  char *trials = NULL;
  CHECK_STATUS(gaia_study_trials_json(s, &trials), GAIA_OK);
  CHECK(trials && strstr(trials, "\"state\":\"failed\""), "%s", trials ? trials : "(null)");
  gaia_string_free(trials);

  /* Corrupt and future saves. */
  gaia_study *l = NULL;
  char *cut = strdup(before);
  cut[strlen(cut) / 2] = '\0';
  CHECK_STATUS(gaia_study_load(cut, &l), GAIA_ERR_CORRUPT_STATE);
  char *v2 = strdup(before);
  char *at = strstr(v2, "\"version\":1");
  if (at) at[10] = '9';
  CHECK_STATUS(gaia_study_load(v2, &l), GAIA_ERR_UNSUPPORTED_VERSION);
  CHECK(l == NULL, "out-param written on failure");
  free(cut);
  free(v2);
  gaia_string_free(before);
  gaia_study_free(s);
}

static void test_save_load_continues(void) {
  gaia_study *a = NULL, *b = NULL;
  CHECK_STATUS(gaia_study_new(CONFIG, &a), GAIA_OK);
  CHECK_STATUS(gaia_study_enqueue(a, "{\"x\": 1.0, \"kind\": \"a\"}"), GAIA_OK);
  uint64_t id = 0;
  CHECK_STATUS(gaia_study_add_trial(a, "{\"x\": 2.0, \"kind\": \"b\"}", 2.0, GAIA_TRIAL_COMPLETE, &id), GAIA_OK);
  CHECK(id == 0, "add_trial id %llu", (unsigned long long)id);
  for (int i = 0; i < 15; i++) {
    char *p = NULL;
    CHECK_STATUS(gaia_study_ask(a, &id, &p), GAIA_OK);
    if (i == 0) CHECK(p && strcmp(p, "{\"kind\":\"a\",\"x\":1.0}") == 0, "enqueued first: %s", p ? p : "(null)");
    if (p) gaia_study_tell(a, id, objective(p), GAIA_TRIAL_COMPLETE);
    gaia_string_free(p);
  }
  char *s = saved(a);
  CHECK_STATUS(gaia_study_load(s, &b), GAIA_OK);
  for (int i = 0; b && i < 10; i++) {
    char *pa = NULL, *pb = NULL;
    uint64_t ia = 0, ib = 1;
    gaia_study_ask(a, &ia, &pa);
    gaia_study_ask(b, &ib, &pb);
    CHECK(ia == ib && pa && pb && strcmp(pa, pb) == 0, "ask %d differs after load", i);
    if (pa) gaia_study_tell(a, ia, objective(pa), GAIA_TRIAL_COMPLETE);
    if (pb) gaia_study_tell(b, ib, objective(pb), GAIA_TRIAL_COMPLETE);
    gaia_string_free(pa);
    gaia_string_free(pb);
  }
  gaia_string_free(s);
  gaia_study_free(a);
  gaia_study_free(b);
}

/* Minimise x subject to x >= 2 (constraint "low": 2 - x <= 0); importance ranks x first. */
static void test_constraints_and_importance(void) {
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": ["
                              "{\"name\": \"x\", \"type\": \"float\", \"low\": 0, \"high\": 10},"
                              "{\"name\": \"noise\", \"type\": \"float\", \"low\": 0, \"high\": 1}]},"
                              " \"constraints\": [\"low\"], \"sampler\": {\"type\": \"tpe\"}, \"seed\": 3}",
                              &s),
               GAIA_OK);
  for (int i = 0; s && i < 60; i++) {
    uint64_t id = 0;
    char *p = NULL;
    CHECK_STATUS(gaia_study_ask(s, &id, &p), GAIA_OK);
    const char *at = p ? strstr(p, "\"x\":") : NULL;
    double x = at ? strtod(at + 4, NULL) : 0.0;
    char c[64];
    snprintf(c, sizeof c, "{\"low\": %.17g}", 2.0 - x);
    CHECK_STATUS(gaia_study_tell_constraints(s, id, x, GAIA_TRIAL_COMPLETE, c), GAIA_OK);
    gaia_string_free(p);
  }
  uint64_t id = 0;
  char *p = NULL;
  CHECK_STATUS(gaia_study_ask(s, &id, &p), GAIA_OK);
  gaia_string_free(p);
  CHECK_STATUS(gaia_study_tell_constraints(s, id, 1.0, GAIA_TRIAL_COMPLETE, "{\"high\": 1}"), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "unknown constraint \"high\"") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_study_tell_constraints(s, id, 1.0, GAIA_TRIAL_COMPLETE, NULL), GAIA_ERR_INVALID_ARGUMENT);
  char *best = NULL;
  CHECK_STATUS(gaia_study_best_json(s, &best), GAIA_OK);
  const char *v = best ? strstr(best, "\"value\":") : NULL;
  double bv = v ? strtod(v + 8, NULL) : -1;
  CHECK(bv >= 2.0 && bv < 2.6, "best feasible %s", best ? best : "(null)");
  CHECK(best && strstr(best, "\"feasible\":true"), "%s", best ? best : "(null)");
  gaia_string_free(best);
  char *imp = NULL;
  CHECK_STATUS(gaia_study_importance_json(s, &imp), GAIA_OK);
  CHECK(imp && strncmp(imp, "[{\"importance\":", 15) == 0 && strstr(imp, "\"param\":\"x\"") < strstr(imp, "noise"),
        "importance %s", imp ? imp : "(null)");
  gaia_string_free(imp);
  gaia_study_free(s);
}

/* Four processes (fork) share one journal study; the parent then sees every trial once. */
static void test_journal_across_processes(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/gaia-c-journal-%d.jsonl", (int)getpid());
  unlink(path);
  char config[512];
  snprintf(config, sizeof config,
           "{\"space\": {\"params\": [{\"name\": \"x\", \"type\": \"float\", \"low\": -5, \"high\": 5}]},"
           " \"sampler\": {\"type\": \"tpe\"}, \"storage\": \"journal:%s\"}",
           path);
  pid_t kids[4];
  for (int k = 0; k < 4; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      gaia_study *s = NULL;
      if (gaia_study_new(config, &s) != GAIA_OK) _exit(2);
      for (int i = 0; i < 25; i++) {
        uint64_t id = 0;
        char *p = NULL;
        if (gaia_study_ask(s, &id, &p) != GAIA_OK) _exit(3);
        const char *at = strstr(p, "\"x\":");
        double x = at ? strtod(at + 4, NULL) : 0.0;
        gaia_string_free(p);
        if (gaia_study_tell(s, id, (x - 1) * (x - 1), GAIA_TRIAL_COMPLETE) != GAIA_OK) _exit(4);
      }
      if (gaia_study_flush(s) != GAIA_OK) _exit(5);
      gaia_study_free(s);
      _exit(0);
    }
  }
  for (int k = 0; k < 4; k++) {
    int status = -1;
    waitpid(kids[k], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d status %d", k, status);
  }
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new(config, &s), GAIA_OK);
  char *trials = NULL;
  CHECK_STATUS(gaia_study_trials_json(s, &trials), GAIA_OK);
  CHECK(trials && strstr(trials, "\"id\":99,") && !strstr(trials, "\"id\":100,") && !strstr(trials, "running"),
        "100 complete trials expected");
  gaia_string_free(trials);
  gaia_study_free(s);
  /* Another study's space on the same file is refused, naming the file. */
  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": []}, \"storage\": \"journal:/tmp/gaia-c-none/x\"}", &s),
               GAIA_ERR_IO);
  unlink(path);
}

/* Two objectives (quality up, cost down): vectors in, the Pareto front out. */
static void test_several_objectives(void) {
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": [{\"name\": \"x\", \"type\": \"float\", \"low\": 0, \"high\": 2}]},"
                              " \"directions\": [\"maximize\", \"minimize\"], \"sampler\": {\"type\": \"nsga2\", \"population_size\": 8},"
                              " \"seed\": 3}", &s), GAIA_OK);
  for (int i = 0; i < 24; i++) {
    uint64_t id = 0;
    char *params = NULL;
    CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
    double x = 0;
    const char *at = params ? strstr(params, "\"x\":") : NULL;
    if (at) x = strtod(at + 4, NULL);
    double v[2] = {x, x * x};
    CHECK_STATUS(gaia_study_tell_values(s, id, v, 2, GAIA_TRIAL_COMPLETE, NULL), GAIA_OK);
    gaia_string_free(params);
  }
  /* A dominated injected trial (low quality, high cost) is not on the front. */
  double worse[2] = {-1.0, 100.0};
  uint64_t added = 0;
  CHECK_STATUS(gaia_study_add_trial_values(s, "{\"x\": 1.0}", worse, 2, GAIA_TRIAL_COMPLETE, &added), GAIA_OK);
  CHECK(added == 24, "added id %llu", (unsigned long long)added);
  char *best = NULL;
  CHECK_STATUS(gaia_study_best_json(s, &best), GAIA_OK);
  CHECK(best && best[0] == '[' && strstr(best, "\"values\":[") && !strstr(best, "\"id\":24,"), "%s", best ? best : "(null)");
  gaia_string_free(best);

  uint64_t id = 0;
  char *params = NULL;
  CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
  gaia_string_free(params);
  char *before = saved(s);
  double one[1] = {0.5};
  CHECK_STATUS(gaia_study_tell_values(s, id, one, 1, GAIA_TRIAL_COMPLETE, NULL), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "2 objectives") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_study_tell(s, id, 0.5, GAIA_TRIAL_COMPLETE), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_study_tell_values(s, id, NULL, 2, GAIA_TRIAL_COMPLETE, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_report(s, id, 1, 0.5), GAIA_ERR_INVALID_STATE);
  CHECK_STATUS(gaia_study_add_trial_values(s, "{\"x\": 1.0}", worse, 2, GAIA_TRIAL_COMPLETE, NULL), GAIA_ERR_NULL_POINTER);
  char *after = saved(s);
  CHECK(before && after && strcmp(before, after) == 0, "refused calls changed the study");
  gaia_string_free(before);
  gaia_string_free(after);
  double nan2[2] = {NAN, 1.0};
  CHECK_STATUS(gaia_study_tell_values(s, id, nan2, 2, GAIA_TRIAL_COMPLETE, NULL), GAIA_OK);
  CHECK_STATUS(gaia_study_tell_values(s, id, nan2, 2, GAIA_TRIAL_COMPLETE, NULL), GAIA_ERR_INVALID_STATE);
  gaia_study_free(s);

  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": [{\"name\": \"x\", \"type\": \"float\", \"low\": 0, \"high\": 1}]},"
                              " \"directions\": [\"maximize\", \"minimize\"], \"sampler\": {\"type\": \"cmaes\"}}", &s),
               GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "one objective") != NULL, "%s", gaia_last_error());
}

/* A median pruner stops a trial whose curve is worse than the finished ones'. */
static void test_pruning(void) {
  gaia_study *s = NULL;
  CHECK_STATUS(gaia_study_new("{\"space\": {\"params\": [{\"name\": \"x\", \"type\": \"float\", \"low\": 0, \"high\": 1}]},"
                              " \"pruner\": {\"type\": \"median\", \"n_startup_trials\": 2}, \"seed\": 1}", &s), GAIA_OK);
  for (int t = 0; t < 3; t++) {
    uint64_t id = 0;
    char *params = NULL;
    CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
    gaia_string_free(params);
    double level = t < 2 ? 1.0 + t : 10.0; /* the third is far worse */
    bool prune = false;
    int step = 0;
    for (; step < 5 && !prune; step++) {
      CHECK_STATUS(gaia_study_report(s, id, (uint64_t)step, level / (step + 1)), GAIA_OK);
      CHECK_STATUS(gaia_study_should_prune(s, id, &prune), GAIA_OK);
    }
    CHECK(prune == (t == 2), "trial %d: prune %d at step %d", t, prune, step);
    CHECK_STATUS(gaia_study_tell(s, id, level, prune ? GAIA_TRIAL_PRUNED : GAIA_TRIAL_COMPLETE), GAIA_OK);
    if (t == 2) {
      CHECK_STATUS(gaia_study_report(s, id, 9, 1.0), GAIA_ERR_INVALID_STATE);
      CHECK_STATUS(gaia_study_should_prune(s, id, &prune), GAIA_ERR_INVALID_STATE);
    }
  }
  uint64_t id = 0;
  char *params = NULL;
  CHECK_STATUS(gaia_study_ask(s, &id, &params), GAIA_OK);
  gaia_string_free(params);
  bool prune = true;
  CHECK_STATUS(gaia_study_should_prune(s, id, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_should_prune(s, 99, &prune), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_study_should_prune(s, id, &prune), GAIA_OK);
  CHECK(!prune, "no report, no pruning");
  CHECK_STATUS(gaia_study_report(s, id, 0, NAN), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_study_report(s, id, (uint64_t)1 << 40, 1.0), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_study_report(s, 99, 0, 1.0), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_study_report(NULL, id, 0, 1.0), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_study_report((gaia_study *)&prune, id, 0, 1.0), GAIA_ERR_INVALID_HANDLE);
  char *trials = NULL;
  CHECK_STATUS(gaia_study_trials_json(s, &trials), GAIA_OK);
  CHECK(trials && strstr(trials, "\"intermediate\":[[0,10.0]]"), "%s", trials ? trials : "(null)");
  gaia_string_free(trials);
  gaia_study_free(s);
}

int main(void) {
  test_optimises();
  test_constraints_and_importance();
  test_journal_across_processes();
  test_bad_input();
  test_save_load_continues();
  test_several_objectives();
  test_pruning();
  return done("test_study");
}
