/* Keeps a Solr core equal to a MariaDB table from C: a full rebuild with a progress line,
 * then an incremental pass after some writes. Needs the services (scripts/services.sh
 * start all) and their environment (eval "$(scripts/services.sh env)"); the demo table
 * comes from examples/data/sync_products.sql. */
#include <gaia.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t show_progress(const char *progress_json, void *userdata) {
  (void)userdata;
  fprintf(stderr, "  progress %s\n", progress_json);
  return 0; /* non-zero would cancel the run */
}

static int fail(const char *what, gaia_status st) {
  fprintf(stderr, "%s: %s: %s\n", what, gaia_status_name(st), gaia_last_error());
  return 1;
}

static int sql(const char *cnf, const char *statement) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "mariadb --defaults-file='%s' -e \"%s\"", cnf, statement);
  return system(cmd);
}

int main(void) {
  const char *db = getenv("GAIA_MARIADB_URL"), *solr = getenv("GAIA_SOLR_URL");
  const char *cnf = getenv("GAIA_MARIADB_CLIENT_CNF");
  if (!db || !solr || !cnf) {
    fprintf(stderr, "run: bash scripts/services.sh start all && eval \"$(bash scripts/services.sh env)\"\n");
    return 1;
  }
  char load[1024];
  snprintf(load, sizeof load, "mariadb --defaults-file='%s' < examples/data/sync_products.sql", cnf);
  if (system(load) != 0) return 1;

  char config[2048];
  snprintf(config, sizeof config,
           "{\"mariadb_url\": \"%s\", \"solr_url\": \"%s\", \"core\": \"demo_products\","
           " \"state_dir\": \"target/examples/sync-state-c\","
           " \"mapping\": {\"table\": \"demo_product\", \"primary_key\": \"id\", \"id_prefix\": \"p-\","
           "  \"version_column\": \"updated_at\","
           "  \"fields\": [{\"column\": \"title\", \"field\": \"title_t\"},"
           "   {\"column\": \"price\", \"field\": \"price_s\", \"type\": \"decimal\", \"double_field\": \"price_d\"},"
           "   {\"column\": \"status\", \"field\": \"status_s\"},"
           "   {\"column\": \"attrs\", \"type\": \"json\", \"paths\": [{\"path\": \"$.color\", \"field\": \"color_s\", \"type\": \"string\"}]}],"
           "  \"children\": [{\"table\": \"demo_product_tag\", \"foreign_key\": \"product_id\","
           "   \"version_column\": \"updated_at\", \"fields\": [{\"column\": \"tag\", \"field\": \"tags_ss\"}]}],"
           "  \"soft_delete\": {\"column\": \"deleted\", \"deleted_values\": [1]}},"
           " \"tuning\": {\"lag_ms\": 200}}",
           db, solr);

  gaia_sync *sync = NULL;
  gaia_status st = gaia_sync_new(config, &sync);
  if (st != GAIA_OK) return fail("gaia_sync_new", st);

  char *report = NULL;
  st = gaia_sync_run_with_progress(sync, GAIA_SYNC_FULL, 200, show_progress, NULL, &report);
  if (st != GAIA_OK) return fail("full rebuild", st);
  printf("full rebuild: %s\n", report);
  gaia_string_free(report);

  /* Writes after the rebuild: a price change, a new tag, a soft delete. */
  if (sql(cnf, "UPDATE demo_product SET price = 19.99 WHERE id = 1;"
               " INSERT INTO demo_product_tag (product_id, tag) VALUES (2, 'sale');"
               " UPDATE demo_product SET deleted = 1 WHERE id = 3; DO SLEEP(0.3);") != 0)
    return 1;
  st = gaia_sync_run(sync, GAIA_SYNC_INCREMENTAL, &report);
  if (st != GAIA_OK) return fail("incremental pass", st);
  printf("incremental: %s\n", report);
  gaia_string_free(report);
  gaia_sync_free(sync);
  return 0;
}
