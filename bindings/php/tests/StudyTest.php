<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\CorruptStateException;
use Gaia\GaiaException;
use Gaia\InvalidArgumentException;
use Gaia\NotFoundException;
use Gaia\StateException;
use Gaia\Study;
use PHPUnit\Framework\TestCase;

/** Studies, identical over FFI and in the native extension. */
final class StudyTest extends TestCase
{
    private const CONFIG = ['space' => ['params' => [
        ['name' => 'x', 'type' => 'float', 'low' => -5, 'high' => 5],
        ['name' => 'kind', 'type' => 'categorical', 'choices' => ['a', 'b']],
    ]], 'sampler' => ['type' => 'tpe'], 'seed' => 3];

    /** @param array<string, mixed> $p */
    private static function quad(array $p): float
    {
        return ($p['x'] - 1.0) ** 2 + ($p['kind'] === 'b' ? 1.0 : 0.0);
    }

    public function testOptimisesAcrossRequests(): void
    {
        $saved = (new Study(self::CONFIG))->save();
        for ($request = 0; $request < 60; $request++) {
            $study = Study::load($saved);
            $t = $study->ask();
            $study->tell($t['id'], self::quad($t['params']));
            $saved = $study->save();
        }
        $best = Study::load($saved)->best();
        self::assertLessThan(0.5, $best['value']);
        self::assertSame('a', $best['params']['kind']);
        self::assertCount(60, Study::load($saved)->trials());
    }

    public function testEnqueueAndAddTrial(): void
    {
        $s = new Study(json_encode(self::CONFIG));
        $s->enqueue(['x' => 1.0, 'kind' => 'a']);
        self::assertSame(['id' => 0, 'params' => ['kind' => 'a', 'x' => 1.0]], $s->ask());
        self::assertSame(1, $s->addTrial(['x' => 2.0, 'kind' => 'b'], 2.0));
        self::assertSame(2, $s->addTrial(['x' => 0.0, 'kind' => 'a'], 0.0, Study::FAILED));
        self::assertSame(1, $s->best()['id']);
        self::assertSame(['running', 'complete', 'failed'], array_column($s->trials(), 'state'));
    }

    public function testBadInputThrowsAndChangesNothing(): void
    {
        try {
            new Study(['space' => ['params' => [['name' => 'top_p', 'type' => 'float', 'low' => 1.5, 'high' => 1.0]]]]);
            self::fail('no exception');
        } catch (InvalidArgumentException $e) {
            self::assertSame(8, $e->getCode());
            self::assertSame('search space: param "top_p": low 1.5 > high 1.0', $e->getMessage());
        }
        $s = new Study(self::CONFIG);
        try {
            $s->best();
            self::fail('no exception');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
        }
        $t = $s->ask();
        $before = $s->save();
        $cases = [
            [fn () => $s->tell($t['id'], 1.0, Study::COMPLETE, ['c' => 1.0]), InvalidArgumentException::class, 9, 'unknown constraint "c"'],
            [fn () => $s->tell($t['id'], 1.0, Study::COMPLETE, [NAN]), InvalidArgumentException::class, 9, 'constraints'],
            [fn () => $s->importance(), StateException::class, 12, 'at least 2 complete trials'],
            [fn () => $s->tell($t['id'], 1.0, 7), InvalidArgumentException::class, 9, 'pruned (3), got 7'],
            [fn () => $s->tell(99, 1.0), NotFoundException::class, 10, 'unknown trial 99'],
            [fn () => $s->tell(-1, 1.0), NotFoundException::class, 10, 'trial id must not be negative, got -1'],
            [fn () => $s->enqueue(['x' => 9.0, 'kind' => 'a']), InvalidArgumentException::class, 8, 'param "x": 9.0 is outside'],
            [fn () => $s->enqueue(['x' => 1.0]), InvalidArgumentException::class, 8, 'param "kind": missing'],
            [fn () => $s->enqueue(['x' => 1.0, 'kind' => "\xff"]), InvalidArgumentException::class, 7, 'trial params: Malformed UTF-8'],
        ];
        foreach ($cases as [$call, $class, $code, $needle]) {
            try {
                $call();
                self::fail("no exception for $needle");
            } catch (GaiaException $e) {
                self::assertInstanceOf($class, $e);
                self::assertSame($code, $e->getCode(), $e->getMessage());
                self::assertStringContainsString($needle, $e->getMessage());
            }
        }
        self::assertSame($before, $s->save());
        // NaN is recorded as a failure, never reaching the model.
        $s->tell($t['id'], NAN);
        self::assertSame('failed', $s->trials()[0]['state']);
        $this->expectException(StateException::class);
        $s->tell($t['id'], 1.0);
    }

