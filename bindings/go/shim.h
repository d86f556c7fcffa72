/* C shims of the Go binding: each calls libgaia and, on failure, copies the thread's
 * last error in the same cgo call (see doc.go). Included by the cgo preambles. */
#ifndef GAIA_GO_SHIM_H
#define GAIA_GO_SHIM_H
#include <stdlib.h>
#include <string.h>
#include "gaia.h"

// Each shim calls libgaia and, on failure, copies the thread's last error before
// returning, all inside one cgo call (see DESIGN.md, "Go note").
static inline char *go_gaia_error(gaia_status st) {
	return st == GAIA_OK ? NULL : strdup(gaia_last_error());
}

static inline uint32_t go_gaia_abi_symbol(void) { return gaia_abi_v1; }

static inline gaia_status go_gaia_test_panic(char **err) {
	gaia_status st = gaia_test_panic();
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_new(const char *json, gaia_bandit **out, char **err) {
	gaia_status st = gaia_bandit_new(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_load(const char *json, gaia_bandit **out, char **err) {
	gaia_status st = gaia_bandit_load(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_choose(gaia_bandit *b, size_t *out, char **err) {
	gaia_status st = gaia_bandit_choose(b, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_choose_name(gaia_bandit *b, char **out, char **err) {
	gaia_status st = gaia_bandit_choose_name(b, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_update(gaia_bandit *b, const char *arm, double r, char **err) {
	gaia_status st = gaia_bandit_update(b, arm, r);
	*err = go_gaia_error(st);
	return st;
}

// Takes the arm name as bytes (Go strings are not NUL-terminated): one copy onto the C
// stack instead of a malloc per call on the hot path.
static inline gaia_status go_bandit_update_n(gaia_bandit *b, const char *arm, size_t len, double r, char **err) {
	char buf[260];
	if (len >= sizeof buf) {
		char *heap = malloc(len + 1);
		if (!heap) { *err = strdup("out of memory"); return GAIA_ERR_INVALID_ARGUMENT; }
		if (len) memcpy(heap, arm, len);
		heap[len] = 0;
		gaia_status st = gaia_bandit_update(b, heap, r);
		*err = go_gaia_error(st);
		free(heap);
		return st;
	}
	if (len) memcpy(buf, arm, len);
	buf[len] = 0;
	gaia_status st = gaia_bandit_update(b, buf, r);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_update_index(gaia_bandit *b, size_t i, double r, char **err) {
	gaia_status st = gaia_bandit_update_index(b, i, r);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_add_arm(gaia_bandit *b, const char *name, char **err) {
	gaia_status st = gaia_bandit_add_arm(b, name);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_remove_arm(gaia_bandit *b, const char *name, char **err) {
	gaia_status st = gaia_bandit_remove_arm(b, name);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_arm_count(gaia_bandit *b, size_t *out, char **err) {
	gaia_status st = gaia_bandit_arm_count(b, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_arm_name(gaia_bandit *b, size_t i, char **out, char **err) {
	gaia_status st = gaia_bandit_arm_name(b, i, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_stats_json(gaia_bandit *b, char **out, char **err) {
	gaia_status st = gaia_bandit_stats_json(b, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_save(gaia_bandit *b, char **out, char **err) {
	gaia_status st = gaia_bandit_save(b, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_ask(gaia_bandit *b, const double *x, size_t n, uint64_t *ticket, size_t *arm, char **err) {
	gaia_status st = gaia_bandit_ask(b, x, n, ticket, arm);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_bandit_tell(gaia_bandit *b, uint64_t ticket, double r, char **err) {
	gaia_status st = gaia_bandit_tell(b, ticket, r);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_study_new(const char *json, gaia_study **out, char **err) {
	gaia_status st = gaia_study_new(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_study_load(const char *json, gaia_study **out, char **err) {
	gaia_status st = gaia_study_load(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_study_ask(gaia_study *s, uint64_t *id, char **params, char **err) {
	gaia_status st = gaia_study_ask(s, id, params);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_study_tell(gaia_study *s, uint64_t id, double value, int32_t state, char **err) {
	gaia_status st = gaia_study_tell(s, id, value, state);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_study_enqueue(gaia_study *s, const char *params, char **err) {
	gaia_status st = gaia_study_enqueue(s, params);
	*err = go_gaia_error(st);
	return st;
}



static inline gaia_status go_study_tell_values(gaia_study *s, uint64_t id, const double *values, size_t n, int32_t state, const char *constraints, char **err) {
	gaia_status st = gaia_study_tell_values(s, id, values, n, state, constraints);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_study_add_trial_values(gaia_study *s, const char *params, const double *values, size_t n, int32_t state, uint64_t *id, char **err) {
	gaia_status st = gaia_study_add_trial_values(s, params, values, n, state, id);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_study_report(gaia_study *s, uint64_t id, uint64_t step, double value, char **err) {
	gaia_status st = gaia_study_report(s, id, step, value);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_study_should_prune(gaia_study *s, uint64_t id, bool *out, char **err) {
	gaia_status st = gaia_study_should_prune(s, id, out);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_study_flush(gaia_study *s, char **err) {
	gaia_status st = gaia_study_flush(s);
	*err = go_gaia_error(st);
	return st;
}

// what: 0 best, 1 trials, 2 save, 3 importance.
static inline gaia_status go_study_text(gaia_study *s, int what, char **out, char **err) {
	gaia_status st = what == 0 ? gaia_study_best_json(s, out)
	               : what == 1 ? gaia_study_trials_json(s, out)
	               : what == 2 ? gaia_study_save(s, out)
	                           : gaia_study_importance_json(s, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_new(const char *json, gaia_mcts **out, char **err) {
	gaia_status st = gaia_mcts_new(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_load(const uint8_t *b, size_t len, gaia_mcts **out, char **err) {
	gaia_status st = gaia_mcts_load(b, len, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_ask(gaia_mcts *m, size_t cap, gaia_mcts_trial *out, size_t *n, char **err) {
	gaia_status st = gaia_mcts_ask(m, cap, out, n);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_tell(gaia_mcts *m, uint64_t id, double score, const uint8_t *p, size_t len, uint32_t *node, char **err) {
	gaia_status st = gaia_mcts_tell(m, id, score, p, len, node);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_tell_id(gaia_mcts *m, uint64_t id, double score, uint64_t pid, uint32_t *node, char **err) {
	gaia_status st = gaia_mcts_tell_id(m, id, score, pid, node);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_abandon(gaia_mcts *m, uint64_t id, char **err) {
	gaia_status st = gaia_mcts_abandon(m, id);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_node_count(gaia_mcts *m, size_t *n, char **err) {
	gaia_status st = gaia_mcts_node_count(m, n);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_mcts_action_name(gaia_mcts *m, uint32_t i, char **out, char **err) {
	gaia_status st = gaia_mcts_action_name(m, i, out);
	*err = go_gaia_error(st);
	return st;
}

// what: 0 node, 1 top_k, 2 export.
static inline gaia_status go_mcts_text(gaia_mcts *m, int what, uint64_t arg, char **out, char **err) {
	gaia_status st = what == 0 ? gaia_mcts_node_json(m, (uint32_t)arg, out)
	               : what == 1 ? gaia_mcts_top_k_json(m, (size_t)arg, out)
	                           : gaia_mcts_export_json(m, out);
	*err = go_gaia_error(st);
	return st;
}

// what: 0 save, 1 node payload.
static inline gaia_status go_mcts_bytes(gaia_mcts *m, int what, uint32_t node, uint8_t **out, size_t *len, char **err) {
	gaia_status st = what == 0 ? gaia_mcts_save(m, out, len) : gaia_mcts_node_payload(m, node, out, len);
	*err = go_gaia_error(st);
	return st;
}
#endif
