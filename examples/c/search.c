/* Semantic search from C: embed a small document set with all-MiniLM-L6-v2, index it,
 * and answer a few questions.  Build: see scripts/demo.sh (pkg-config gaia). */
#include <gaia.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOCS 64

static int fail(const char *what, gaia_status s) {
  fprintf(stderr, "%s failed: %s: %s\n", what, gaia_status_name(s), gaia_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *model = getenv("GAIA_MODEL_DIR");
  if (!model) model = "target/models/all-MiniLM-L6-v2";
  const char *docs_path = argc > 1 ? argv[1] : "examples/data/docs.txt";

  /* Read one document per line. */
  static char lines[MAX_DOCS][512];
  const char *docs[MAX_DOCS];
  size_t n = 0;
  FILE *f = fopen(docs_path, "r");
  if (!f) { perror(docs_path); return 1; }
  while (n < MAX_DOCS && fgets(lines[n], sizeof lines[n], f)) {
    lines[n][strcspn(lines[n], "\n")] = 0;
    if (lines[n][0]) { docs[n] = lines[n]; n++; }
  }
  fclose(f);

  gaia_embedder *e = NULL;
  gaia_status s = gaia_embedder_open(model, "{\"threads\": 2}", &e);
  if (s != GAIA_OK) return fail("gaia_embedder_open", s);
  size_t dim = 0;
  gaia_embedder_dim(e, &dim);

  float *vectors = malloc(n * dim * sizeof(float));
  uint64_t ids[MAX_DOCS];
  for (size_t i = 0; i < n; i++) ids[i] = i;
  /* NULL lengths: the texts are NUL-terminated. */
  s = gaia_embedder_embed(e, docs, NULL, n, GAIA_EMBED_NORMALIZE, vectors, n * dim);
  if (s != GAIA_OK) return fail("gaia_embedder_embed", s);

  gaia_index *idx = NULL;
  s = gaia_index_new("{\"dim\": 384, \"metric\": \"cosine\", \"storage\": \"int8\"}", &idx);
  if (s != GAIA_OK) return fail("gaia_index_new", s);
  s = gaia_index_add(idx, ids, n, vectors, n * dim);
  if (s != GAIA_OK) return fail("gaia_index_add", s);
  printf("indexed %zu documents (%zu dimensions)\n", n, dim);

  const char *questions[] = {"I forgot my login credentials", "Do you deliver to Toronto?",
                             "Can I pay by bank transfer?"};
  float q[3 * 384];
  s = gaia_embedder_embed(e, questions, NULL, 3, GAIA_EMBED_NORMALIZE, q, 3 * dim);
  if (s != GAIA_OK) return fail("gaia_embedder_embed", s);
  uint64_t hit_ids[3 * 2];
  float scores[3 * 2];
  size_t found = 0;
  s = gaia_index_search(idx, q, 3 * dim, 2, hit_ids, scores, 6, &found);
  if (s != GAIA_OK) return fail("gaia_index_search", s);
  for (size_t i = 0; i < 3; i++) {
    printf("\n? %s\n", questions[i]);
    for (size_t j = 0; j < found; j++)
      printf("  %.3f  %s\n", scores[i * 2 + j], docs[hit_ids[i * 2 + j]]);
  }

  /* Bad input is an error code and a message, never a crash. */
  const char *bad = "caf\xe9";
  s = gaia_embedder_embed(e, &bad, NULL, 1, GAIA_EMBED_NORMALIZE, q, dim);
  printf("\ninvalid UTF-8 -> %s: %s\n", gaia_status_name(s), gaia_last_error());

  gaia_index_free(idx);
  gaia_embedder_free(e);
  free(vectors);
  return 0;
}