    public function testConstraintsAndImportance(): void
    {
        $s = new Study(['space' => ['params' => [
            ['name' => 'temperature', 'type' => 'float', 'low' => 0, 'high' => 2],
            ['name' => 'seed_noise', 'type' => 'float', 'low' => 0, 'high' => 1],
        ]], 'direction' => 'maximize', 'constraints' => ['latency_over_budget'], 'sampler' => ['type' => 'tpe'], 'seed' => 5]);
        for ($i = 0; $i < 60; $i++) {
            $t = $s->ask();
            $temp = $t['params']['temperature'];
            // Quality grows with temperature, but latency exceeds the budget above 1.2.
            $s->tell($t['id'], $temp, Study::COMPLETE, ['latency_over_budget' => $temp - 1.2]);
        }
        $best = $s->best();
        self::assertTrue($best['feasible']);
        self::assertGreaterThan(1.0, $best['value']);
        self::assertLessThanOrEqual(1.2, $best['value']);
        self::assertEqualsWithDelta($best['value'] - 1.2, $best['constraints']['latency_over_budget'], 1e-12);
        $imp = $s->importance();
        self::assertSame('temperature', array_key_first($imp));
        self::assertEqualsWithDelta(1.0, array_sum($imp), 1e-9);
        // A list in declaration order works too; a wrong count is refused.
        $t = $s->ask();
        try {
            $s->tell($t['id'], 1.0, Study::COMPLETE, [1.0, 2.0]);
            self::fail('no exception');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('2 constraint values given; the study declares 1 (latency_over_budget)', $e->getMessage());
        }
        $s->tell($t['id'], 1.0, Study::COMPLETE, [-0.2]);
    }

    public function testJournalSharedByProcesses(): void
    {
        $path = sys_get_temp_dir() . '/gaia-php-journal-' . getmypid() . '.jsonl';
        @unlink($path);
        $config = ['space' => ['params' => [['name' => 'x', 'type' => 'float', 'low' => -5, 'high' => 5]]],
            'sampler' => ['type' => 'tpe'], 'storage' => "journal:$path"];
        $a = new Study($config);
        $b = new Study($config);
        $ta = $a->ask();
        $tb = $b->ask();
        self::assertSame([0, 1], [$ta['id'], $tb['id']]);
        $b->tell($ta['id'], 2.0);
        $a->tell($tb['id'], 1.0);
        $a->flush();
        // A second PHP process sees both trials and adds its own.
        $code = sprintf('require %s; $s = new Gaia\Study(%s); $t = $s->ask(); $s->tell($t["id"], 0.5); echo count($s->trials());',
            var_export(dirname(__DIR__) . '/autoload.php', true), var_export(json_encode($config), true));
        $out = shell_exec(escapeshellarg(PHP_BINARY) . ' ' . self::childArgs() . ' -r ' . escapeshellarg($code));
        self::assertSame('3', $out);
        self::assertSame(0.5, $a->best()['value']);
        self::assertCount(3, $b->trials());
        unset($a, $b);
        @unlink($path);
    }

