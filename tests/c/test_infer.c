/* The infer C ABI: embeddings against sentence-transformers' reference vectors, token
 * ids, the vector index, and every kind of bad input. */
#define _POSIX_C_SOURCE 200809L
#include <gaia.h>
#include <math.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#include "check.h"
#include "infer_vectors.h"

#define DIM 384

static float cosine(const float *a, const float *b, size_t n) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; i++) {
    d += (double)a[i] * b[i];
    na += (double)a[i] * a[i];
    nb += (double)b[i] * b[i];
  }
  return (float)(d / sqrt(na * nb));
}

static const char *model_dir(void) {
  const char *d = getenv("GAIA_MODEL_DIR");
  return d ? d : GAIA_MODEL_DIR_DEFAULT;
}

static void test_reference(gaia_embedder *e) {
  /* Under valgrind (GAIA_TEST_QUICK=1) the first items only: each embed there is ~50x slower. */
  size_t n = getenv("GAIA_TEST_QUICK") && infer_item_count > 8 ? 8 : infer_item_count;
  float *single = calloc(n * DIM, sizeof(float));
  float *batch = calloc(n * DIM, sizeof(float));
  const char **texts = calloc(n, sizeof(char *));
  size_t *lens = calloc(n, sizeof(size_t));
  size_t *counts = calloc(n, sizeof(size_t));
  uint32_t ids[512];
  for (size_t i = 0; i < n; i++) {
    const infer_item *it = &infer_items[i];
    texts[i] = it->text;
    lens[i] = it->len;
    size_t got = 0;
    CHECK_STATUS(gaia_embedder_tokenize(e, it->text, it->len, ids, 512, &got), GAIA_OK);
    CHECK(got == it->n_ids && memcmp(ids, it->ids, got * sizeof(uint32_t)) == 0, "token ids of %s", it->name);
    CHECK_STATUS(gaia_embedder_embed(e, &it->text, &it->len, 1, GAIA_EMBED_NORMALIZE, single + i * DIM, DIM), GAIA_OK);
    float c = cosine(single + i * DIM, it->embedding, DIM);
    CHECK(c >= 0.9999f, "%s: cosine %f with sentence-transformers", it->name, c);
  }
  CHECK_STATUS(gaia_embedder_count_tokens(e, texts, lens, n, counts), GAIA_OK);
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, n, GAIA_EMBED_NORMALIZE, batch, n * DIM), GAIA_OK);
  for (size_t i = 0; i < n; i++) {
    CHECK(counts[i] == infer_items[i].n_tokens, "%s: %zu tokens, want %zu", infer_items[i].name, counts[i], infer_items[i].n_tokens);
    float c = cosine(single + i * DIM, batch + i * DIM, DIM);
    CHECK(c >= 0.99999f, "%s: batch vs single cosine %f", infer_items[i].name, c);
  }
  printf("reference: %zu items compared\n", n);
  free(single); free(batch); free(texts); free(lens); free(counts);
}

