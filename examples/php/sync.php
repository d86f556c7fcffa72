<?php
// Keeping a Solr core equal to a MariaDB table: a full rebuild with a progress line, then an
// incremental pass after some writes. Runs unchanged over FFI (php examples/php/sync.php,
// with GAIA_LIBRARY=target/gaia/lib/libgaia.so) and with the native extension
// (php -d extension=target/release/libgaia_php.so examples/php/sync.php).
//
// Needs the servers of scripts/services.sh: bash scripts/services.sh start all, then
// eval "$(bash scripts/services.sh env)" (its defaults are used when the variables are unset).
// Exits non-zero when anything fails or the index does not match the table.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\GaiaException;
use Gaia\Sync;

$dbUrl = getenv('GAIA_MARIADB_URL') ?: 'mysql://gaia:gaia-pass@127.0.0.1:3307/gaia';
$solrUrl = getenv('GAIA_SOLR_URL') ?: 'http://127.0.0.1:8983/solr';
$clientCnf = getenv('GAIA_MARIADB_CLIENT_CNF') ?: '/tmp/gaia-services/mariadb/client.cnf';

/** SQL through the mariadb client (no pdo_mysql needed); returns tab-separated rows. */
function sql(string $sql): string
{
    global $clientCnf;
    $p = proc_open(['mariadb', "--defaults-file=$clientCnf", '--batch', '--skip-column-names'],
        [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if (!is_resource($p)) {
        throw new RuntimeException('cannot start the mariadb client');
    }
    fwrite($pipes[0], "SET time_zone = '+00:00';\n$sql;\n");
    fclose($pipes[0]);
    $out = (string) stream_get_contents($pipes[1]);
    $err = (string) stream_get_contents($pipes[2]);
    if (proc_close($p) !== 0) {
        throw new RuntimeException("mariadb: $err(start the servers: bash scripts/services.sh start all)");
    }
    return $out;
}

/** A GET on Solr, decoded. */
function solr(string $path): array
{
    global $solrUrl;
    $body = @file_get_contents("$solrUrl/$path");
    if ($body === false) {
        throw new RuntimeException("Solr at $solrUrl is unreachable (bash scripts/services.sh start all)");
    }
    return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
}

$name = 'example_' . getmypid();
$table = "{$name}_items";
$core = "{$name}_core";
$stateDir = sys_get_temp_dir() . "/gaia-example-$name";

$cleanup = static function () use ($table, $core, $stateDir): void {
    try {
        sql("DROP TABLE IF EXISTS `$table`");
        foreach (array_keys(solr('admin/cores?action=STATUS&indexInfo=false&wt=json')['status']) as $c) {
            if (str_starts_with((string) $c, $core)) {
                solr("admin/cores?action=UNLOAD&core=$c&deleteInstanceDir=true&wt=json");
            }
        }
    } catch (Throwable) {
        // The servers are gone: nothing to clean there.
    }
    array_map('unlink', glob("$stateDir/*") ?: []);
    @rmdir($stateDir);
};

try {
    printf("libgaia %s via %s\n", Gaia\Library::version(), extension_loaded('gaia') ? 'the native extension' : 'FFI');
    sql("CREATE TABLE `$table` (
        id BIGINT PRIMARY KEY,
        title VARCHAR(200),
        price DECIMAL(12,2),
        deleted TINYINT(1) NOT NULL DEFAULT 0,
        updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
        KEY (updated_at, id)
      ) DEFAULT CHARSET=utf8mb4");
    $rows = ["(1, '東京 🚀 Ünïcödé', 12.30)"];
    for ($i = 2; $i <= 5000; $i++) {
        $rows[] = sprintf("(%d, 'product %d', %d.%02d)", $i, $i, $i % 500, $i % 100);
    }
    sql("INSERT INTO `$table` (id, title, price) VALUES " . implode(',', $rows));
    echo "table $table: 5000 rows\n";

    $sync = new Sync([
        'mariadb_url' => $dbUrl,
        'solr_url' => $solrUrl,
        'core' => $core,
        'state_dir' => $stateDir,
        'mapping' => [
            'table' => $table, 'primary_key' => 'id', 'version_column' => 'updated_at',
            'fields' => [
                ['column' => 'title', 'field' => 'title_t'],
                ['column' => 'price', 'field' => 'price_s', 'type' => 'decimal', 'double_field' => 'price_d'],
            ],
            'soft_delete' => ['column' => 'deleted', 'deleted_values' => [1]],
        ],
        'tuning' => ['chunk_rows' => 500, 'batch_docs' => 250, 'lag_ms' => 200],
    ]);
    $sync->check();                                  // mapping vs. the live schemas, no write

    // Full rebuild into a fresh core, verified and swapped in; a progress line meanwhile.
    $report = $sync->run('full', function (array $p): bool {
        printf("\r  %-10s %5d/%s rows, %5d docs, %.2f s", $p['phase'], $p['rows_read'], $p['rows_total'] ?? '?', $p['docs_written'], $p['elapsed_s']);
        return true;                                 // false would cancel the run
    }, 100);
    printf("\nfull: %d rows read, %d documents, verified %d, swapped %s, %.0f rows/s\n",
        $report['rows_read'], $report['docs_written'], $report['verified_count'], $report['swapped'] ? 'yes' : 'no', $report['rows_per_s']);

    // Some writes, then incremental passes. A pass covers changes older than lag_ms and
    // stops below any transaction still open on the server, so a cron job simply runs again;
    // here we loop until the pass has covered our writes.
    sql("UPDATE `$table` SET title = 'renamed ✓', price = 99.90 WHERE id IN (2, 3)");
    sql("INSERT INTO `$table` (id, title, price) VALUES (5001, 'new 新', 0.10)");
    sql("UPDATE `$table` SET deleted = 1 WHERE id = 4");
    $now = (int) trim(sql('SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)'));
    $written = $deleted = 0;
    for ($pass = 1; $pass <= 50; $pass++) {
        usleep(300_000);                             // older than lag_ms
        $report = $sync->run('incremental');
        $written += $report['docs_written'];
        $deleted += $report['docs_deleted'];
        if ($report['up_to_us'] >= $now) {
            break;
        }
    }
    printf("incremental (%d pass%s): %d documents written, %d deleted\n", $pass, $pass > 1 ? 'es' : '', $written, $deleted);
    echo 'report: ', json_encode($report, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";

    // Read it back from Solr and compare with the table.
    $live = (int) trim(sql("SELECT COUNT(*) FROM `$table` WHERE deleted = 0"));
    $found = solr("$core/select?q=*:*&rows=0&wt=json")['response']['numFound'];
    $doc = solr("$core/select?q=id:1&wt=json")['response']['docs'][0] ?? [];
    $renamed = solr("$core/select?q=id:2&wt=json")['response']['docs'][0] ?? [];
    $gone = solr("$core/select?q=id:4&rows=0&wt=json")['response']['numFound'];
    printf("Solr: %d documents (table: %d live rows); id 1: %s, price %s; id 2: %s\n",
        $found, $live, $doc['title_t'] ?? '-', $doc['price_s'] ?? '-', $renamed['title_t'] ?? '-');
    printf("progress: %s; metrics: %s\n", $sync->progress()['phase'],
        preg_match('/^gaia_sync_runs_ok_total\{[^}]*\} (\d+)$/m', $sync->metrics(), $m) ? "$m[1] runs ok" : '?');
    $ok = $found === $live && $found === 5000 && $gone === 0
        && ($doc['title_t'] ?? null) === '東京 🚀 Ünïcödé' && ($doc['price_s'] ?? null) === '12.30'
        && ($renamed['title_t'] ?? null) === 'renamed ✓';
    $sync->close();
    if (!$ok) {
        fwrite(STDERR, "sync example: the index does not match the table\n");
        $cleanup();
        exit(1);
    }
} catch (Throwable $e) {
    fwrite(STDERR, sprintf("sync example failed: %s%s: %s\n", get_class($e),
        $e instanceof GaiaException ? " (code {$e->getCode()})" : '', $e->getMessage()));
    $cleanup();
    exit(1);
}
$cleanup();
echo "ok\n";
