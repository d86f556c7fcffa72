/* Types of the generated build/study_vectors.h. */
#ifndef GAIA_STUDY_VECTOR_TYPES_H
#define GAIA_STUDY_VECTOR_TYPES_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *op;       /* enqueue, ask, tell, report, should_prune, save_load, best,
                           importance, trials */
  uint64_t id;          /* ask: the expected id; tell, report, should_prune: the trial */
  double value;         /* tell, report */
  int state;            /* tell: gaia_trial_state */
  const char *arg;      /* enqueue: params JSON; tell: constraints JSON (NULL: none) */
  const char *expect;   /* ask: params JSON; best, importance, trials: exact JSON;
                           should_prune: "true" or "false" */
  int code;             /* expected status; 0 = GAIA_OK */
  uint64_t step;        /* report */
  int n_values;         /* tell: -1 for a single value, else the number of values */
  double values[4];     /* tell of several objectives */
} study_step;

typedef struct {
  const char *name;
  const char *config_json;
  const study_step *steps;
  size_t step_count;
} study_case;

#endif
