/* AB-MCTS through the C ABI: a synthetic refine task, batches told out of order,
 * payloads, snapshots across handles, and every kind of bad input. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gaia.h"
#include "check.h"

/* A small deterministic generator for the simulated LLM. */
static uint64_t lcg = 12345;
static double uniform(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(lcg >> 11) / 9007199254740992.0;
}

/* Hidden answer quality: a first answer draws a cap c and a score below it; refining moves
 * the score towards the cap. */
typedef struct { double cap, q; } answer;
static answer answers[4096];

static answer simulate(uint32_t node) {
  answer a;
  if (node == 0) {
    a.cap = uniform() * uniform();
    a.q = a.cap * (0.3 + 0.5 * uniform());
  } else {
    a = answers[node];
    a.q += 0.3 * (a.cap - a.q) * uniform();
  }
  return a;
}

static void test_search_improves(void) {
  gaia_mcts *m = NULL;
  CHECK_STATUS(gaia_mcts_new("{\"actions\": [\"draft\"], \"seed\": 11}", &m), GAIA_OK);
  double best = 0, first = -1;
  for (int step = 0; m && step < 300; step++) {
    gaia_mcts_trial t[4];
    size_t n = 0;
    CHECK_STATUS(gaia_mcts_ask(m, step % 10 == 9 ? 4 : 1, t, &n), GAIA_OK);
    /* Tell a batch in reverse order. */
    for (size_t k = n; k-- > 0;) {
      answer a = simulate(t[k].node);
      uint32_t node = 0;
      CHECK_STATUS(gaia_mcts_tell_id(m, t[k].trial_id, a.q, t[k].trial_id, &node), GAIA_OK);
      if (node < 4096) answers[node] = a;
      if (first < 0) first = a.q;
      if (a.q > best) best = a.q;
    }
  }
  size_t count = 0;
  CHECK_STATUS(gaia_mcts_node_count(m, &count), GAIA_OK);
  CHECK(count > 300, "%zu nodes", count);
  char *top = NULL;
  CHECK_STATUS(gaia_mcts_top_k_json(m, 3, &top), GAIA_OK);
  CHECK(top && top[0] == '[' && strstr(top, "\"depth\":"), "top %s", top ? top : "(null)");
  gaia_string_free(top);
  char *root = NULL;
  CHECK_STATUS(gaia_mcts_node_json(m, 0, &root), GAIA_OK);
  CHECK(root && strstr(root, "\"parent\":null") && !strstr(root, "\"children\":0,"), "root %s", root ? root : "(null)");
  gaia_string_free(root);
  CHECK(best > 0.5, "best %f", best);
  gaia_mcts_free(m);
}

