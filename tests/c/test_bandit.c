/* The bandit through the C ABI: normal use, every kind of bad input, threads, logging. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "gaia.h"
#include "check.h"

static gaia_bandit *make(const char *json) {
  gaia_bandit *b = NULL;
  CHECK_STATUS(gaia_bandit_new(json, &b), GAIA_OK);
  return b;
}

static char *saved(const gaia_bandit *b) {
  char *s = NULL;
  CHECK_STATUS(gaia_bandit_save(b, &s), GAIA_OK);
  return s;
}

/* A call that fails must leave the bandit byte-for-byte as it was. */
#define CHECK_FAILS_CLEANLY(b, call, want, needle)                                     \
  do {                                                                                 \
    char *before_ = saved(b);                                                          \
    CHECK_STATUS(call, want);                                                          \
    CHECK(strstr(gaia_last_error(), needle) != NULL, "message lacks \"%s\"", needle);  \
    char *after_ = saved(b);                                                           \
    CHECK(before_ && after_ && strcmp(before_, after_) == 0, "%s changed state", #call); \
    gaia_string_free(before_);                                                         \
    gaia_string_free(after_);                                                          \
  } while (0)

static void test_versions(void) {
  CHECK_STR(gaia_version(), GAIA_VERSION_STRING);
  CHECK(gaia_abi_version() == GAIA_ABI_VERSION, "abi %u", gaia_abi_version());
  CHECK(gaia_abi_v1 == GAIA_ABI_VERSION, "gaia_abi_v1 = %u", gaia_abi_v1);
  CHECK_STR(gaia_status_name(GAIA_ERR_NOT_FOUND), "GAIA_ERR_NOT_FOUND");
}

static void test_learns_the_best_arm(void) {
  gaia_bandit *b = make("{\"arms\":[\"bad\",\"good\"],\"seed\":7}");
  uint64_t rng = 88172645463325252ull;
  int good_late = 0;
  for (int round = 0; round < 2000; round++) {
    size_t i = 99;
    CHECK_STATUS(gaia_bandit_choose(b, &i), GAIA_OK);
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    double u = (double)(rng >> 11) / 9007199254740992.0;
    double reward = u < (i == 1 ? 0.8 : 0.3) ? 1.0 : 0.0;
    CHECK_STATUS(gaia_bandit_update_index(b, i, reward), GAIA_OK);
    if (round >= 1500 && i == 1) good_late++;
  }
  CHECK(good_late > 450, "good arm chosen %d/500 times late", good_late);
  char *stats = NULL;
  CHECK_STATUS(gaia_bandit_stats_json(b, &stats), GAIA_OK);
  CHECK(stats && strstr(stats, "\"total_pulls\":2000"), "%s", stats);
  gaia_string_free(stats);
  gaia_bandit_free(b);
}

static void test_bad_configs(void) {
  struct { const char *json; gaia_status want; const char *needle; } cases[] = {
    {"{", GAIA_ERR_INVALID_JSON, "bandit config: EOF"},
    {"[1,2]", GAIA_ERR_INVALID_JSON, "invalid type"},
    {"{\"arms\":\"a\"}", GAIA_ERR_INVALID_JSON, "invalid type"},
    {"{\"arms\":[\"a\"],\"colour\":1}", GAIA_ERR_INVALID_JSON, "unknown field `colour`"},
    {"{\"arms\":[\"a\"],\"discount\":1.5}", GAIA_ERR_INVALID_CONFIG, "discount: must be in (0, 1]"},
    {"{\"arms\":[\"a\",\"a\"]}", GAIA_ERR_INVALID_CONFIG, "arms[1]: duplicate arm"},
    {"{\"arms\":[\"a\"],\"prior\":{\"alpha\":-1}}", GAIA_ERR_INVALID_CONFIG, "prior.alpha"},
    {"{\"arms\":[\"a\"],\"discount\":NaN}", GAIA_ERR_INVALID_JSON, "bandit config"},
    {"{\"arms\":[\"\\u00ff\"],\"seed\":1e400}", GAIA_ERR_INVALID_JSON, "bandit config"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gaia_bandit *b = (gaia_bandit *)&cases[i]; /* a non-NULL sentinel that must survive */
    CHECK_STATUS(gaia_bandit_new(cases[i].json, &b), cases[i].want);
    CHECK(b == (gaia_bandit *)&cases[i], "out-param written on failure");
    CHECK(strstr(gaia_last_error(), cases[i].needle) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
          gaia_last_error(), cases[i].needle);
  }
}

static void test_bad_arguments(void) {
  gaia_bandit *b = make("{\"arms\":[\"a\",\"b\"],\"seed\":3}");
  CHECK_STATUS(gaia_bandit_update(b, "a", 1.0), GAIA_OK);
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "a", NAN), GAIA_ERR_INVALID_ARGUMENT, "got NaN");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "a", INFINITY), GAIA_ERR_INVALID_ARGUMENT, "got inf");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "a", 1.5), GAIA_ERR_INVALID_ARGUMENT, "in [0, 1]");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "zzz", 1.0), GAIA_ERR_NOT_FOUND,
                      "unknown arm \"zzz\" (arms: a, b)");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update_index(b, 2, 1.0), GAIA_ERR_NOT_FOUND, "index 2");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "\xff", 1.0), GAIA_ERR_INVALID_UTF8, "arm is not valid UTF-8");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, NULL, 1.0), GAIA_ERR_NULL_POINTER, "arm is NULL");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_add_arm(b, "a"), GAIA_ERR_ALREADY_EXISTS, "already exists");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_add_arm(b, ""), GAIA_ERR_INVALID_ARGUMENT, "must not be empty");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_remove_arm(b, "c"), GAIA_ERR_NOT_FOUND, "unknown arm");
  char *name = (char *)"untouched";
  CHECK_FAILS_CLEANLY(b, gaia_bandit_arm_name(b, 5, &name), GAIA_ERR_NOT_FOUND, "out of range");
  CHECK_STR(name, "untouched");
  size_t idx = 0;
  CHECK_FAILS_CLEANLY(b, gaia_bandit_choose(b, NULL), GAIA_ERR_NULL_POINTER, "out_index is NULL");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_stats_json(b, NULL), GAIA_ERR_NULL_POINTER, "out_json is NULL");
  CHECK_STATUS(gaia_bandit_choose(NULL, &idx), GAIA_ERR_NULL_POINTER);
  /* Wrong call order: choose with no arms left. */
  CHECK_STATUS(gaia_bandit_remove_arm(b, "a"), GAIA_OK);
  CHECK_STATUS(gaia_bandit_remove_arm(b, "b"), GAIA_OK);
  CHECK_FAILS_CLEANLY(b, gaia_bandit_choose(b, &idx), GAIA_ERR_INVALID_STATE, "no arms");
  CHECK_STATUS(gaia_bandit_add_arm(b, "c"), GAIA_OK);
  CHECK_STATUS(gaia_bandit_choose(b, &idx), GAIA_OK);
  CHECK(idx == 0, "idx %zu", idx);
  gaia_bandit_free(b);
}

