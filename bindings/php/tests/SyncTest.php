<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\GaiaException;
use Gaia\InvalidArgumentException;
use Gaia\NotFoundException;
use Gaia\StateException;
use Gaia\Sync;
use PHPUnit\Framework\TestCase;

/**
 * The MariaDB -> Solr sync against the real servers of scripts/services.sh (identical over
 * FFI and in the native extension). Every test uses its own tables, cores and state folder
 * (named after the process and a counter) and removes them at the end.
 */
final class SyncTest extends TestCase
{
    private const HINT = 'start them with: bash scripts/services.sh start all; eval "$(bash scripts/services.sh env)"';

    private static int $seq = 0;

    /** Unique per test: the prefix of its tables and cores. */
    private string $name;

    private string $stateDir;

    /** @var list<string> */
    private array $tables = [];

    private static function env(string $name): string
    {
        $v = getenv($name);
        if ($v === false || $v === '') {
            self::fail("$name is not set; " . self::HINT);
        }
        return $v;
    }

    protected function setUp(): void
    {
        $this->name = sprintf('php%d_%d', getmypid(), ++self::$seq);
        $this->stateDir = sys_get_temp_dir() . "/gaia-php-sync-{$this->name}";
        self::sql('SELECT 1');
        self::solr('admin/cores?action=STATUS&indexInfo=false&wt=json');
    }

    protected function tearDown(): void
    {
        foreach ($this->tables as $t) {
            self::sql("DROP TABLE IF EXISTS `$t`");
        }
        foreach ($this->cores() as $core) {
            self::solr("admin/cores?action=UNLOAD&core=$core&deleteInstanceDir=true&wt=json");
        }
        foreach (glob($this->stateDir . '/*') ?: [] as $f) {
            unlink($f);
        }
        if (is_dir($this->stateDir)) {
            rmdir($this->stateDir);
        }
    }

