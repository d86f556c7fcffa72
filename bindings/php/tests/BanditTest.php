<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\Bandit;
use Gaia\CorruptStateException;
use Gaia\GaiaException;
use Gaia\InvalidArgumentException;
use Gaia\Library;
use Gaia\NotFoundException;
use Gaia\StateException;
use PHPUnit\Framework\TestCase;

/** The bandit's behaviour, identical over FFI and in the native extension. */
final class BanditTest extends TestCase
{
    public function testVersions(): void
    {
        self::assertSame(1, Library::abiVersion());
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', Library::version());
    }

    public function testExceptionHierarchyIsTheSameEverywhere(): void
    {
        foreach ([InvalidArgumentException::class, NotFoundException::class, StateException::class,
                  CorruptStateException::class] as $class) {
            self::assertSame(GaiaException::class, get_parent_class($class));
            $e = new $class('made by user code', 42);
            self::assertInstanceOf(\RuntimeException::class, $e);
            self::assertSame(42, $e->getCode());
            self::assertSame('made by user code', $e->getMessage());
        }
        self::assertSame(\RuntimeException::class, get_parent_class(GaiaException::class));
    }

    public function testLearnsTheBestArm(): void
    {
        $b = new Bandit(['arms' => ['low', 'mid', 'high'], 'seed' => 1]);
        $p = ['low' => 0.2, 'mid' => 0.5, 'high' => 0.8];
        mt_srand(1);
        $late = 0;
        for ($round = 0; $round < 3000; $round++) {
            $arm = $b->choose();
            $b->update($arm, mt_rand() / mt_getrandmax() < $p[$arm] ? 1.0 : 0.0);
            if ($round >= 2500 && $arm === 'high') {
                $late++;
            }
        }
        self::assertGreaterThan(450, $late);
        $stats = $b->stats();
        self::assertSame(3000, $stats['total_pulls']);
        self::assertSame('beta', $stats['model']);
        self::assertEqualsWithDelta(0.8, $stats['arms'][2]['mean'], 0.03);
    }

    public function testJsonStringAndArrayConfigsAreTheSame(): void
    {
        $a = new Bandit('{"arms": ["x", "y"], "seed": 9, "discount": 0.5}');
        $b = new Bandit(['arms' => ['x', 'y'], 'seed' => 9, 'discount' => 0.5]);
        self::assertSame($a->save(), $b->save());
    }

