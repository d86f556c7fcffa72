/* The sync C ABI against the real MariaDB and Solr started by scripts/services.sh:
 * a full rebuild and an incremental pass read back from Solr, progress from a callback
 * and from another thread, cancellation, metrics, and every kind of bad input. */
#define _DEFAULT_SOURCE
#include <gaia.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char table[64], core[64], state_dir[256], config[4096];
static const char *cnf, *db_url, *solr_url;

/* Runs SQL through the mariadb client; returns its exit status. */
static int sql(const char *statement) {
  char path[] = "/tmp/gaia-c-sync-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  FILE *f = fdopen(fd, "w");
  fputs(statement, f);
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "mariadb --defaults-file='%s' < '%s'", cnf, path);
  int rc = system(cmd);
  unlink(path);
  return rc;
}

/* Reads Solr's answer to `query` on the test core into a malloc'd string. */
static char *solr_get(const char *query) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "curl -s --max-time 10 '%s/%s/select?%s'", solr_url, core, query);
  FILE *p = popen(cmd, "r");
  if (!p) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
  }
  buf[len] = 0;
  pclose(p);
  return buf;
}

static long num_found(const char *query) {
  char *r = solr_get(query);
  const char *at = r ? strstr(r, "\"numFound\":") : NULL;
  long n = at ? strtol(at + 11, NULL, 10) : -1;
  free(r);
  return n;
}

/* The integer after "key": in a JSON text, or -1. */
static long json_int(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *at = json ? strstr(json, pat) : NULL;
  return at ? strtol(at + strlen(pat), NULL, 10) : -1;
}

static void make_config(const char *solr, int chunk_rows) {
  snprintf(config, sizeof config,
           "{\"mariadb_url\":\"%s\",\"solr_url\":\"%s\",\"core\":\"%s\",\"state_dir\":\"%s\","
           "\"mapping\":{\"table\":\"%s\",\"primary_key\":\"id\",\"version_column\":\"updated_at\","
           "\"fields\":[{\"column\":\"title\",\"field\":\"title_t\"},"
           "{\"column\":\"price\",\"field\":\"price_s\",\"type\":\"decimal\",\"double_field\":\"price_d\"}],"
           "\"soft_delete\":{\"column\":\"deleted\",\"deleted_values\":[1]}},"
           "\"tuning\":{\"chunk_rows\":%d,\"batch_docs\":100,\"writers\":2,\"lag_ms\":200}}",
           db_url, solr, core, state_dir, table, chunk_rows);
}

static gaia_sync *open_sync(void) {
  gaia_sync *s = NULL;
  CHECK_STATUS(gaia_sync_new(config, &s), GAIA_OK);
  return s;
}

