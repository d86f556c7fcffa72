/* Types of the generated build/mcts_vectors.h. */
#ifndef GAIA_MCTS_VECTOR_TYPES_H
#define GAIA_MCTS_VECTOR_TYPES_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *op;           /* ask, tell, abandon, save_load, top_k, node, node_count */
  long arg;                 /* ask: n; top_k: k; node: the node id */
  uint64_t trial;           /* tell, abandon */
  double score;             /* tell */
  int payload_kind;         /* tell: 0 none, 1 id, 2 text */
  uint64_t payload_id;
  const char *payload_text;
  const char *expect;       /* ask: "trial:node:action;..."; top_k, node: exact JSON */
  long expect_number;       /* tell: the new node (-1: not checked); node_count */
  int code;                 /* expected status; 0 = GAIA_OK */
} mcts_step;

typedef struct {
  const char *name;
  const char *config_json;
  const mcts_step *steps;
  size_t step_count;
} mcts_case;

#endif
