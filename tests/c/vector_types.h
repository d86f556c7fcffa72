/* Types of the generated build/vectors.h. */
#ifndef GAIA_VECTOR_TYPES_H
#define GAIA_VECTOR_TYPES_H
#include <stddef.h>

typedef struct {
  const char *op;      /* choose, update, add_arm, remove_arm, save_load, arms, stats, ask, tell */
  const char *arm;     /* NULL when the step has none */
  double reward;
  const char *expect;  /* choose, ask: arm; arms: names joined by '\n'; stats: exact JSON */
  int code;            /* expected status; 0 = GAIA_OK */
  const double *context;  /* ask: the context (NULL when none) */
  size_t context_len;
  unsigned long long ticket;  /* ask: the ticket expected; tell: the ticket told */
} vector_step;

typedef struct {
  const char *name;
  const char *config_json;
  const vector_step *steps;
  size_t step_count;
} vector_case;

#endif