static void test_bad_input(void) {
  gaia_sync *s = NULL;
  CHECK_STATUS(gaia_sync_new(NULL, &s), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_sync_new(config, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_sync_new("{\"mariadb_url\": ", &s), GAIA_ERR_INVALID_JSON);
  CHECK_STATUS(gaia_sync_new("{\"mariadb_url\": \"\xff\"}", &s), GAIA_ERR_INVALID_UTF8);
  CHECK_STATUS(gaia_sync_new("{\"no_such_option\": 1}", &s), GAIA_ERR_INVALID_JSON);
  CHECK(s == NULL, "a failed gaia_sync_new wrote *out");
  /* A well-formed config with a value out of range names the field. */
  make_config(solr_url, 0);
  CHECK_STATUS(gaia_sync_new(config, &s), GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "chunk_rows") != NULL, "message names the field: %s", gaia_last_error());
  make_config(solr_url, 500);

  /* Wrong handles, NULL handles, NULL out-parameters. */
  gaia_bandit *b = NULL;
  CHECK_STATUS(gaia_bandit_new("{\"arms\":[\"a\"]}", &b), GAIA_OK);
  CHECK_STATUS(gaia_sync_run((const gaia_sync *)b, GAIA_SYNC_FULL, NULL), GAIA_ERR_INVALID_HANDLE);
  CHECK_STATUS(gaia_sync_cancel((const gaia_sync *)b), GAIA_ERR_INVALID_HANDLE);
  gaia_sync_free((gaia_sync *)b); /* a mistagged pointer is left alone */
  gaia_bandit_free(b);
  CHECK_STATUS(gaia_sync_run(NULL, GAIA_SYNC_FULL, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_sync_check(NULL), GAIA_ERR_NULL_POINTER);
  gaia_sync_free(NULL);

  s = open_sync();
  char *out = NULL;
  CHECK_STATUS(gaia_sync_progress(s, NULL), GAIA_ERR_NULL_POINTER);
  CHECK_STATUS(gaia_sync_progress(s, &out), GAIA_OK);
  CHECK(out && strstr(out, "\"phase\":\"idle\""), "progress before any run: %s", out ? out : "(null)");
  gaia_string_free(out);
  out = NULL;
  CHECK_STATUS(gaia_sync_run(s, 7, &out), GAIA_ERR_INVALID_ARGUMENT);
  CHECK(strstr(gaia_last_error(), "mode 7") != NULL, "names the mode: %s", gaia_last_error());
  /* Wrong call order: an incremental pass before any full rebuild. */
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_INCREMENTAL, &out), GAIA_ERR_NOT_FOUND);
  CHECK(out == NULL, "a failed run wrote the report");
  CHECK(strstr(gaia_last_error(), "full rebuild first") != NULL, "%s", gaia_last_error());
  gaia_sync_free(s);

  /* A missing column: a clear error before any write, naming it. */
  char saved[sizeof config];
  memcpy(saved, config, sizeof config);
  char *at = strstr(config, "\"column\":\"title\"");
  memcpy(at, "\"column\":\"tytle\"", 16);
  s = open_sync();
  CHECK_STATUS(gaia_sync_check(s), GAIA_ERR_INVALID_CONFIG);
  CHECK(strstr(gaia_last_error(), "tytle") != NULL, "names the column: %s", gaia_last_error());
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_FULL, NULL), GAIA_ERR_INVALID_CONFIG);
  gaia_sync_free(s);
  memcpy(config, saved, sizeof config);

  /* An unreachable Solr: an I/O error before any write. */
  make_config("http://127.0.0.1:9/solr", 500);
  s = open_sync();
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_FULL, NULL), GAIA_ERR_IO);
  CHECK(strstr(gaia_last_error(), "Solr") != NULL, "names Solr: %s", gaia_last_error());
  gaia_sync_free(s);
  make_config(solr_url, 500);
}

struct progress_seen {
  int calls;
  int saw_building;
  long last_rows;
  int cancel_after; /* cancel (return 1) once this many rows are read; 0 = never */
};

static int32_t on_progress(const char *json, void *userdata) {
  struct progress_seen *p = userdata;
  p->calls++;
  if (strstr(json, "\"phase\":\"building\"")) p->saw_building = 1;
  p->last_rows = json_int(json, "rows_read");
  return p->cancel_after > 0 && p->last_rows >= p->cancel_after;
}

static void *cancel_soon(void *arg) {
  gaia_sync *s = arg;
  for (int i = 0; i < 2000; i++) {
    char *out = NULL;
    if (gaia_sync_progress(s, &out) == GAIA_OK) {
      long rows = json_int(out, "rows_read");
      gaia_string_free(out);
      if (rows > 0) break;
    }
    usleep(5000);
  }
  gaia_sync_cancel(s);
  return NULL;
}

/* A CDC run on its own thread (it follows the binlog until cancelled). */
struct cdc_run {
  gaia_sync *s;
  gaia_status status;
  char *report;
};

static void *run_cdc(void *arg) {
  struct cdc_run *c = arg;
  c->status = gaia_sync_run(c->s, GAIA_SYNC_CDC, &c->report);
  return NULL;
}

static void create_table(int rows) {
  char stmt[512];
  snprintf(stmt, sizeof stmt,
           "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id BIGINT PRIMARY KEY, title VARCHAR(200), "
           "price DECIMAL(12,2), deleted TINYINT NOT NULL DEFAULT 0, updated_at DATETIME(6) NOT NULL "
           "DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at, id)) "
           "DEFAULT CHARSET=utf8mb4;",
           table, table);
  CHECK(sql(stmt) == 0, "create table %s", table);
  snprintf(stmt, sizeof stmt,
           "INSERT INTO %s (id, title, price) SELECT seq, CONCAT('item ', seq), seq / 100 "
           "FROM seq_1_to_%d; UPDATE %s SET title = '猫 🚀 naïve', price = 12.30 WHERE id = 7;",
           table, rows, table);
  CHECK(sql(stmt) == 0, "fill %s", table);
  /* Rows older than lag_ms, so the rebuild's incremental cursor starts after them. */
  usleep(400 * 1000);
}

