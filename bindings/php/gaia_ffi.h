#define FFI_SCOPE "GAIA"
#define FFI_LIB "libgaia.so.1"
/* GENERATED from include/gaia.h by scripts/gen-header.sh (cc -E -P). DO NOT EDIT. */
enum gaia_log_level
 {
  GAIA_LOG_OFF = 0,
  GAIA_LOG_ERROR = 1,
  GAIA_LOG_WARN = 2,
  GAIA_LOG_INFO = 3,
  GAIA_LOG_DEBUG = 4,
  GAIA_LOG_TRACE = 5,
};
typedef int32_t gaia_log_level;
enum gaia_status
 {
  GAIA_OK = 0,
  GAIA_ERR_NULL_POINTER = 1,
  GAIA_ERR_INVALID_UTF8 = 2,
  GAIA_ERR_PANIC = 3,
  GAIA_ERR_CANCELLED = 4,
  GAIA_ERR_BUFFER_TOO_SMALL = 5,
  GAIA_ERR_INVALID_HANDLE = 6,
  GAIA_ERR_INVALID_JSON = 7,
  GAIA_ERR_INVALID_CONFIG = 8,
  GAIA_ERR_INVALID_ARGUMENT = 9,
  GAIA_ERR_NOT_FOUND = 10,
  GAIA_ERR_ALREADY_EXISTS = 11,
  GAIA_ERR_INVALID_STATE = 12,
  GAIA_ERR_CORRUPT_STATE = 13,
  GAIA_ERR_UNSUPPORTED_VERSION = 14,
  GAIA_ERR_IO = 15,
};
typedef int32_t gaia_status;
enum gaia_trial_state
 {
  GAIA_TRIAL_COMPLETE = 1,
  GAIA_TRIAL_FAILED = 2,
  GAIA_TRIAL_PRUNED = 3,
};
typedef int32_t gaia_trial_state;
typedef struct gaia_bandit gaia_bandit;
typedef struct gaia_embedder gaia_embedder;
typedef struct gaia_index gaia_index;
typedef struct gaia_mcts gaia_mcts;
typedef struct gaia_study gaia_study;
typedef struct gaia_sync gaia_sync;
typedef void (*gaia_log_callback)(void *userdata, gaia_log_level level, const char *target, const char *message);
typedef void (*gaia_free_callback)(void *userdata);
typedef struct {
  uint64_t trial_id;
  uint32_t node;
  uint32_t action;
} gaia_mcts_trial;
typedef int32_t (*gaia_sync_progress_callback)(const char *progress_json, void *userdata);
extern const uint32_t gaia_abi_v1;
gaia_status gaia_test_panic(void);
void gaia_string_free(char *s);
gaia_status gaia_bandit_new(const char *config_json, gaia_bandit **out);
void gaia_bandit_free(gaia_bandit *bandit);
gaia_status gaia_bandit_choose(gaia_bandit *bandit, size_t *out_index);
gaia_status gaia_bandit_choose_name(gaia_bandit *bandit, char **out_name);
gaia_status gaia_bandit_update(gaia_bandit *bandit, const char *arm, double reward);
gaia_status gaia_bandit_update_index(gaia_bandit *bandit, size_t index, double reward);
gaia_status gaia_bandit_arm_count(const gaia_bandit *bandit, size_t *out_count);
gaia_status gaia_bandit_arm_name(const gaia_bandit *bandit, size_t index, char **out_name);
gaia_status gaia_bandit_add_arm(gaia_bandit *bandit, const char *name);
gaia_status gaia_bandit_remove_arm(gaia_bandit *bandit, const char *name);
gaia_status gaia_bandit_stats_json(const gaia_bandit *bandit, char **out_json);
gaia_status gaia_bandit_save(const gaia_bandit *bandit, char **out_json);
gaia_status gaia_bandit_load(const char *saved_json, gaia_bandit **out);
gaia_status gaia_bandit_ask(gaia_bandit *bandit, const double *context, size_t context_len, uint64_t *out_ticket, size_t *out_arm);
gaia_status gaia_bandit_tell(gaia_bandit *bandit, uint64_t ticket, double reward);
gaia_status gaia_embedder_open(const char *model_dir, const char *options_json, gaia_embedder **out);
void gaia_embedder_free(gaia_embedder *embedder);
size_t gaia_embedder_cache_clear(void);
gaia_status gaia_embedder_dim(const gaia_embedder *embedder, size_t *out_dim);
gaia_status gaia_embedder_info_json(const gaia_embedder *embedder, char **out_json);
gaia_status gaia_embedder_embed(const gaia_embedder *embedder, const char *const *texts, const size_t *lens, size_t count, uint32_t flags, float *out, size_t out_len);
gaia_status gaia_embedder_count_tokens(const gaia_embedder *embedder, const char *const *texts, const size_t *lens, size_t count, size_t *out_counts);
gaia_status gaia_embedder_tokenize(const gaia_embedder *embedder, const char *text, size_t len, uint32_t *out_ids, size_t capacity, size_t *out_count);
gaia_status gaia_similarity(const float *a, size_t na, const float *b, size_t nb, size_t dim, uint32_t metric, float *out, size_t out_len);
gaia_status gaia_index_new(const char *options_json, gaia_index **out);
gaia_status gaia_index_load(const char *path, size_t expected_dim, gaia_index **out);
gaia_status gaia_index_save(const gaia_index *index, const char *path);
void gaia_index_free(gaia_index *index);
gaia_status gaia_index_add(gaia_index *index, const uint64_t *ids, size_t count, const float *vectors, size_t vectors_len);
gaia_status gaia_index_remove(gaia_index *index, const uint64_t *ids, size_t count);
gaia_status gaia_index_set_threads(gaia_index *index, size_t threads);
gaia_status gaia_index_len(const gaia_index *index, size_t *out_len, size_t *out_dim);
gaia_status gaia_index_search(const gaia_index *index, const float *queries, size_t queries_len, size_t k, uint64_t *out_ids, float *out_scores, size_t out_capacity, size_t *out_found);
gaia_status gaia_set_logger(gaia_log_callback callback, void *userdata, gaia_free_callback free_userdata, int32_t max_level);
gaia_status gaia_mcts_new(const char *config_json, gaia_mcts **out);
gaia_status gaia_mcts_load(const uint8_t *bytes, size_t len, gaia_mcts **out);
void gaia_mcts_free(gaia_mcts *search);
gaia_status gaia_mcts_ask(gaia_mcts *search, size_t capacity, gaia_mcts_trial *out_trials, size_t *out_count);
gaia_status gaia_mcts_tell(gaia_mcts *search, uint64_t trial_id, double score, const uint8_t *payload, size_t payload_len, uint32_t *out_node);
gaia_status gaia_mcts_tell_id(gaia_mcts *search, uint64_t trial_id, double score, uint64_t payload_id, uint32_t *out_node);
gaia_status gaia_mcts_abandon(gaia_mcts *search, uint64_t trial_id);
gaia_status gaia_mcts_node_count(const gaia_mcts *search, size_t *out_count);
gaia_status gaia_mcts_action_name(const gaia_mcts *search, uint32_t index, char **out_name);
gaia_status gaia_mcts_node_json(const gaia_mcts *search, uint32_t node, char **out_json);
gaia_status gaia_mcts_node_payload(const gaia_mcts *search, uint32_t node, uint8_t **out_bytes, size_t *out_len);
gaia_status gaia_mcts_top_k_json(const gaia_mcts *search, size_t k, char **out_json);
gaia_status gaia_mcts_export_json(const gaia_mcts *search, char **out_json);
gaia_status gaia_mcts_save(const gaia_mcts *search, uint8_t **out_bytes, size_t *out_len);
void gaia_bytes_free(uint8_t *bytes, size_t len);
const char *gaia_last_error(void);
const char *gaia_status_name(int32_t status);
gaia_status gaia_study_new(const char *config_json, gaia_study **out);
gaia_status gaia_study_load(const char *saved_json, gaia_study **out);
void gaia_study_free(gaia_study *study);
gaia_status gaia_study_ask(gaia_study *study, uint64_t *out_trial_id, char **out_params_json);
gaia_status gaia_study_tell(gaia_study *study, uint64_t trial_id, double value, int32_t state);
gaia_status gaia_study_tell_constraints(gaia_study *study, uint64_t trial_id, double value, int32_t state, const char *constraints_json);
gaia_status gaia_study_tell_values(gaia_study *study, uint64_t trial_id, const double *values, size_t n_values, int32_t state, const char *constraints_json);
gaia_status gaia_study_report(gaia_study *study, uint64_t trial_id, uint64_t step, double value);
gaia_status gaia_study_should_prune(gaia_study *study, uint64_t trial_id, bool *out_prune);
gaia_status gaia_study_enqueue(gaia_study *study, const char *params_json);
gaia_status gaia_study_add_trial(gaia_study *study, const char *params_json, double value, int32_t state, uint64_t *out_trial_id);
gaia_status gaia_study_add_trial_values(gaia_study *study, const char *params_json, const double *values, size_t n_values, int32_t state, uint64_t *out_trial_id);
gaia_status gaia_study_best_json(const gaia_study *study, char **out_json);
gaia_status gaia_study_importance_json(const gaia_study *study, char **out_json);
gaia_status gaia_study_flush(const gaia_study *study);
gaia_status gaia_study_trials_json(const gaia_study *study, char **out_json);
gaia_status gaia_study_save(const gaia_study *study, char **out_json);
gaia_status gaia_sync_new(const char *config_json, gaia_sync **out);
void gaia_sync_free(gaia_sync *sync);
gaia_status gaia_sync_check(const gaia_sync *sync);
gaia_status gaia_sync_run(const gaia_sync *sync, uint32_t mode, char **report_json);
gaia_status gaia_sync_run_with_progress(const gaia_sync *sync, uint32_t mode, uint32_t interval_ms, gaia_sync_progress_callback callback, void *userdata, char **report_json);
gaia_status gaia_sync_progress(const gaia_sync *sync, char **out);
gaia_status gaia_sync_cancel(const gaia_sync *sync);
gaia_status gaia_sync_metrics(const gaia_sync *sync, char **out);
const char *gaia_version(void);
uint32_t gaia_abi_version(void);