static void test_wrong_handles_and_panics(void) {
  uint64_t not_a_bandit[4] = {1, 2, 3, 4};
  size_t idx = 0;
  CHECK_STATUS(gaia_bandit_choose((gaia_bandit *)not_a_bandit, &idx), GAIA_ERR_INVALID_HANDLE);
  CHECK(strstr(gaia_last_error(), "not a live gaia_bandit") != NULL, "%s", gaia_last_error());
  gaia_bandit_free((gaia_bandit *)not_a_bandit); /* refused, not freed */
  CHECK(not_a_bandit[0] == 1, "free wrote into a non-handle");
  gaia_bandit_free(NULL);
  gaia_string_free(NULL);
  CHECK_STATUS(gaia_test_panic(), GAIA_ERR_PANIC);
  CHECK(strstr(gaia_last_error(), "panic") != NULL, "%s", gaia_last_error());
}

static void test_save_load(void) {
  gaia_bandit *a = make("{\"arms\":[\"x\",\"y\",\"z\"],\"model\":\"gaussian\",\"seed\":11,\"discount\":0.9}");
  for (int i = 0; i < 20; i++) {
    size_t k = 0;
    CHECK_STATUS(gaia_bandit_choose(a, &k), GAIA_OK);
    CHECK_STATUS(gaia_bandit_update_index(a, k, (double)(i % 5) - 1.5), GAIA_OK);
  }
  char *s = saved(a);
  gaia_bandit *b = NULL;
  CHECK_STATUS(gaia_bandit_load(s, &b), GAIA_OK);
  for (int i = 0; b && i < 100; i++) {
    size_t ka = 0, kb = 1;
    gaia_bandit_choose(a, &ka);
    gaia_bandit_choose(b, &kb);
    CHECK(ka == kb, "draw %d differs after load: %zu vs %zu", i, ka, kb);
  }
  /* Corrupted and future saves. */
  gaia_bandit *c = (gaia_bandit *)&s;
  size_t len = strlen(s);
  char *cut = strdup(s);
  cut[len / 2] = '\0';
  CHECK_STATUS(gaia_bandit_load(cut, &c), GAIA_ERR_CORRUPT_STATE);
  CHECK(strstr(gaia_last_error(), "corrupt bandit state") != NULL, "%s", gaia_last_error());
  char *v2 = strdup(s); /* a future format version */
  char *at = strstr(v2, "\"version\":1");
  if (at) at[10] = '9';
  CHECK_STATUS(gaia_bandit_load(v2, &c), GAIA_ERR_UNSUPPORTED_VERSION);
  char *neg = strdup(s);
  at = strstr(neg, "\"weight\":");
  if (at) at[9] = '-';
  CHECK_STATUS(gaia_bandit_load(neg, &c), GAIA_ERR_CORRUPT_STATE);
  CHECK_STATUS(gaia_bandit_load("", &c), GAIA_ERR_CORRUPT_STATE);
  CHECK_STATUS(gaia_bandit_load("{\"format\":\"gaia.bandit\",\"version\":1}", &c), GAIA_ERR_CORRUPT_STATE);
  CHECK(c == (gaia_bandit *)&s, "out-param written on failure");
  free(cut);
  free(v2);
  free(neg);
  gaia_string_free(s);
  gaia_bandit_free(a);
  gaia_bandit_free(b);
}

