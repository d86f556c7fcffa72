/* Types of the generated build/vectors.h. */
#ifndef GAIA_VECTOR_TYPES_H
#define GAIA_VECTOR_TYPES_H
#include <stddef.h>

typedef struct {
  const char *op;      /* choose, update, add_arm, remove_arm, save_load, arms, stats */
  const char *arm;     /* NULL when the step has none */
  double reward;
  const char *expect;  /* choose: arm; arms: names joined by '\n'; stats: exact JSON */
  int code;            /* expected status; 0 = GAIA_OK */
} vector_step;

typedef struct {
  const char *name;
  const char *config_json;
  const vector_step *steps;
  size_t step_count;
} vector_case;

#endif