static void test_payloads_and_snapshots(void) {
  gaia_mcts *a = NULL, *b = NULL;
  CHECK_STATUS(gaia_mcts_new("{\"actions\": [\"small\", \"large\"], \"prior\": {\"type\": \"beta\"}, \"seed\": 5}", &a), GAIA_OK);
  gaia_mcts_trial t[2];
  size_t n = 0;
  CHECK_STATUS(gaia_mcts_ask(a, 2, t, &n), GAIA_OK);
  CHECK(n == 2 && t[0].node == 0, "first trials expand the root");
  const char text[] = "an answer\0with a NUL";
  uint32_t node = 0;
  CHECK_STATUS(gaia_mcts_tell(a, t[0].trial_id, 0.75, (const uint8_t *)text, sizeof text, &node), GAIA_OK);
  CHECK(node == 1, "node %u", node);
  uint8_t *bytes = NULL;
  size_t len = 0;
  CHECK_STATUS(gaia_mcts_node_payload(a, node, &bytes, &len), GAIA_OK);
  CHECK(len == sizeof text && bytes && memcmp(bytes, text, len) == 0, "payload round trip (%zu bytes)", len);
  gaia_bytes_free(bytes, len);
  char *name = NULL;
  CHECK_STATUS(gaia_mcts_action_name(a, t[1].action, &name), GAIA_OK);
  CHECK(name && (strcmp(name, "small") == 0 || strcmp(name, "large") == 0), "action %s", name ? name : "(null)");
  gaia_string_free(name);

  /* Save with trial 1 pending; continue in another handle with identical draws. */
  uint8_t *snap = NULL;
  size_t snap_len = 0;
  CHECK_STATUS(gaia_mcts_save(a, &snap, &snap_len), GAIA_OK);
  CHECK_STATUS(gaia_mcts_load(snap, snap_len, &b), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(b, t[1].trial_id, 0.25, NULL, 0, NULL), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(a, t[1].trial_id, 0.25, NULL, 0, NULL), GAIA_OK);
  for (int i = 0; a && b && i < 20; i++) {
    gaia_mcts_trial x, y;
    size_t nx = 0, ny = 0;
    gaia_mcts_ask(a, 1, &x, &nx);
    gaia_mcts_ask(b, 1, &y, &ny);
    CHECK(nx == 1 && ny == 1 && x.trial_id == y.trial_id && x.node == y.node && x.action == y.action, "ask %d differs", i);
    gaia_mcts_tell(a, x.trial_id, 0.5, NULL, 0, NULL);
    gaia_mcts_tell(b, y.trial_id, 0.5, NULL, 0, NULL);
  }
  /* Damaged and future snapshots. */
  gaia_mcts *c = (gaia_mcts *)&n;
  snap[snap_len / 2] ^= 0x40;
  CHECK_STATUS(gaia_mcts_load(snap, snap_len, &c), GAIA_ERR_CORRUPT_STATE);
  snap[snap_len / 2] ^= 0x40;
  snap[8] = 2;
  CHECK_STATUS(gaia_mcts_load(snap, snap_len, &c), GAIA_ERR_UNSUPPORTED_VERSION);
  CHECK_STATUS(gaia_mcts_load(snap, 5, &c), GAIA_ERR_CORRUPT_STATE);
  CHECK(c == (gaia_mcts *)&n, "out-param written on failure");
  gaia_bytes_free(snap, snap_len);
  gaia_mcts_free(a);
  gaia_mcts_free(b);
}

static void test_bad_input(void) {
  gaia_mcts *m = NULL;
  CHECK_STATUS(gaia_mcts_new("{\"actions\": []}", &m), GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "actions: at least one action") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_mcts_new("{\"seed\": ", &m), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_mcts_new("{\"actions\": [\"\xff\"]}", &m), GAIA_ERR_INVALID_UTF8);
  CHECK_STATUS(gaia_mcts_new(NULL, &m), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_mcts_new("{\"max_width\": 1, \"max_depth\": 1, \"seed\": 1}", &m), GAIA_OK);
  gaia_mcts_trial t;
  size_t n = 0;
  CHECK_STATUS(gaia_mcts_ask(m, 0, &t, &n), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_mcts_ask(m, 1, &t, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_mcts_ask(m, 1, &t, &n), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(m, t.trial_id, NAN, NULL, 0, NULL), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "score must be in [0, 1], got NaN") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_mcts_tell(m, t.trial_id, -0.1, NULL, 0, NULL), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_mcts_tell(m, 42, 0.5, NULL, 0, NULL), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_mcts_abandon(m, t.trial_id), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(m, t.trial_id, 0.5, NULL, 0, NULL), GAIA_ERR_INVALID_STATE);
  CHECK(strstr(gaia_last_error(), "already abandoned") != NULL, "%s", gaia_last_error());
  /* One child of the root at depth 1 fills a tree capped at width 1, depth 1. */
  CHECK_STATUS(gaia_mcts_ask(m, 1, &t, &n), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(m, t.trial_id, 0.5, NULL, 0, NULL), GAIA_OK);
  CHECK_STATUS(gaia_mcts_tell(m, t.trial_id, 0.5, NULL, 0, NULL), GAIA_OK); /* idempotent */
  CHECK_STATUS(gaia_mcts_abandon(m, t.trial_id), GAIA_ERR_INVALID_STATE);
  CHECK_STATUS(gaia_mcts_ask(m, 1, &t, &n), GAIA_ERR_INVALID_STATE);
  CHECK(strstr(gaia_last_error(), "the tree is full") != NULL, "%s", gaia_last_error());
  char *out = NULL;
  CHECK_STATUS(gaia_mcts_node_json(m, 9, &out), GAIA_ERR_NOT_FOUND);
  CHECK_STATUS(gaia_mcts_ask((gaia_mcts *)&n, 1, &t, &n), GAIA_ERR_INVALID_HANDLE);
  gaia_mcts_free(m);
  gaia_mcts_free(NULL);
}

int main(void) {
  test_search_improves();
  test_payloads_and_snapshots();
  test_bad_input();
  return done("test_mcts");
}