#define THREADS 8
#define ROUNDS 2000

static void *worker(void *arg) {
  gaia_bandit *b = arg;
  for (int i = 0; i < ROUNDS; i++) {
    char *arm = NULL;
    if (gaia_bandit_choose_name(b, &arm) != GAIA_OK) return (void *)1;
    double reward = strcmp(arm, "b") == 0 ? 1.0 : 0.0;
    gaia_status st = gaia_bandit_update(b, arm, reward);
    gaia_string_free(arm);
    if (st != GAIA_OK) return (void *)1;
    if (gaia_bandit_update(b, "nope", 1.0) != GAIA_ERR_NOT_FOUND) return (void *)1;
    if (strstr(gaia_last_error(), "nope") == NULL) return (void *)1; /* per-thread message */
  }
  return NULL;
}

static void test_threads(void) {
  gaia_bandit *b = make("{\"arms\":[\"a\",\"b\",\"c\"],\"seed\":9}");
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, b);
  for (int i = 0; i < THREADS; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    CHECK(r == NULL, "thread %d failed", i);
  }
  char *stats = NULL;
  CHECK_STATUS(gaia_bandit_stats_json(b, &stats), GAIA_OK);
  char want[64];
  snprintf(want, sizeof want, "\"total_pulls\":%d", THREADS * ROUNDS);
  CHECK(stats && strstr(stats, want), "%s", stats);
  gaia_string_free(stats);
  gaia_bandit_free(b);
}