static void test_sync(int rows) {
  char stmt[512];
  gaia_sync *s = open_sync();
  CHECK_STATUS(gaia_sync_check(s), GAIA_OK);

  /* Cancelled from the progress callback: GAIA_ERR_CANCELLED, the live core untouched. */
  struct progress_seen seen = {0, 0, 0, 1};
  char *report = NULL;
  CHECK_STATUS(gaia_sync_run_with_progress(s, GAIA_SYNC_FULL, 10, on_progress, &seen, &report),
               GAIA_ERR_CANCELLED);
  CHECK(report == NULL, "a cancelled run wrote the report");
  CHECK(seen.calls >= 1, "the callback ran %d times", seen.calls);

  /* Cancelled from another thread. */
  pthread_t th;
  pthread_create(&th, NULL, cancel_soon, s);
  gaia_status st = gaia_sync_run(s, GAIA_SYNC_FULL, NULL);
  pthread_join(th, NULL);
  CHECK(st == GAIA_ERR_CANCELLED || st == GAIA_OK, "run cancelled from a thread: %s", gaia_status_name(st));

  /* The full rebuild, with progress; it resumes what the cancelled runs acknowledged. */
  struct progress_seen full = {0, 0, 0, 0};
  CHECK_STATUS(gaia_sync_run_with_progress(s, GAIA_SYNC_FULL, 10, on_progress, &full, &report), GAIA_OK);
  CHECK(full.calls >= 1 && full.last_rows > 0 && full.last_rows <= rows, "final callback: %d calls, %ld rows", full.calls, full.last_rows);
  CHECK(report && strstr(report, "\"mode\":\"full\"") && strstr(report, "\"swapped\":true"), "report %s", report);
  CHECK(json_int(report, "verified_count") == rows, "verified %ld of %d", json_int(report, "verified_count"), rows);
  gaia_string_free(report);
  report = NULL;
  CHECK(num_found("q=*:*&rows=0") == rows, "Solr holds %ld docs, want %d", num_found("q=*:*&rows=0"), rows);
  char *doc = solr_get("q=id:7&fl=title_t,price_s,price_d&wt=json");
  CHECK(doc && strstr(doc, "猫 \\uD83D\\uDE80 naïve") && strstr(doc, "\"12.30\""), "document 7: %s", doc);
  free(doc);

  /* Incremental: an update, an insert, a soft delete and a hard delete... of which the
   * mapping sees the first three (hard deletes need a tombstone table). */
  snprintf(stmt, sizeof stmt,
           "UPDATE %s SET price = 12345.67 WHERE id = 1; INSERT INTO %s (id, title, price) VALUES "
           "(%d, 'new row', 1.50); UPDATE %s SET deleted = 1 WHERE id = 2;",
           table, table, rows + 1, table);
  CHECK(sql(stmt) == 0, "change rows");
  usleep(400 * 1000); /* past lag_ms */
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_AUTO, &report), GAIA_OK);
  CHECK(report && strstr(report, "\"mode\":\"incremental\""), "auto chose incremental: %s", report);
  CHECK(json_int(report, "rows_read") == 3, "3 changed rows read: %s", report);
  CHECK(json_int(report, "docs_deleted") == 1, "1 soft delete: %s", report);
  gaia_string_free(report);
  CHECK(num_found("q=*:*&rows=0") == rows, "after +1 -1: %ld docs", num_found("q=*:*&rows=0"));
  CHECK(num_found("q=price_s:%2212345.67%22&rows=0") == 1, "update visible");
  CHECK(num_found("q=id:2&rows=0") == 0, "soft delete visible");

  char *text = NULL;
  CHECK_STATUS(gaia_sync_progress(s, &text), GAIA_OK);
  CHECK(text && strstr(text, "\"phase\":\"done\"") && json_int(text, "rows_read") == 3, "progress %s", text);
  gaia_string_free(text);
  CHECK_STATUS(gaia_sync_metrics(s, &text), GAIA_OK);
  char want[128];
  snprintf(want, sizeof want, "gaia_sync_docs_written{core=\"%s\"} 2", core);
  CHECK(text && strstr(text, want), "metrics lack %s:\n%s", want, text);
  gaia_string_free(text);

  /* A hard delete (no tombstone table: an incremental pass cannot see it): reconciliation
   * finds the extra document, deletes it, and a second pass finds nothing. */
  snprintf(stmt, sizeof stmt, "DELETE FROM %s WHERE id = 3;", table);
  CHECK(sql(stmt) == 0, "hard delete");
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_RECONCILE, &report), GAIA_OK);
  CHECK(report && strstr(report, "\"mode\":\"reconcile\"") && json_int(report, "extra") == 1 &&
            json_int(report, "missing") == 0 && json_int(report, "stale") == 0,
        "reconcile found the hard delete: %s", report);
  gaia_string_free(report);
  CHECK(num_found("q=id:3&rows=0") == 0, "hard delete repaired");
  CHECK_STATUS(gaia_sync_run(s, GAIA_SYNC_RECONCILE, &report), GAIA_OK);
  CHECK(report && json_int(report, "extra") == 0 && json_int(report, "missing") == 0,
        "nothing left to repair: %s", report);
  gaia_string_free(report);
  CHECK_STATUS(gaia_sync_run(s, 9, &report), GAIA_ERR_INVALID_ARGUMENT);

  /* Change data capture from the rebuild's GTID position, in a thread, until cancelled:
   * an update and a hard delete (no tombstone table) become searchable. */
  struct cdc_run cdc = {s, GAIA_OK, NULL};
  pthread_create(&th, NULL, run_cdc, &cdc);
  int following = 0;
  for (int i = 0; i < 1200 && !following; i++) {
    if (gaia_sync_progress(s, &text) == GAIA_OK) {
      following = strstr(text, "\"phase\":\"following\"") != NULL;
      gaia_string_free(text);
    }
    if (!following) usleep(50 * 1000);
  }
  CHECK(following, "the CDC run never reached phase following");
  snprintf(stmt, sizeof stmt, "UPDATE %s SET title = 'from the binlog' WHERE id = 4; DELETE FROM %s WHERE id = 5;",
           table, table);
  CHECK(sql(stmt) == 0, "change rows under CDC");
  int seen_cdc = 0;
  for (int i = 0; i < 1200 && !seen_cdc; i++) {
    seen_cdc = num_found("q=title_t:binlog&fq=id:4&rows=0") == 1 && num_found("q=id:5&rows=0") == 0;
    if (!seen_cdc) usleep(50 * 1000);
  }
  CHECK(seen_cdc, "CDC did not apply the update and the hard delete");
  gaia_sync_cancel(s);
  pthread_join(th, NULL);
  CHECK_STATUS(cdc.status, GAIA_OK);
  CHECK(cdc.report && strstr(cdc.report, "\"mode\":\"cdc\"") && json_int(cdc.report, "docs_deleted") >= 1 &&
            json_int(cdc.report, "docs_written") >= 1,
        "CDC report %s", cdc.report);
  gaia_string_free(cdc.report);
  gaia_sync_free(s);

  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null '%s/admin/cores?action=UNLOAD&core=%s&deleteInstanceDir=true'",
           solr_url, core);
  if (!getenv("GAIA_TEST_KEEP")) CHECK(system(cmd) == 0, "unload core");
  snprintf(stmt, sizeof stmt, "DROP TABLE %s;", table);
  if (!getenv("GAIA_TEST_KEEP")) CHECK(sql(stmt) == 0, "drop table");
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
  CHECK(system(cmd) == 0, "remove state dir");
}

int main(void) {
  cnf = getenv("GAIA_MARIADB_CLIENT_CNF");
  db_url = getenv("GAIA_MARIADB_URL");
  solr_url = getenv("GAIA_SOLR_URL");
  if (!cnf || !db_url || !solr_url) {
    fprintf(stderr, "test_sync: the services' environment is missing; run\n"
                    "  bash scripts/services.sh start all && eval \"$(bash scripts/services.sh env)\"\n");
    return 1;
  }
  int pid = (int)getpid();
  snprintf(table, sizeof table, "c_%d_items", pid);
  snprintf(core, sizeof core, "c_%d", pid);
  snprintf(state_dir, sizeof state_dir, "/tmp/gaia-c-sync-%d", pid);
  make_config(solr_url, 500);
  /* Under valgrind (GAIA_TEST_QUICK=1) a smaller table: every call is ~30x slower there. */
  int rows = getenv("GAIA_TEST_QUICK") ? 1500 : 20000;
  create_table(rows);
  test_bad_input();
  test_sync(rows);
  return done("test_sync");
}