static void test_bad_input(gaia_embedder *e) {
  float out[2 * DIM];
  for (size_t i = 0; i < 2 * DIM; i++) out[i] = 7.0f;
  const char *texts[2] = {"fine", "bad \xff byte"};
  size_t lens[2] = {4, 10};
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, 2, GAIA_EMBED_NORMALIZE, out, 2 * DIM), GAIA_ERR_INVALID_UTF8);
  CHECK(strstr(gaia_last_error(), "text 1") != NULL, "message names the text: %s", gaia_last_error());
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, 1, 0, out, DIM - 1), GAIA_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, 0, 0, out, DIM), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, 1, 0x10, out, DIM), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_embedder_embed(e, NULL, lens, 1, 0, out, DIM), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_embedder_embed(e, texts, lens, 1, 0, NULL, DIM), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_embedder_embed(NULL, texts, lens, 1, 0, out, DIM), GAIA_ERR_NULL_POINTER);
  int all_untouched = 1;
  for (size_t i = 0; i < 2 * DIM; i++) all_untouched &= out[i] == 7.0f;
  CHECK(all_untouched, "a failed embed wrote to the output");
  /* NUL-terminated texts when lens is NULL; NUL bytes inside with lens. */
  CHECK_STATUS(gaia_embedder_embed(e, texts, NULL, 1, GAIA_EMBED_NORMALIZE, out, DIM), GAIA_OK);
  const char nul[] = {'a', 0, 'b'};
  const char *p = nul;
  size_t l = 3;
  CHECK_STATUS(gaia_embedder_embed(e, &p, &l, 1, GAIA_EMBED_NORMALIZE, out, DIM), GAIA_OK);
  uint32_t ids[2];
  size_t need = 0;
  CHECK_STATUS(gaia_embedder_tokenize(e, "hello world", 11, ids, 2, &need), GAIA_ERR_BUFFER_TOO_SMALL);
  CHECK(need == 4, "tokenize reports the count needed: %zu", need);
  /* A handle of another type is refused, not used. */
  gaia_bandit *b = NULL;
  CHECK_STATUS(gaia_bandit_new("{\"arms\": [\"a\"]}", &b), GAIA_OK);
  size_t dim = 0;
  CHECK_STATUS(gaia_embedder_dim((const gaia_embedder *)(void *)b, &dim), GAIA_ERR_INVALID_HANDLE);
  gaia_bandit_free(b);
  CHECK_STATUS(gaia_embedder_dim(e, &dim), GAIA_OK);
  CHECK(dim == DIM, "dim %zu", dim);
  char *info = NULL;
  CHECK_STATUS(gaia_embedder_info_json(e, &info), GAIA_OK);
  CHECK(info && strstr(info, "\"weights_sha256\":\"53aa5117") != NULL, "info: %s", info ? info : "(null)");
  gaia_string_free(info);
}

static void test_open_errors(void) {
  gaia_embedder *e = NULL;
  CHECK_STATUS(gaia_embedder_open("/nonexistent/model", NULL, &e), GAIA_ERR_NOT_FOUND);
  CHECK(strstr(gaia_last_error(), "/nonexistent/model") != NULL, "names the path");
  CHECK_STATUS(gaia_embedder_open(model_dir(), "{threads", &e), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_embedder_open(model_dir(), "{\"threads\": 0}", &e), GAIA_ERR_INVALID_CONFIG);
  CHECK_STATUS(gaia_embedder_open(NULL, NULL, &e), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_embedder_open("\xff", NULL, &e), GAIA_ERR_INVALID_UTF8);
  CHECK_STATUS(gaia_embedder_open(model_dir(), NULL, NULL), GAIA_ERR_NULL_POINTER);
  CHECK(e == NULL, "no handle on failure");
}