/* Delayed feedback and contextual LinTS: gaia_bandit_ask / gaia_bandit_tell. */
static void test_ask_tell_lints(void) {
  gaia_bandit *b = make("{\"arms\":[\"small\",\"large\"],\"policy\":\"lints\",\"features\":3,"
                        "\"seed\":5,\"v\":0.5}");
  uint64_t rng = 88172645463325252ull;
  int best_late = 0;
  for (int round = 0; round < 1500; round++) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    double u = (double)(rng >> 11) / 9007199254740992.0;
    int hard = u < 0.5;
    /* bias, task is hard, prompt length: large pays on hard tasks, small on easy ones. */
    double x[3] = {1.0, hard ? 1.0 : 0.0, u};
    uint64_t ticket = 0;
    size_t arm = 99;
    CHECK_STATUS(gaia_bandit_ask(b, x, 3, &ticket, &arm), GAIA_OK);
    CHECK(ticket == (uint64_t)round + 1, "ticket %llu at round %d", (unsigned long long)ticket, round);
    size_t best = hard ? 1 : 0;
    if (round >= 1000 && arm == best) best_late++;
    double reward = (arm == best ? 0.8 : 0.3) + 0.1 * (u - 0.5);
    CHECK_STATUS(gaia_bandit_tell(b, ticket, reward), GAIA_OK);
  }
  CHECK(best_late > 450, "best arm %d/500 late", best_late);
  char *stats = NULL;
  CHECK_STATUS(gaia_bandit_stats_json(b, &stats), GAIA_OK);
  CHECK(stats && strstr(stats, "\"policy\":\"lints\"") && strstr(stats, "\"pending\":0") &&
        strstr(stats, "\"theta\":["), "%s", stats);
  gaia_string_free(stats);

  /* Bad input: each one fails with its code and message and changes nothing. */
  double x[3] = {1.0, 0.0, 0.5};
  double nan_x[3] = {1.0, NAN, 0.5};
  double inf_x[3] = {INFINITY, 0.0, 0.5};
  uint64_t ticket = 7;
  size_t arm = 7;
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, NULL, 3, &ticket, &arm), GAIA_ERR_NULL_POINTER,
                      "context is NULL but context_len is 3");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, NULL, 0, &ticket, &arm), GAIA_ERR_INVALID_ARGUMENT,
                      "needs a context of 3 features");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, x, 2, &ticket, &arm), GAIA_ERR_INVALID_ARGUMENT,
                      "expected 3 features, got 2");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, nan_x, 3, &ticket, &arm), GAIA_ERR_INVALID_ARGUMENT,
                      "context[1] must be finite");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, inf_x, 3, &ticket, &arm), GAIA_ERR_INVALID_ARGUMENT,
                      "context[0] must be finite");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, x, (size_t)1 << 40, &ticket, &arm),
                      GAIA_ERR_INVALID_ARGUMENT, "more than the 1024 features");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, x, 3, NULL, &arm), GAIA_ERR_NULL_POINTER, "out_ticket is NULL");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_ask(b, x, 3, &ticket, NULL), GAIA_ERR_NULL_POINTER, "out_arm is NULL");
  CHECK(ticket == 7 && arm == 7, "out-params written on failure");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_tell(b, 99999, 1.0), GAIA_ERR_NOT_FOUND, "unknown ticket 99999");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_tell(b, 0, 1.0), GAIA_ERR_NOT_FOUND, "tickets start at 1");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_tell(b, 1, 1.0), GAIA_ERR_INVALID_STATE, "ticket 1 was already told");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_choose(b, &arm), GAIA_ERR_INVALID_STATE, "policy \"lints\" is contextual");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_update(b, "small", 1.0), GAIA_ERR_INVALID_STATE, "use ask(context)");
  CHECK_STATUS(gaia_bandit_ask(b, x, 3, &ticket, &arm), GAIA_OK);
  CHECK_FAILS_CLEANLY(b, gaia_bandit_tell(b, ticket, NAN), GAIA_ERR_INVALID_ARGUMENT, "got NaN");
  CHECK_FAILS_CLEANLY(b, gaia_bandit_tell(b, ticket, INFINITY), GAIA_ERR_INVALID_ARGUMENT, "got inf");
  CHECK_STATUS(gaia_bandit_tell(NULL, ticket, 1.0), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_bandit_ask(NULL, x, 3, &ticket, &arm), GAIA_ERR_NULL_POINTER);
  uint64_t not_a_bandit[4] = {1, 2, 3, 4};
  CHECK_STATUS(gaia_bandit_tell((gaia_bandit *)not_a_bandit, ticket, 1.0), GAIA_ERR_INVALID_HANDLE);
  CHECK_STATUS(gaia_bandit_ask((gaia_bandit *)not_a_bandit, x, 3, &ticket, &arm), GAIA_ERR_INVALID_HANDLE);

  /* The pending ticket survives a save and load, and is told on the loaded bandit. */
  char *s = saved(b);
  CHECK(s && strstr(s, "\"version\":3") && strstr(s, "\"pending\":[{\"ticket\":1501,"), "%s", s);
  gaia_bandit *c = NULL;
  CHECK_STATUS(gaia_bandit_load(s, &c), GAIA_OK);
  CHECK_STATUS(gaia_bandit_tell(c, ticket, 0.5), GAIA_OK);
  CHECK_STATUS(gaia_bandit_tell(c, ticket, 0.5), GAIA_ERR_INVALID_STATE);
  /* Removing an arm drops its pending tickets. */
  CHECK_STATUS(gaia_bandit_ask(c, x, 3, &ticket, &arm), GAIA_OK);
  char *name = NULL;
  CHECK_STATUS(gaia_bandit_arm_name(c, arm, &name), GAIA_OK);
  CHECK_STATUS(gaia_bandit_remove_arm(c, name), GAIA_OK);
  CHECK_STATUS(gaia_bandit_tell(c, ticket, 0.5), GAIA_ERR_INVALID_STATE);
  CHECK(strstr(gaia_last_error(), "was dropped when its arm") != NULL, "%s", gaia_last_error());
  gaia_string_free(name);
  gaia_string_free(s);
  gaia_bandit_free(c);
  gaia_bandit_free(b);

  /* Non-contextual policies take NULL, 0; a context is refused. */
  gaia_bandit *t = make("{\"arms\":[\"a\",\"b\"],\"seed\":2}");
  CHECK_STATUS(gaia_bandit_ask(t, NULL, 0, &ticket, &arm), GAIA_OK);
  CHECK(ticket == 1 && arm < 2, "ticket %llu arm %zu", (unsigned long long)ticket, arm);
  CHECK_FAILS_CLEANLY(t, gaia_bandit_ask(t, x, 3, &ticket, &arm), GAIA_ERR_INVALID_ARGUMENT,
                      "policy \"thompson\" takes no context");
  CHECK_STATUS(gaia_bandit_tell(t, 1, 1.5), GAIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(gaia_bandit_tell(t, 1, 1.0), GAIA_OK);
  gaia_bandit_free(t);
}

