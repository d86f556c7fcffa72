<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\CorruptStateException;
use Gaia\GaiaException;
use Gaia\InvalidArgumentException;
use Gaia\Mcts;
use Gaia\NotFoundException;
use Gaia\StateException;
use PHPUnit\Framework\TestCase;

/** AB-MCTS searches, identical over FFI and in the native extension. */
final class MctsTest extends TestCase
{
    /** @return iterable<string, array{array<string, mixed>}> */
    public static function vectorCases(): iterable
    {
        $data = json_decode((string) file_get_contents(GAIA_VECTORS . '/mcts_ab.json'), true, 512, JSON_THROW_ON_ERROR);
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
        $m = new Mcts($case['config']);
        foreach ($case['steps'] as $i => $step) {
            $at = "{$case['name']} step $i ({$step['op']})";
            $error = null;
            try {
                switch ($step['op']) {
                    case 'ask':
                        $got = array_map(fn (array $t) => [$t['id'], $t['node'], $t['action']], $m->ask($step['n']));
                        self::assertSame($step['expect'], $got, $at);
                        break;
                    case 'tell':
                        $p = $step['payload'];
                        $node = match (true) {
                            isset($p['id']) => $m->tellId($step['trial'], (float) $step['score'], $p['id']),
                            isset($p['text']) => $m->tell($step['trial'], (float) $step['score'], $p['text']),
                            default => $m->tell($step['trial'], (float) $step['score']),
                        };
                        if (array_key_exists('expect', $step)) {
                            self::assertSame($step['expect'], $node, $at);
                        }
                        break;
                    case 'abandon':
                        $m->abandon($step['trial']);
                        break;
                    case 'save_load':
                        $m = Mcts::load($m->save());
                        break;
                    case 'top_k':
                        self::assertEquals($step['expect'], $m->topK($step['k']), $at);
                        break;
                    case 'node':
                        self::assertEquals($step['expect'], $m->node($step['node']), $at);
                        break;
                    case 'node_count':
                        self::assertSame($step['expect'], $m->nodeCount(), $at);
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

    /** A search continued across PHP requests: each request loads, runs one step, saves. */
    public function testContinuesAcrossRequests(): void
    {
        $snapshot = (new Mcts(['actions' => ['small', 'large'], 'seed' => 9]))->save();
        $best = 0.0;
        for ($request = 0; $request < 40; $request++) {
            $m = Mcts::load($snapshot);
            foreach ($m->ask(2) as $t) {
                $score = fmod($t['id'] * 0.37 + $t['node'] * 0.11, 1.0);
                $node = $m->tell($t['id'], $score, "answer {$t['id']} from {$t['action']}\0bytes");
                self::assertSame("answer {$t['id']} from {$t['action']}\0bytes", $m->payload($node));
                $best = max($best, $score);
            }
            $snapshot = $m->save();
        }
        $m = Mcts::load($snapshot);
        self::assertSame(81, $m->nodeCount());
        self::assertSame(['small', 'large'], $m->actions());
        $top = $m->topK(1)[0];
        self::assertEqualsWithDelta($best, $top['score'], 1e-12);
        self::assertNull($m->node(0)['parent']);
        $export = json_decode($m->exportJson(), true);
        self::assertCount(81, $export['nodes']);
    }

    public function testBadInputThrowsAndChangesNothing(): void
    {
        try {
            new Mcts(['actions' => []]);
            self::fail('no exception');
        } catch (InvalidArgumentException $e) {
            self::assertSame(8, $e->getCode());
            self::assertStringContainsString('actions: at least one action', $e->getMessage());
        }
        $m = new Mcts(['seed' => 2, 'max_width' => 1, 'max_depth' => 1]);
        $t = $m->ask()[0];
        $before = $m->save();
        $cases = [
            [fn () => $m->tell($t['id'], NAN), InvalidArgumentException::class, 9, 'score must be in [0, 1], got NaN'],
            [fn () => $m->tell($t['id'], 1.5), InvalidArgumentException::class, 9, 'got 1.5'],
            [fn () => $m->tell(99, 0.5), NotFoundException::class, 10, 'unknown trial 99'],
            [fn () => $m->tell(-1, 0.5), NotFoundException::class, 10, 'must not be negative'],
            [fn () => $m->node(7), NotFoundException::class, 10, 'unknown node 7'],
            [fn () => $m->ask(0), InvalidArgumentException::class, 9, 'ask needs n in 1..=10000, got 0'],
            [fn () => $m->ask(1 << 40), InvalidArgumentException::class, 9, 'got 1099511627776'],
            [fn () => Mcts::load('junk'), CorruptStateException::class, 13, 'not a gaia mcts snapshot'],
            [fn () => Mcts::load(substr($before, 0, 30)), CorruptStateException::class, 13, ''],
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
        self::assertSame($before, $m->save());
        self::assertSame(1, $m->tell($t['id'], 0.5));
        self::assertSame(1, $m->tell($t['id'], 0.9), 'idempotent');
        try {
            $m->ask();
            self::fail('no exception');
        } catch (StateException $e) {
            self::assertStringContainsString('the tree is full', $e->getMessage());
        }
        $this->expectException(StateException::class);
        $m->abandon($t['id']);
    }
}