    public function testStudySharedThroughMariaDb(): void
    {
        $url = getenv('GAIA_MARIADB_URL');
        if ($url === false || $url === '') {
            self::fail('GAIA_MARIADB_URL is not set; start MariaDB with scripts/services.sh start mariadb');
        }
        $name = 'php-' . (getenv('GAIA_PHP_IMPL') ?: 'ffi') . '-' . getmypid() . '-' . hrtime(true);
        $config = ['name' => $name, 'storage' => $url,
            'space' => ['params' => [['name' => 'x', 'type' => 'float', 'low' => -5, 'high' => 5]]],
            'sampler' => ['type' => 'tpe']];
        $a = new Study($config);
        $t = $a->ask();
        self::assertSame(0, $t['id']);
        $a->tell($t['id'], 2.0);
        // A second PHP process opens the study by name alone and adds a trial.
        $child = ['name' => $name, 'storage' => $url];
        $code = sprintf('require %s; $s = new Gaia\Study(%s); $t = $s->ask(); $s->tell($t["id"], 0.5); echo $t["id"], " ", count($s->trials());',
            var_export(dirname(__DIR__) . '/autoload.php', true), var_export(json_encode($child), true));
        $out = shell_exec(escapeshellarg(PHP_BINARY) . ' ' . self::childArgs() . ' -r ' . escapeshellarg($code));
        self::assertSame('1 2', $out);
        self::assertSame(0.5, $a->best()['value']);
        self::assertCount(2, $a->trials());
        // The same tell again is recognised; a different value for a finished trial is not.
        $a->tell($t['id'], 2.0);
        try {
            $a->tell($t['id'], 3.0);
            self::fail('a second, different tell must throw');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
        }
        // A contradicting configuration and a wrong password: clear errors, no password shown.
        try {
            new Study(['direction' => 'maximize'] + $config);
            self::fail('a different direction must throw');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('direction', $e->getMessage());
        }
        $wrong = preg_replace('#://([^:]+):[^@]*@#', '://$1:not-the-password@', $url);
        try {
            new Study(['storage' => $wrong] + $config);
            self::fail('a wrong password must throw');
        } catch (GaiaException $e) {
            self::assertSame(15, $e->getCode());
            self::assertStringContainsString('access denied', $e->getMessage());
            self::assertStringNotContainsString('not-the-password', $e->getMessage());
        }
    }

    /** The native extension, when this suite runs against it (scripts/test-php.sh ext). */
    private static function childArgs(): string
    {
        $so = getenv('GAIA_PHP_EXT');
        return getenv('GAIA_PHP_IMPL') === 'ext' && $so ? '-d extension=' . escapeshellarg($so) : '';
    }

    public function testSeveralObjectivesGiveTheParetoFront(): void
    {
        // Quality (maximise) against cost (minimise), as an LLM call's settings trade them.
        $s = new Study(['space' => ['params' => [
            ['name' => 'max_tokens', 'type' => 'int', 'low' => 64, 'high' => 1024, 'log' => true],
        ]], 'directions' => ['maximize', 'minimize'], 'sampler' => ['type' => 'tpe'], 'seed' => 4]);
        for ($i = 0; $i < 30; $i++) {
            $t = $s->ask();
            $n = $t['params']['max_tokens'];
            $s->tell($t['id'], [log($n), $n / 1000.0]);
        }
        $front = $s->best();
        self::assertNotEmpty($front);
        self::assertTrue(array_is_list($front));
        foreach ($front as $f) {
            self::assertCount(2, $f['values']);
            self::assertArrayNotHasKey('value', $f);
        }
        // Every trial is on the front here: more tokens is better and dearer, so none
        // dominates another (a repeated setting ties, and ties do not dominate).
        self::assertCount(30, $front);
        $dominated = $s->addTrial(['max_tokens' => 100], [0.0, 5.0]);
        self::assertNotContains($dominated, array_column($s->best(), 'id'));

        $t = $s->ask();
        $saved = $s->save();
        try {
            $s->tell($t['id'], 1.0);
            self::fail('one value for two objectives');
        } catch (InvalidArgumentException $e) {
            self::assertSame(9, $e->getCode());
            self::assertStringContainsString('2 objectives', $e->getMessage());
        }
        try {
            $s->tell($t['id'], ['quality' => 1.0, 'cost' => 2.0]);
            self::fail('values by name');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('list', $e->getMessage());
        }
        try {
            $s->report($t['id'], 1, 0.5);
            self::fail('pruning with two objectives');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
        }
        self::assertSame($saved, $s->save());
        $s->tell($t['id'], [NAN, 1.0]);
        self::assertSame('failed', $s->trials()[$t['id']]['state']);
    }