static void test_expiry(void) {
  gaia_bandit *b = make("{\"arms\":[\"a\"],\"pending_ttl_s\":0.05,\"expired_reward\":0}");
  uint64_t ticket = 0;
  size_t arm = 0;
  CHECK_STATUS(gaia_bandit_ask(b, NULL, 0, &ticket, &arm), GAIA_OK);
  struct timespec pause = {0, 150 * 1000 * 1000};
  nanosleep(&pause, NULL);
  CHECK_STATUS(gaia_bandit_tell(b, ticket, 1.0), GAIA_ERR_INVALID_STATE);
  CHECK(strstr(gaia_last_error(), "ticket 1 expired after 0.05 s and counted as reward 0") != NULL,
        "%s", gaia_last_error());
  char *stats = NULL;
  CHECK_STATUS(gaia_bandit_stats_json(b, &stats), GAIA_OK);
  CHECK(stats && strstr(stats, "\"total_pulls\":1,\"pending\":0,\"expired\":1,\"expired_reward\":0.0"),
        "%s", stats);
  gaia_string_free(stats);
  gaia_bandit_free(b);
  gaia_bandit *bad = (gaia_bandit *)&arm;
  CHECK_STATUS(gaia_bandit_new("{\"arms\":[\"a\"],\"pending_ttl_s\":0}", &bad), GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "pending_ttl_s: must be finite and > 0") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_bandit_new("{\"arms\":[\"a\"],\"policy\":\"lints\"}", &bad), GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "features") != NULL, "%s", gaia_last_error());
  CHECK_STATUS(gaia_bandit_new("{\"arms\":[\"a\"],\"policy\":\"lints\",\"features\":2,\"model\":\"beta\"}", &bad),
               GAIA_ERR_INVALID_CONFIG);
  CHECK(bad == (gaia_bandit *)&arm, "out-param written on failure");
}