    /** Runs SQL through the mariadb client (PHP here has no pdo_mysql); tab-separated rows. */
    private static function sql(string $sql): string
    {
        $cmd = ['mariadb', '--defaults-file=' . self::env('GAIA_MARIADB_CLIENT_CNF'), '--batch', '--skip-column-names'];
        $p = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($p)) {
            self::fail('cannot start the mariadb client');
        }
        // The engine reads DATETIME columns in the mapping's zone (UTC by default).
        fwrite($pipes[0], "SET time_zone = '+00:00';\n$sql;\n");
        fclose($pipes[0]);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        if (proc_close($p) !== 0) {
            self::fail("mariadb: $sql: $err (" . self::HINT . ')');
        }
        return $out;
    }

    /** @return array<string, mixed> Solr's JSON answer to a GET of $path under GAIA_SOLR_URL. */
    private static function solr(string $path): array
    {
        $ctx = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 30]]);
        $body = @file_get_contents(self::env('GAIA_SOLR_URL') . '/' . $path, false, $ctx);
        if ($body === false) {
            self::fail('Solr at ' . self::env('GAIA_SOLR_URL') . ' is unreachable; ' . self::HINT);
        }
        return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
    }

    /** @return list<string> this test's Solr cores (live and build cores). */
    private function cores(): array
    {
        $status = self::solr('admin/cores?action=STATUS&indexInfo=false&wt=json')['status'];
        return array_values(array_filter(array_map('strval', array_keys($status)), fn (string $c) => str_starts_with($c, $this->name)));
    }

    private function core(): string
    {
        return $this->name . '_core';
    }

    /** @return array<string, array<string, mixed>> every document of the live core by id, without _version_. */
    private function docs(): array
    {
        $j = self::solr($this->core() . '/select?q=*:*&rows=100000&fl=*&sort=id+asc&wt=json');
        $out = [];
        foreach ($j['response']['docs'] as $d) {
            unset($d['_version_']);
            $out[$d['id']] = $d;
        }
        return $out;
    }

    /** Creates the items table with $n rows: id, title, price DECIMAL(12,2), deleted, updated_at. */
    private function items(int $n): string
    {
        $t = $this->name . '_items';
        $this->tables[] = $t;
        self::sql("CREATE TABLE `$t` (
            id BIGINT PRIMARY KEY,
            title VARCHAR(200),
            price DECIMAL(12,2),
            deleted TINYINT(1) NOT NULL DEFAULT 0,
            updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
            KEY (updated_at, id)
          ) DEFAULT CHARSET=utf8mb4");
        for ($i = 1; $i <= $n; $i += 1000) {
            $rows = [];
            for ($k = $i; $k <= min($n, $i + 999); $k++) {
                $rows[] = sprintf("(%d, 'item %d', %d.%02d)", $k, $k, $k, $k % 100);
            }
            self::sql("INSERT INTO `$t` (id, title, price) VALUES " . implode(',', $rows));
        }
        return $t;
    }

    /** @return array<string, mixed> */
    private function config(string $table, array $tuning = [], array $mapping = []): array
    {
        return [
            'mariadb_url' => self::env('GAIA_MARIADB_URL'),
            'solr_url' => self::env('GAIA_SOLR_URL'),
            'core' => $this->core(),
            'state_dir' => $this->stateDir,
            'mapping' => $mapping + [
                'table' => $table,
                'primary_key' => 'id',
                'version_column' => 'updated_at',
                'fields' => [
                    ['column' => 'title', 'field' => 'title_t'],
                    ['column' => 'price', 'field' => 'price_s', 'type' => 'decimal', 'double_field' => 'price_d'],
                ],
                'soft_delete' => ['column' => 'deleted', 'deleted_values' => [1]],
            ],
            'tuning' => $tuning + ['chunk_rows' => 500, 'batch_docs' => 200, 'lag_ms' => 200, 'retry_base_ms' => 20],
        ];
    }

    /** @return array<string, array{0: ?string, 1: ?string}> id => [title, price] of the rows not soft-deleted. */
    private static function table(string $t): array
    {
        $out = [];
        foreach (explode("\n", trim(self::sql("SELECT id, title, CAST(price AS CHAR) FROM `$t` WHERE deleted = 0 ORDER BY id"))) as $line) {
            if ($line === '') {
                continue;
            }
            [$id, $title, $price] = explode("\t", $line);
            $out[$id] = [$title === 'NULL' ? null : $title, $price === 'NULL' ? null : $price];
        }
        return $out;
    }

    /** @return array<string, array{0: ?string, 1: ?string}> the same projection of the index. */
    private function index(): array
    {
        $out = [];
        foreach ($this->docs() as $id => $d) {
            $out[(string) $id] = [$d['title_t'] ?? null, $d['price_s'] ?? null];
        }
        ksort($out);
        return $out;
    }

    private function assertIndexEqualsTable(string $t): void
    {
        $want = self::table($t);
        ksort($want);
        self::assertSame($want, $this->index(), 'the index equals the table');
    }

    /**
     * Incremental passes until one covers every write made so far (each pass stops lag_ms
     * behind the server's clock, and below any transaction other clients hold open); the
     * counters of all passes added up.
     *
     * @return array<string, mixed>
     */
    private static function incremental(Sync $sync): array
    {
        $now = (int) trim(self::sql('SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)'));
        $total = null;
        for ($i = 0; $i < 100; $i++) {
            usleep(300_000);
            $r = $sync->run('incremental');
            self::assertSame('incremental', $r['mode']);
            if ($total === null) {
                $total = $r;
            } else {
                foreach (['rows_read', 'docs_written', 'docs_deleted', 'dead_lettered'] as $k) {
                    $total[$k] += $r[$k];
                }
            }
            if ($r['up_to_us'] >= $now) {
                return $total;
            }
        }
        self::fail('incremental passes never caught up with the writes');
    }

    public function testFullRunIndexesEveryRowWithExactValues(): void
    {
        $t = $this->items(120);
        self::sql("INSERT INTO `$t` (id, title, price, deleted) VALUES
            (9001, '東京 👩‍💻 製品 🚀 Ünïcödé', 12.30, 0), (9002, 'soft-deleted', 1.00, 1)");
        $sync = new Sync(json_encode($this->config($t), JSON_THROW_ON_ERROR));
        self::assertSame('idle', $sync->progress()['phase']);
        $sync->check();
        self::assertSame([], $this->cores(), 'check() writes nothing');

        $r = $sync->run('full');
        self::assertSame('full', $r['mode']);
        self::assertSame($this->core(), $r['core']);
        self::assertTrue($r['swapped']);
        self::assertSame(122, $r['rows_read'], 'every row is read, the soft-deleted one too');
        self::assertSame(121, $r['docs_written']);
        self::assertSame(121, $r['verified_count']);
        self::assertSame(0, $r['dead_lettered']);
        self::assertFileExists($r['checkpoint_file']);

        $found = self::solr($this->core() . '/select?q=*:*&rows=0&wt=json')['response']['numFound'];
        self::assertSame(121, $found);
        $docs = $this->docs();
        self::assertSame('東京 👩‍💻 製品 🚀 Ünïcödé', $docs['9001']['title_t']);
        self::assertSame('12.30', $docs['9001']['price_s'], 'DECIMAL exact, as a string');
        self::assertSame(12.3, $docs['9001']['price_d']);
        self::assertSame('1.01', $docs['1']['price_s']);
        self::assertGreaterThan(1_600_000_000_000_000, $docs['9001']['gaia_version_l']);
        self::assertArrayNotHasKey('9002', $docs, 'a soft-deleted row is not indexed');
        $this->assertIndexEqualsTable($t);
        self::assertSame([$this->core()], $this->cores(), 'no build core is left behind');

        $p = $sync->progress();
        self::assertSame('done', $p['phase']);
        foreach (['rows_read', 'docs_written', 'docs_deleted', 'dead_lettered', 'retries'] as $k) {
            self::assertSame($r[$k], $p[$k], $k);
        }
        self::assertSame(122, $p['rows_total']);
        $m = $sync->metrics();
        self::assertStringContainsString("gaia_sync_docs_written{core=\"{$this->core()}\"} 121\n", $m);
        self::assertStringContainsString("gaia_sync_runs_ok_total{core=\"{$this->core()}\"} 1\n", $m);
        self::assertStringContainsString("gaia_sync_phase{core=\"{$this->core()}\",phase=\"done\"} 1", $m);

        // A second full rebuild swaps again and stays equal.
        $r2 = $sync->run('full');
        self::assertTrue($r2['swapped']);
        $this->assertIndexEqualsTable($t);
        self::assertSame([$this->core()], $this->cores());
    }

    public function testIncrementalFollowsUpdatesInsertsAndSoftDeletes(): void
    {
        $t = $this->items(40);
        usleep(300_000);                                 // older than lag_ms: not replayed
        $sync = new Sync($this->config($t));
        try {
            $sync->run('incremental');
            self::fail('an incremental run without checkpoint');
        } catch (NotFoundException $e) {
            self::assertSame(10, $e->getCode());
            self::assertStringContainsString('run a full rebuild first', $e->getMessage());
        }
        $r = $sync->run('auto');
        self::assertSame('full', $r['mode'], 'auto without checkpoint rebuilds');
        $this->assertIndexEqualsTable($t);

        self::sql("UPDATE `$t` SET title = 'renamed ✓ 改名', price = 42.40 WHERE id IN (3, 4)");
        self::sql("INSERT INTO `$t` (id, title, price) VALUES (101, 'new 新 😀', 9.99), (102, 'new two', 0.10)");
        self::sql("UPDATE `$t` SET deleted = 1 WHERE id = 5");
        $r = self::incremental($sync);
        // At least the four changed rows (rows within lag_ms of the rebuild are replayed).
        self::assertGreaterThanOrEqual(4, $r['docs_written'], json_encode($r));
        self::assertSame(1, $r['docs_deleted'], json_encode($r));
        $docs = $this->docs();
        self::assertSame('renamed ✓ 改名', $docs['3']['title_t']);
        self::assertSame('42.40', $docs['4']['price_s']);
        self::assertSame('0.10', $docs['102']['price_s']);
        self::assertArrayNotHasKey('5', $docs);
        $this->assertIndexEqualsTable($t);
        self::assertSame('done', $sync->progress()['phase']);

        // Undeleting a row brings it back; auto now runs incrementally.
        self::sql("UPDATE `$t` SET deleted = 0, title = 'back' WHERE id = 5");
        usleep(300_000);
        self::assertSame('incremental', $sync->run('auto')['mode']);
        self::incremental($sync);
        $this->assertIndexEqualsTable($t);
        self::assertSame('back', $this->docs()['5']['title_t']);

        // Nothing changed: an empty pass.
        $r = self::incremental($sync);
        self::assertSame(0, $r['docs_written'] + $r['docs_deleted'], json_encode($r));
    }

    public function testProgressCallbackCancelsAndTheNextRunCompletes(): void
    {
        $t = $this->items(3000);
        $sync = new Sync($this->config($t, ['chunk_rows' => 100, 'batch_docs' => 50, 'writers' => 1, 'queue_batches' => 1]));

        // false from the callback cancels: code 4, and the live core never appears.
        $calls = 0;
        $busy = null;
        $closing = null;
        try {
            $sync->run('full', function (array $p) use ($sync, &$calls, &$busy, &$closing): bool {
                $calls++;
                self::assertArrayHasKey('phase', $p);
                self::assertArrayHasKey('rows_read', $p);
                try {
                    $sync->run('full');                  // one run at a time per handle
                } catch (StateException $e) {
                    $busy = $e->getCode();
                }
                try {
                    $sync->close();                      // not while the run goes on
                } catch (StateException $e) {
                    $closing = $e->getCode();
                }
                return false;
            }, 10);
            self::fail('the run was not cancelled');
        } catch (GaiaException $e) {
            self::assertSame(GaiaException::class, get_class($e));
            self::assertSame(4, $e->getCode());
            self::assertStringContainsString('cancelled', $e->getMessage());
        }
        self::assertGreaterThanOrEqual(1, $calls);
        self::assertSame(12, $busy);
        self::assertSame(12, $closing);
        self::assertSame('cancelled', $sync->progress()['phase']);
        self::assertNotContains($this->core(), $this->cores(), 'readers never see a half-built core');
        self::assertStringContainsString("gaia_sync_runs_failed_total{core=\"{$this->core()}\"} 1\n", $sync->metrics());

        // cancel() from the callback does the same.
        try {
            $sync->run('full', function (array $p) use ($sync): bool {
                $sync->cancel();
                return true;
            }, 10);
            self::fail('the run was not cancelled');
        } catch (GaiaException $e) {
            self::assertSame(4, $e->getCode());
        }

        // An exception thrown by the callback cancels the run and comes out of run().
        $thrown = new \DomainException('stop here');
        try {
            $sync->run('full', function (array $p) use ($thrown): bool {
                throw $thrown;
            }, 10);
            self::fail('the exception was swallowed');
        } catch (\DomainException $e) {
            self::assertSame($thrown, $e);
        }
        self::assertSame('cancelled', $sync->progress()['phase']);

        // The next run finishes (resuming the rebuild) and the index is complete.
        $phases = [];
        $r = $sync->run('full', function (array $p) use (&$phases) {
            $phases[] = $p['phase'];
            return null;                                 // anything but false goes on
        }, 10);
        self::assertNotEmpty($phases);
        self::assertSame('done', end($phases), 'the last call reports the end');
        self::assertTrue($r['swapped']);
        self::assertSame(3000, $r['verified_count']);
        $found = self::solr($this->core() . '/select?q=*:*&rows=0&wt=json')['response']['numFound'];
        self::assertSame(3000, $found);
        $this->assertIndexEqualsTable($t);
        self::assertSame([$this->core()], $this->cores());
    }

    public function testCdcFollowsTheBinlogUntilTheCallbackStops(): void
    {
        $t = $this->items(20);
        // The fixture's mapping has no tombstone tables: the binlog shows hard deletes itself.
        $sync = new Sync($this->config($t, ['cdc_flush_ms' => 100]));

        // The callback is the only PHP code that runs during run(): it drives the scenario.
        // 0: wait for 'following', then write; 1: poll Solr until the writes show; 2: done.
        $state = 0;
        $calls = 0;
        $phases = [];
        $lastSeen = null;
        $timedOut = false;
        $deadline = microtime(true) + 60.0;
        $r = $sync->run('cdc', function (array $p) use ($t, $deadline, &$state, &$calls, &$phases, &$lastSeen, &$timedOut): bool {
            $calls++;
            if (end($phases) !== $p['phase']) {
                $phases[] = $p['phase'];
            }
            if ($state === 2) {
                return false;                            // a call after the stop
            }
            if (microtime(true) > $deadline) {
                $timedOut = true;
                return false;
            }
            if ($state === 0) {
                if ($p['phase'] !== 'following') {
                    return true;
                }
                self::sql("INSERT INTO `$t` (id, title, price) VALUES (101, 'cdc new 新', 7.70)");
                self::sql("UPDATE `$t` SET title = 'cdc renamed ✓', price = 42.42 WHERE id = 3");
                self::sql("DELETE FROM `$t` WHERE id = 5");
                $state = 1;
                return true;
            }
            $docs = $this->docs();
            $lastSeen = [
                '101' => $docs['101']['title_t'] ?? null,
                '3' => [$docs['3']['title_t'] ?? null, $docs['3']['price_s'] ?? null],
                '5 present' => isset($docs['5']),
            ];
            if ($lastSeen === ['101' => 'cdc new 新', '3' => ['cdc renamed ✓', '42.42'], '5 present' => false]) {
                $state = 2;
                return false;
            }
            return true;
        }, 100);

        $context = json_encode(['state' => $state, 'calls' => $calls, 'phases' => $phases, 'last_seen' => $lastSeen, 'report' => $r], JSON_UNESCAPED_UNICODE);
        self::assertFalse($timedOut, "the scenario did not finish within 60 s: $context");
        self::assertSame(2, $state, "the state machine reached its end: $context");
        self::assertContains('following', $phases, $context);
        self::assertSame('cdc', $r['mode'], $context);
        self::assertSame($this->core(), $r['core']);
        self::assertTrue($r['swapped'], 'no checkpoint: a full rebuild first');
        // The counters cover the whole run: the rebuild's documents, then the insert and the
        // update the follower wrote (the rebuild deletes nothing: no row is soft-deleted).
        self::assertSame(20, $r['verified_count'], $context);
        self::assertGreaterThanOrEqual(1, $r['docs_written'], $context);
        self::assertGreaterThanOrEqual($r['verified_count'] + 2, $r['docs_written'], $context);
        self::assertGreaterThanOrEqual(1, $r['docs_deleted'], $context);
        self::assertNotSame('following', $sync->progress()['phase'], 'the follow has stopped');
        $this->assertIndexEqualsTable($t);
        self::assertSame([$this->core()], $this->cores(), 'no build core is left behind');
        $cp = json_decode((string) file_get_contents($r['checkpoint_file']), true, 512, JSON_THROW_ON_ERROR);
        self::assertIsString($cp['gtid'] ?? null, 'the checkpoint holds a binlog position');

        // Reconciliation agrees with the follower; a hard delete made now is what it repairs.
        $d = $sync->run('reconcile')['differences'];
        self::assertSame([20 + 1 - 1, 0, 0, 0], [$d['rows_checked'], $d['missing'], $d['stale'], $d['extra']]);
        self::sql("DELETE FROM `$t` WHERE id = 7");
        $r = $sync->run('reconcile');
        self::assertSame('reconcile', $r['mode']);
        self::assertSame([0, 0, 1], [$r['differences']['missing'], $r['differences']['stale'], $r['differences']['extra']]);
        $this->assertIndexEqualsTable($t);
    }

    public function testBadInputFailsClearlyAndWritesNothing(): void
    {
        $t = $this->items(5);
        $good = $this->config($t);
        $fails = static function (callable $f, int $code, string $class, string $needle): void {
            try {
                $f();
                self::fail("no exception (expected code $code, \"$needle\")");
            } catch (GaiaException $e) {
                self::assertSame($class, get_class($e), $e->getMessage());
                self::assertSame($code, $e->getCode(), $e->getMessage());
                self::assertStringContainsString($needle, $e->getMessage());
            }
        };
        $with = static function (array $config, callable $change): array {
            $change($config);
            return $config;
        };

        $fails(fn () => new Sync('{'), 7, InvalidArgumentException::class, 'sync config');
        $fails(fn () => new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][0]['colour'] = 'red';
        })), 7, InvalidArgumentException::class, 'unknown field `colour`');
        $fails(fn () => new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][0]['type'] = 'bogus';
        })), 7, InvalidArgumentException::class, 'bogus');
        $fails(fn () => new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][0]['double_field'] = 'title_d';
        })), 8, InvalidArgumentException::class, 'mapping.fields[0].double_field');
        $fails(fn () => new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][1]['type'] = 'json';
        })), 8, InvalidArgumentException::class, 'mapping.fields[1]');
        $fails(fn () => new Sync($with($good, function (array &$c) {
            $c['tuning']['lag_ms'] = 10;
        })), 8, InvalidArgumentException::class, 'tuning.lag_ms');
        $json = json_encode($good, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE);
        $fails(fn () => new Sync(str_replace('"title_t"', "\"title\xff_t\"", $json)), 2, InvalidArgumentException::class, 'config_json is not valid UTF-8');
        $fails(fn () => new Sync(str_replace('"title_t"', "\"title\0_t\"", $json)), 9, InvalidArgumentException::class, 'config_json contains a NUL byte');
        $fails(fn () => new Sync(['core' => "bad\xff"]), 7, InvalidArgumentException::class, 'sync config: Malformed UTF-8');

        $sync = new Sync($good);
        $fails(fn () => $sync->run('sideways'), 9, InvalidArgumentException::class, 'unknown mode "sideways" (auto, full, incremental, cdc, reconcile)');
        $fails(fn () => $sync->run('full', null, -1), 9, InvalidArgumentException::class, 'intervalMs');

        // A column the table does not have, a Solr field no dynamic field matches: code 8
        // from check() and run(), before any write.
        $missing = new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][0]['column'] = 'nope';
        }));
        $fails(fn () => $missing->check(), 8, InvalidArgumentException::class, '"nope"');
        $fails(fn () => $missing->run('full'), 8, InvalidArgumentException::class, '"nope"');
        self::assertSame('failed', $missing->progress()['phase']);
        $nofield = new Sync($with($good, function (array &$c) {
            $c['mapping']['fields'][0]['field'] = 'title_nosuchsuffix';
        }));
        $fails(fn () => $nofield->run('full'), 8, InvalidArgumentException::class, 'title_nosuchsuffix');

        // An unreachable Solr: code 15, nothing written.
        $down = new Sync($with($good, function (array &$c) {
            $c['solr_url'] = 'http://127.0.0.1:9/solr';
            $c['tuning']['max_retries'] = 1;
        }));
        $fails(fn () => $down->check(), 15, GaiaException::class, '127.0.0.1:9');
        $fails(fn () => $down->run('full'), 15, GaiaException::class, '127.0.0.1:9');
        self::assertSame([], $this->cores(), 'nothing reached Solr');
        self::assertFileDoesNotExist($this->stateDir . '/' . $this->core() . '.checkpoint.json');

        // The good mapping still works afterwards.
        self::assertSame(5, $sync->run('full')['docs_written']);
    }

    public function testUseAfterCloseAndCloning(): void
    {
        $sync = new Sync($this->config('never_created'));
        $sync->close();
        $sync->close();                                  // idempotent
        foreach ([
            'run' => fn () => $sync->run('full'),
            'check' => fn () => $sync->check(),
            'progress' => fn () => $sync->progress(),
            'cancel' => fn () => $sync->cancel(),
            'metrics' => fn () => $sync->metrics(),
        ] as $what => $call) {
            try {
                $call();
                self::fail("$what after close()");
            } catch (GaiaException $e) {
                self::assertSame(GaiaException::class, get_class($e), $what);
                self::assertSame(6, $e->getCode(), $what);
                self::assertSame('sync is closed', $e->getMessage(), $what);
            }
        }
        $other = new Sync($this->config('never_created'));
        try {
            $copy = clone $other;
            self::fail('a sync was cloned');
        } catch (\Error $e) {
            self::assertStringContainsString('uncloneable', $e->getMessage());
        }
        self::assertSame('idle', $other->progress()['phase']);
    }
}
