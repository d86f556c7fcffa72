/* Types of the generated build/study_vectors.h. */
#ifndef GAIA_STUDY_VECTOR_TYPES_H
#define GAIA_STUDY_VECTOR_TYPES_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *op;       /* enqueue, ask, tell, save_load, best, importance, trials */
  uint64_t id;          /* ask: the expected id; tell: the trial */
  double value;         /* tell */
  int state;            /* tell: gaia_trial_state */
  const char *arg;      /* enqueue: params JSON; tell: constraints JSON (NULL: none) */
  const char *expect;   /* ask: params JSON; best, importance, trials: exact JSON */
  int code;             /* expected status; 0 = GAIA_OK */
} study_step;

typedef struct {
  const char *name;
  const char *config_json;
  const study_step *steps;
  size_t step_count;
} study_case;

#endif
