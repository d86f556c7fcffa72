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
            [fn () => $s->tell($t['id'], NAN), InvalidArgumentException::class, 9, 'not finite'],
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
        $s->tell($t['id'], 0.0, Study::FAILED);
        $this->expectException(StateException::class);
        $s->tell($t['id'], 1.0);
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
                        $s->tell($step['id'], (float) $step['value'], $states[$step['state']]);
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