    public function testPrunerStopsBadTrials(): void
    {
        $s = new Study(['space' => ['params' => [['name' => 'x', 'type' => 'float', 'low' => 0, 'high' => 1]]],
            'pruner' => ['type' => 'median', 'n_startup_trials' => 2], 'seed' => 2]);
        $pruned = [];
        foreach ([1.0, 2.0, 10.0, 0.5] as $level) {
            $t = $s->ask();
            $stopped = false;
            for ($step = 0; $step < 5 && !$stopped; $step++) {
                $s->report($t['id'], $step, $level / ($step + 1));
                $stopped = $s->shouldPrune($t['id']);
            }
            $s->tell($t['id'], $level, $stopped ? Study::PRUNED : Study::COMPLETE);
            $pruned[] = $stopped;
        }
        self::assertSame([false, false, true, false], $pruned);
        self::assertSame([[0, 10.0]], $s->trials()[2]['intermediate']);
        self::assertSame('pruned', $s->trials()[2]['state']);
        $t = $s->ask();
        foreach ([[NAN, InvalidArgumentException::class], [INF, InvalidArgumentException::class]] as [$bad, $class]) {
            try {
                $s->report($t['id'], 0, $bad);
                self::fail('non-finite report');
            } catch (GaiaException $e) {
                self::assertInstanceOf($class, $e);
            }
        }
        try {
            $s->report($t['id'], -1, 0.5);
            self::fail('negative step');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('negative', $e->getMessage());
        }
        try {
            $s->shouldPrune(99);
            self::fail('unknown trial');
        } catch (NotFoundException $e) {
            self::assertSame(10, $e->getCode());
        }
        self::assertFalse($s->shouldPrune($t['id']));
        $s->tell($t['id'], 0.1);
        try {
            $s->report($t['id'], 1, 0.1);
            self::fail('report after tell');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
        }
    }

    public function testCorruptSaves(): void
    {
        $good = (new Study(self::CONFIG))->save();
        foreach ([[substr($good, 0, 40), 13], [str_replace('"version":1', '"version":5', $good), 14]] as [$text, $code]) {
            try {
                Study::load($text);
                self::fail('loaded');
            } catch (CorruptStateException $e) {
                self::assertSame($code, $e->getCode());
            }
        }
    }

    /** @return iterable<string, array{array<string, mixed>}> */
    public static function vectorCases(): iterable
    {
        $data = json_decode((string) file_get_contents(GAIA_VECTORS . '/tune_study.json'), true, 512, JSON_THROW_ON_ERROR);
        foreach ($data['cases'] as $case) {
            yield $case['name'] => [$case];
        }
    }

    /**
     * @dataProvider vectorCases
     * @param array<string, mixed> $case
     */
    public function testSharedVectors(array $case): void
    {
        $states = ['complete' => Study::COMPLETE, 'failed' => Study::FAILED, 'pruned' => Study::PRUNED];
        // JSON holds no NaN: the vectors write it as the string "NaN".
        $num = fn (mixed $v): float => is_string($v) ? NAN : (float) $v;
        $s = new Study($case['config']);
        foreach ($case['steps'] as $i => $step) {
            $at = "{$case['name']} step $i ({$step['op']})";
            $error = null;
            try {
                switch ($step['op']) {
                    case 'enqueue':
                        $s->enqueue($step['params']);
                        break;
                    case 'ask':
                        $t = $s->ask();
                        self::assertSame($step['expect_id'], $t['id'], $at);
                        self::assertEquals($step['expect'], $t['params'], $at);
                        self::assertSame(json_encode($step['expect']), json_encode($t['params']), $at);
                        break;
                    case 'tell':
                        $value = isset($step['values']) ? array_map($num, $step['values']) : $num($step['value']);
                        $s->tell($step['id'], $value, $states[$step['state']], $step['constraints'] ?? null);
                        break;
                    case 'report':
                        $s->report($step['id'], $step['step'], $num($step['value']));
                        break;
                    case 'should_prune':
                        self::assertSame($step['expect_json'], json_encode($s->shouldPrune($step['id'])), $at);
                        break;
                    case 'importance':
                        $want = [];
                        foreach ($step['expect'] as $row) {
                            $want[$row['param']] = (float) $row['importance'];
                        }
                        self::assertSame($want, $s->importance(), $at);
                        break;
                    case 'trials':
                        self::assertEquals($step['expect'], $s->trials(), $at);
                        break;
                    case 'save_load':
                        $s = Study::load($s->save());
                        break;
                    case 'best':
                        self::assertEquals($step['expect'], $s->best(), $at);
                        break;
                    default:
                        self::fail("unknown op $at");
                }
            } catch (GaiaException $e) {
                $error = $e;
            }
            self::assertSame($step['code'] ?? null, $error?->getCode(), $at . ($error ? ': ' . $error->getMessage() : ''));
        }
    }
}