    public function testGaussianModelAndDiscount(): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'model' => 'gaussian', 'seed' => 3, 'discount' => 0.9,
            'prior' => ['mu' => 0.5, 'kappa' => 2.0]]);
        for ($i = 0; $i < 50; $i++) {
            $b->updateIndex($i % 2, $i % 2 === 0 ? -1.0 : 2.0);
        }
        $s = $b->stats();
        self::assertSame('gaussian', $s['model']);
        self::assertArrayHasKey('kappa', $s['arms'][0]);
        self::assertGreaterThan(1.0, $s['arms'][1]['mean']);
        self::assertLessThan(10.0, $s['arms'][0]['weight']);
        self::assertSame(1, $b->chooseIndex());
    }

    public function testArmsChange(): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'seed' => 2]);
        $b->update('b', 1.0);
        $b->addArm('c');
        $b->removeArm('a');
        self::assertSame(['b', 'c'], $b->arms());
        self::assertSame(1, $b->stats()['arms'][0]['pulls']);
        for ($i = 0; $i < 10; $i++) {
            self::assertContains($b->choose(), ['b', 'c']);
        }
    }

    public function testSaveAndLoadContinueIdentically(): void
    {
        $a = new Bandit(['arms' => ['x', 'y', 'z'], 'seed' => 4]);
        for ($i = 0; $i < 30; $i++) {
            $a->update($a->choose(), (float) ($i % 2));
        }
        $b = Bandit::load($a->save());
        self::assertSame($a->save(), $b->save());
        for ($i = 0; $i < 50; $i++) {
            self::assertSame($a->choose(), $b->choose());
        }
    }

    /** @return iterable<string, array{string, class-string, int, string}> */
    public static function badConfigs(): iterable
    {
        yield 'malformed' => ['{', InvalidArgumentException::class, 7, 'bandit config: EOF'];
        yield 'wrong type' => ['{"arms": "a"}', InvalidArgumentException::class, 7, 'invalid type'];
        yield 'unknown field' => ['{"arms": ["a"], "colour": 1}', InvalidArgumentException::class, 7, 'unknown field `colour`'];
        yield 'bad discount' => ['{"arms": ["a"], "discount": 2}', InvalidArgumentException::class, 8, 'discount: must be in (0, 1]'];
        yield 'duplicate' => ['{"arms": ["a", "a"]}', InvalidArgumentException::class, 8, 'arms[1]: duplicate arm "a"'];
        yield 'bad prior' => ['{"arms": ["a"], "prior": {"mu": 1}}', InvalidArgumentException::class, 8, 'prior.mu'];
        yield 'invalid utf-8' => ["{\"arms\": [\"\xff\"]}", InvalidArgumentException::class, 2, 'config_json is not valid UTF-8'];
    }

    /** @dataProvider badConfigs */
    public function testBadConfigs(string $json, string $class, int $code, string $needle): void
    {
        try {
            new Bandit($json);
            self::fail('no exception');
        } catch (GaiaException $e) {
            self::assertInstanceOf($class, $e);
            self::assertInstanceOf(\RuntimeException::class, $e);
            self::assertSame($code, $e->getCode());
            self::assertStringContainsString($needle, $e->getMessage());
        }
    }

    /** @return iterable<string, array{\Closure(Bandit): void, class-string, int, string}> */
    public static function badCalls(): iterable
    {
        yield 'unknown arm' => [fn (Bandit $b) => $b->update('zzz', 1.0), NotFoundException::class, 10, 'unknown arm "zzz" (arms: a, b)'];
        yield 'NaN' => [fn (Bandit $b) => $b->update('a', NAN), InvalidArgumentException::class, 9, 'got NaN'];
        yield 'infinity' => [fn (Bandit $b) => $b->update('a', INF), InvalidArgumentException::class, 9, 'got inf'];
        yield 'out of range' => [fn (Bandit $b) => $b->update('a', 1.5), InvalidArgumentException::class, 9, 'in [0, 1]'];
        yield 'invalid utf-8 arm' => [fn (Bandit $b) => $b->update("\xff", 1.0), InvalidArgumentException::class, 2, 'arm is not valid UTF-8'];
        yield 'index out of range' => [fn (Bandit $b) => $b->updateIndex(5, 1.0), NotFoundException::class, 10, 'arm index 5 is out of range'];
        yield 'negative index' => [fn (Bandit $b) => $b->updateIndex(-1, 1.0), NotFoundException::class, 10, 'arm index -1 is out of range'];
        yield 'duplicate arm' => [fn (Bandit $b) => $b->addArm('a'), InvalidArgumentException::class, 11, 'arm "a" already exists'];
        yield 'empty arm' => [fn (Bandit $b) => $b->addArm(''), InvalidArgumentException::class, 9, 'must not be empty'];
        yield 'NUL in arm' => [fn (Bandit $b) => $b->update("a\0zz", 1.0), InvalidArgumentException::class, 9, 'arm contains a NUL byte'];
        yield 'NUL in new arm' => [fn (Bandit $b) => $b->addArm("a\0b"), InvalidArgumentException::class, 9, 'name contains a NUL byte'];
        yield 'NUL in removed arm' => [fn (Bandit $b) => $b->removeArm("a\0"), InvalidArgumentException::class, 9, 'name contains a NUL byte'];
        yield 'NUL in saved state' => [fn (Bandit $b) => Bandit::load($b->save() . "\0"), InvalidArgumentException::class, 9, 'saved_json contains a NUL byte'];
        yield 'remove unknown' => [fn (Bandit $b) => $b->removeArm('q'), NotFoundException::class, 10, 'unknown arm "q"'];
    }

    /**
     * @dataProvider badCalls
     * @param \Closure(Bandit): void $call
     */
    public function testBadCallsThrowAndChangeNothing(\Closure $call, string $class, int $code, string $needle): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'seed' => 5]);
        $b->update('a', 1.0);
        $before = $b->save();
        try {
            $call($b);
            self::fail('no exception');
        } catch (GaiaException $e) {
            self::assertInstanceOf($class, $e);
            self::assertSame($code, $e->getCode());
            self::assertStringContainsString($needle, $e->getMessage());
        }
        self::assertSame($before, $b->save());
        self::assertContains($b->choose(), ['a', 'b']);
    }

    public function testCloningIsRefusedAndLeavesTheOriginalWorking(): void
    {
        $b = new Bandit(['arms' => ['a'], 'seed' => 1]);
        try {
            $copy = clone $b;
            self::fail('cloned');
        } catch (\Error $e) {
            self::assertStringContainsString('uncloneable', $e->getMessage());
        }
        unset($copy);
        gc_collect_cycles();
        self::assertSame('a', $b->choose());
        $b->update('a', 1.0);
        self::assertSame(1, $b->stats()['total_pulls']);
        $this->expectException(\Error::class);
        clone new \Gaia\Study(['space' => ['params' => [['name' => 'x', 'type' => 'float', 'low' => 0, 'high' => 1]]]]);
    }

    public function testNulInConfigIsRefused(): void
    {
        try {
            new Bandit("{\"arms\": [\"a\"]}\0{}");
            self::fail('accepted');
        } catch (InvalidArgumentException $e) {
            self::assertSame(9, $e->getCode());
            self::assertSame('config_json contains a NUL byte', $e->getMessage());
        }
    }

    public function testChooseWithNoArmsIsAStateError(): void
    {
        $b = new Bandit(['arms' => []]);
        try {
            $b->choose();
            self::fail('no exception');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
            self::assertStringContainsString('no arms', $e->getMessage());
        }
        $b->addArm('only');
        self::assertSame('only', $b->choose());
    }

    public function testAskAndTellWithAContextLearnWhichArmSuitsWhichTask(): void
    {
        $b = new Bandit(['arms' => ['small', 'large'], 'policy' => 'lints', 'features' => 3, 'v' => 0.5, 'seed' => 1]);
        mt_srand(2);
        $bestLate = 0;
        $pending = [];
        for ($round = 0; $round < 1500; $round++) {
            $hard = mt_rand(0, 1);
            $length = mt_rand() / mt_getrandmax();
            $asked = $b->ask([1, $hard, $length]); // ints and floats both count as numbers
            self::assertSame($round + 1, $asked['ticket']);
            self::assertSame($b->arms()[$asked['index']], $asked['arm']);
            $best = $hard ? 'large' : 'small';
            if ($round >= 1000 && $asked['arm'] === $best) {
                $bestLate++;
            }
            // Rewards arrive later, two asks in flight, told newest first.
            $pending[] = [$asked['ticket'], ($asked['arm'] === $best ? 0.8 : 0.3) + 0.1 * ($length - 0.5)];
            if (count($pending) === 2) {
                foreach (array_reverse($pending) as [$ticket, $reward]) {
                    $b->tell($ticket, $reward);
                }
                $pending = [];
            }
        }
        self::assertGreaterThan(450, $bestLate);
        $s = $b->stats();
        self::assertSame('lints', $s['policy']);
        self::assertSame('gaussian', $s['model']);
        self::assertSame(0, $s['pending']);
        self::assertSame(1500, $s['total_pulls']);
        self::assertCount(3, $s['arms'][0]['theta']);
        self::assertArrayNotHasKey('alpha', $s['arms'][0]);
    }

    public function testAskReturnsATicketAndTheArmForEveryPolicy(): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'policy' => 'ucb1']);
        self::assertSame(['ticket' => 1, 'arm' => 'a', 'index' => 0], $b->ask());
        self::assertSame(['ticket' => 2, 'arm' => 'b', 'index' => 1], $b->ask([]));
        $b->tell(2, 1.0);
        $b->tell(1, 0.0);
        $s = $b->stats();
        self::assertSame([0, 0, 2], [$s['pending'], $s['expired'], $s['total_pulls']]);
    }

    public function testAnotherRequestTellsWhatThisOneAsked(): void
    {
        $first = new Bandit(['arms' => ['x', 'y', 'z'], 'policy' => 'lints', 'features' => 2, 'seed' => 3,
            'pending_ttl_s' => 600, 'expired_reward' => 0]);
        $asked = $first->ask([0.5, 1.0]);
        $saved = $first->save();
        self::assertStringContainsString('"version":3', $saved);
        $second = Bandit::load($saved);
        $second->tell($asked['ticket'], 1.0);
        self::assertSame(1, $second->stats()['arms'][$asked['index']]['pulls']);
        self::assertSame(1, $first->stats()['pending']);
        self::assertSame(2, $second->ask([0.0, 1.0])['ticket']);
        // The same draws as the original once it is told the same.
        $first->tell($asked['ticket'], 1.0);
        self::assertSame($first->ask([0.0, 1.0])['arm'], Bandit::load($saved)->ask([0.0, 1.0])['arm']);
    }

    public function testExpiredAsksCountAsTheExpiredReward(): void
    {
        $b = new Bandit(['arms' => ['a'], 'pending_ttl_s' => 0.05, 'expired_reward' => 0]);
        $ticket = $b->ask()['ticket'];
        usleep(120000);
        try {
            $b->tell($ticket, 1.0);
            self::fail('told an expired ticket');
        } catch (StateException $e) {
            self::assertSame(12, $e->getCode());
            self::assertSame('ticket 1 expired after 0.05 s and counted as reward 0', $e->getMessage());
        }
        $s = $b->stats();
        self::assertSame([0, 1, 1], [$s['pending'], $s['expired'], $s['total_pulls']]);
        self::assertEquals(2.0, $s['arms'][0]['beta']);
    }

    /** @return iterable<string, array{\Closure(Bandit): mixed, class-string, int, string}> */
    public static function badTickets(): iterable
    {
        yield 'unknown ticket' => [fn (Bandit $b) => $b->tell(99, 1.0), NotFoundException::class, 10, 'unknown ticket 99: the asks so far returned tickets 1 to 2'];
        yield 'ticket 0' => [fn (Bandit $b) => $b->tell(0, 1.0), NotFoundException::class, 10, 'unknown ticket 0: tickets start at 1'];
        yield 'negative ticket' => [fn (Bandit $b) => $b->tell(-3, 1.0), NotFoundException::class, 10, 'unknown ticket -3: tickets start at 1'];
        yield 'told twice' => [fn (Bandit $b) => $b->tell(1, 1.0), StateException::class, 12, 'ticket 1 was already told'];
        yield 'NaN reward' => [fn (Bandit $b) => $b->tell(2, NAN), InvalidArgumentException::class, 9, 'got NaN'];
        yield 'huge reward' => [fn (Bandit $b) => $b->tell(2, 1e13), InvalidArgumentException::class, 9, 'at most 1e12'];
        yield 'no context' => [fn (Bandit $b) => $b->ask(), InvalidArgumentException::class, 9, 'needs a context of 2 features with every ask, got none'];
        yield 'short context' => [fn (Bandit $b) => $b->ask([1.0]), InvalidArgumentException::class, 9, 'context: expected 2 features, got 1'];
        yield 'NaN in context' => [fn (Bandit $b) => $b->ask([1.0, NAN]), InvalidArgumentException::class, 9, 'context[1] must be finite and at most 1e9 in magnitude, got NaN'];
        yield 'INF in context' => [fn (Bandit $b) => $b->ask([INF, 1.0]), InvalidArgumentException::class, 9, 'context[0] must be finite'];
        yield 'string in context' => [fn (Bandit $b) => $b->ask([1.0, 'x']), InvalidArgumentException::class, 9, 'context[1] must be a number, got string'];
        yield 'long context' => [fn (Bandit $b) => $b->ask(array_fill(0, 2000, 1.0)), InvalidArgumentException::class, 9, 'got 2000 numbers, more than the 1024 features a bandit takes'];
        yield 'choose' => [fn (Bandit $b) => $b->choose(), StateException::class, 12, 'policy "lints" is contextual: choose cannot give it a context'];
        yield 'update' => [fn (Bandit $b) => $b->update('a', 1.0), StateException::class, 12, 'policy "lints" is contextual: update cannot'];
    }

    /**
     * @dataProvider badTickets
     * @param \Closure(Bandit): mixed $call
     */
    public function testBadAsksAndTellsThrowAndChangeNothing(\Closure $call, string $class, int $code, string $needle): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'policy' => 'lints', 'features' => 2, 'seed' => 5]);
        $b->tell($b->ask([1.0, 0.0])['ticket'], 0.5);
        $b->ask([0.0, 1.0]);
        $before = $b->save();
        try {
            $call($b);
            self::fail('no exception');
        } catch (GaiaException $e) {
            self::assertInstanceOf($class, $e);
            self::assertSame($code, $e->getCode());
            self::assertStringContainsString($needle, $e->getMessage());
        }
        self::assertSame($before, $b->save());
        $b->tell(2, 0.25);
    }

    public function testRemovingAnArmDropsItsTicketsAndAContextIsOnlyForLinTS(): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'policy' => 'ucb1']);
        $ta = $b->ask()['ticket'];
        $tb = $b->ask()['ticket'];
        $b->removeArm('a');
        try {
            $b->tell($ta, 1.0);
            self::fail('told a dropped ticket');
        } catch (StateException $e) {
            self::assertSame("ticket $ta was dropped when its arm \"a\" was removed", $e->getMessage());
        }
        $b->tell($tb, 1.0);
        self::assertSame(1, $b->stats()['arms'][0]['pulls']);
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('context: policy "ucb1" takes no context, got 1 features');
        $b->ask([1.0]);
    }

    public function testCorruptAndFutureSaves(): void
    {
        $b = new Bandit(['arms' => ['a', 'b'], 'seed' => 6]);
        $b->update('a', 1.0);
        $good = $b->save();
        $cases = [
            [substr($good, 0, intdiv(strlen($good), 2)), 13],
            [str_replace('"weight":1.0', '"weight":-1.0', $good), 13],
            [str_replace('"name":"b"', '"name":"a"', $good), 13],
            [str_replace('"version":1', '"version":9', $good), 14],
            ['', 13],
            ["\xff", 2],
        ];
        foreach ($cases as [$text, $code]) {
            try {
                Bandit::load($text);
                self::fail('loaded: ' . $text);
            } catch (GaiaException $e) {
                self::assertSame($code, $e->getCode(), $e->getMessage());
                self::assertInstanceOf($code === 2 ? InvalidArgumentException::class : CorruptStateException::class, $e);
            }
        }
    }
}