/* Asks on some threads, tells on others: a ticket is told by a thread that did not ask it. */
#define ASKERS 4
#define ASKS 2000
static uint64_t asked_tickets[ASKERS][ASKS];

struct asker { gaia_bandit *b; int id; };

static void *asker(void *arg) {
  struct asker *a = arg;
  for (int i = 0; i < ASKS; i++) {
    size_t arm = 0;
    if (gaia_bandit_ask(a->b, NULL, 0, &asked_tickets[a->id][i], &arm) != GAIA_OK) return (void *)1;
  }
  return NULL;
}

static void *teller(void *arg) {
  struct asker *a = arg;
  /* Tells the tickets of the next asker, newest first. */
  int other = (a->id + 1) % ASKERS;
  for (int i = ASKS - 1; i >= 0; i--) {
    if (gaia_bandit_tell(a->b, asked_tickets[other][i], (i % 3) == 0 ? 1.0 : 0.0) != GAIA_OK) return (void *)1;
  }
  return NULL;
}

static void test_tickets_across_threads(void) {
  gaia_bandit *b = make("{\"arms\":[\"a\",\"b\",\"c\"],\"seed\":9}");
  pthread_t t[ASKERS];
  struct asker args[ASKERS];
  for (int i = 0; i < ASKERS; i++) {
    args[i].b = b;
    args[i].id = i;
    pthread_create(&t[i], NULL, asker, &args[i]);
  }
  for (int i = 0; i < ASKERS; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    CHECK(r == NULL, "asker %d failed", i);
  }
  for (int i = 0; i < ASKERS; i++) pthread_create(&t[i], NULL, teller, &args[i]);
  for (int i = 0; i < ASKERS; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    CHECK(r == NULL, "teller %d failed", i);
  }
  char *stats = NULL;
  CHECK_STATUS(gaia_bandit_stats_json(b, &stats), GAIA_OK);
  char want[64];
  snprintf(want, sizeof want, "\"total_pulls\":%d,\"pending\":0", ASKERS * ASKS);
  CHECK(stats && strstr(stats, want), "%s", stats);
  gaia_string_free(stats);
  gaia_bandit_free(b);
}

static int log_records = 0;
static int log_freed = 0;

static void on_log(void *userdata, gaia_log_level level, const char *target, const char *msg) {
  (void)level;
  if (*(int *)userdata == 42 && strcmp(target, "gaia::tune") == 0 && strstr(msg, "added arm")) log_records++;
}

static void on_free(void *userdata) {
  if (*(int *)userdata == 42) log_freed++;
}

static void test_logger(void) {
  static int token = 42;
  CHECK_STATUS(gaia_set_logger(on_log, &token, on_free, 7), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(log_freed == 0, "refused logger freed its userdata");
  CHECK_STATUS(gaia_set_logger(on_log, &token, on_free, GAIA_LOG_DEBUG), GAIA_OK);
  gaia_bandit *b = make("{\"arms\":[]}");
  CHECK_STATUS(gaia_bandit_add_arm(b, "x"), GAIA_OK);
  gaia_bandit_free(b);
  CHECK(log_records == 1, "log records %d", log_records);
  CHECK_STATUS(gaia_set_logger(NULL, NULL, NULL, GAIA_LOG_OFF), GAIA_OK);
  CHECK(log_freed == 1, "userdata freed %d times", log_freed);
}

int main(void) {
  test_versions();
  test_learns_the_best_arm();
  test_bad_configs();
  test_bad_arguments();
  test_wrong_handles_and_panics();
  test_save_load();
  test_threads();
  test_ask_tell_lints();
  test_expiry();
  test_tickets_across_threads();
  test_logger();
  return done("test_bandit");
}
