/* One reference item of tests/vectors/infer_minilm.json (see gen_infer_vectors.py). */
#ifndef GAIA_INFER_VECTOR_TYPES_H
#define GAIA_INFER_VECTOR_TYPES_H
#include <stddef.h>
#include <stdint.h>
typedef struct {
  const char *name;
  const char *text; /* UTF-8 bytes, may hold NUL */
  size_t len;
  size_t n_tokens;  /* before truncation, [CLS]/[SEP] included */
  const uint32_t *ids;
  size_t n_ids;
  const float *embedding; /* 384 floats, normalised */
} infer_item;
#endif