static void test_index(void) {
  gaia_index *idx = NULL;
  CHECK_STATUS(gaia_index_new("{\"dim\": 3, \"metric\": \"dot\", \"storage\": \"int8\"}", &idx), GAIA_OK);
  uint64_t ids[3] = {10, 20, 30};
  float v[9] = {1, 0, 0, 0, 1, 0, 0, 0, 2};
  CHECK_STATUS(gaia_index_add(idx, ids, 3, v, 9), GAIA_OK);
  CHECK_STATUS(gaia_index_add(idx, ids + 1, 1, v, 3), GAIA_ERR_ALREADY_EXISTS);
  CHECK_STATUS(gaia_index_add(idx, ids, 1, v, 2), GAIA_ERR_INVALID_ARGUMENT);
  float nan3[3] = {NAN, 0, 0};
  uint64_t fresh = 99;
  CHECK_STATUS(gaia_index_add(idx, &fresh, 1, nan3, 3), GAIA_ERR_INVALID_ARGUMENT);
  size_t len = 0, dim = 0;
  CHECK_STATUS(gaia_index_len(idx, &len, &dim), GAIA_OK);
  CHECK(len == 3 && dim == 3, "len %zu dim %zu", len, dim);
  float q[6] = {0, 0, 1, 0, 1, 0};
  uint64_t out_ids[4];
  float scores[4];
  size_t found = 0;
  CHECK_STATUS(gaia_index_search(idx, q, 6, 2, out_ids, scores, 4, &found), GAIA_OK);
  CHECK(found == 2 && out_ids[0] == 30 && out_ids[2] == 20, "found %zu ids %llu %llu", found,
        (unsigned long long)out_ids[0], (unsigned long long)out_ids[2]);
  CHECK(fabsf(scores[0] - 2.0f) < 1e-5f, "rescored exactly: %f", scores[0]);
  CHECK_STATUS(gaia_index_search(idx, q, 6, 2, out_ids, scores, 3, &found), GAIA_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(gaia_index_search(idx, q, 5, 2, out_ids, scores, 4, &found), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_index_set_threads(idx, 0), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_index_set_threads(NULL, 2), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_index_set_threads(idx, 2), GAIA_OK);
  CHECK_STATUS(gaia_index_search(idx, q, 6, 2, out_ids, scores, 4, &found), GAIA_OK);
  CHECK(found == 2 && out_ids[0] == 30 && out_ids[2] == 20, "threaded search");
  uint64_t gone[2] = {10, 77};
  CHECK_STATUS(gaia_index_remove(idx, gone, 2), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_index_remove(idx, gone, 1), GAIA_OK);
  const char *path = "build/test_infer.gidx";
  CHECK_STATUS(gaia_index_save(idx, path), GAIA_OK);
  gaia_index *back = NULL;
  CHECK_STATUS(gaia_index_load(path, 384, &back), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_index_load(path, 3, &back), GAIA_OK);
  CHECK_STATUS(gaia_index_len(back, &len, NULL), GAIA_OK);
  CHECK(len == 2, "loaded %zu", len);
  gaia_index_free(back);
  FILE *f = fopen(path, "r+b");
  if (f) { fseek(f, 40, SEEK_SET); fputc(0x55, f); fclose(f); }
  back = NULL;
  CHECK_STATUS(gaia_index_load(path, 0, &back), GAIA_ERR_CORRUPT_STATE);
  CHECK_STATUS(gaia_index_load("build/no-such.gidx", 0, &back), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_index_new("{\"dim\": 0}", &back), GAIA_ERR_INVALID_CONFIG);
  CHECK_STATUS(gaia_index_new("{\"dim\": 3, \"storage\": \"f8\"}", &back), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_index_add((gaia_index *)(void *)&len, ids, 1, v, 3), GAIA_ERR_INVALID_HANDLE);
  gaia_index_free(idx);
  gaia_index_free(NULL);

  float a[4] = {1, 0, 0, 1}, sim[4];
  CHECK_STATUS(gaia_similarity(a, 2, a, 2, 2, GAIA_SIMILARITY_COSINE, sim, 4), GAIA_OK);
  CHECK(fabsf(sim[0] - 1) < 1e-6f && fabsf(sim[1]) < 1e-6f, "similarity %f %f", sim[0], sim[1]);
  CHECK_STATUS(gaia_similarity(a, 2, a, 2, 2, 7, sim, 4), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_similarity(a, 2, a, 2, 2, GAIA_SIMILARITY_DOT, sim, 3), GAIA_ERR_BUFFER_TOO_SMALL);
}

/* PHP-FPM forks its workers from a master that may have preloaded and used the model. The
 * library's worker threads (embedding with "threads": 2) live in the parent only, so a
 * forked child must make its own instead of waiting on threads it does not have. */
static void test_fork(gaia_embedder *e) {
  /* Not under valgrind (GAIA_TEST_QUICK): its leak check in the child counts memory only
   * the parent's threads still point to as lost. The plain and ASan runs cover it. */
  if (getenv("GAIA_TEST_QUICK")) return;
  const char *text = "a worker forked after the master embedded";
  size_t len = strlen(text);
  float parent[DIM];
  CHECK_STATUS(gaia_embedder_embed(e, &text, &len, 1, GAIA_EMBED_NORMALIZE, parent, DIM), GAIA_OK);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(120); /* a child stuck on the parent's pool dies of SIGALRM instead of hanging */
    float child[DIM];
    if (gaia_embedder_embed(e, &text, &len, 1, GAIA_EMBED_NORMALIZE, child, DIM) != GAIA_OK) _exit(2);
    _exit(cosine(child, parent, DIM) >= 0.99999f ? 0 : 3);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork / waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "forked child: %s %d",
        WIFSIGNALED(status) ? "signal" : "exit status",
        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

int main(void) {
  gaia_embedder *e = NULL;
  CHECK_STATUS(gaia_embedder_open(model_dir(), "{\"threads\": 2}", &e), GAIA_OK);
  if (!e) return done("test_infer");
  test_reference(e);
  test_fork(e);
  test_bad_input(e);
  test_open_errors();
  test_index();
  gaia_embedder_free(e);
  gaia_embedder_cache_clear();
  return done("test_infer");
}
