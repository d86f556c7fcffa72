<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\Bandit;
use Gaia\GaiaException;
use PHPUnit\Framework\TestCase;

/** Replays tests/vectors/bandit.json: every front end must reproduce it exactly. */
final class VectorsTest extends TestCase
{
    private const CODES = [
        'GAIA_ERR_INVALID_ARGUMENT' => 9, 'GAIA_ERR_NOT_FOUND' => 10,
        'GAIA_ERR_ALREADY_EXISTS' => 11, 'GAIA_ERR_INVALID_STATE' => 12,
    ];

    /** @return iterable<string, array{array<string, mixed>}> */
    public static function cases(): iterable
    {
        $data = json_decode((string) file_get_contents(GAIA_VECTORS . '/bandit.json'), true, 512, JSON_THROW_ON_ERROR);
        foreach ($data['cases'] as $case) {
            yield $case['name'] => [$case];
        }
    }

    /**
     * @dataProvider cases
     * @param array<string, mixed> $case
     */
    public function testReplay(array $case): void
    {
        $b = new Bandit(json_encode($case['config'], JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR));
        foreach ($case['steps'] as $i => $step) {
            $at = "{$case['name']} step $i ({$step['op']})";
            $before = $b->save();
            $error = null;
            try {
                switch ($step['op']) {
                    case 'choose':
                        $arm = $b->choose();
                        self::assertSame($step['expect'] ?? null, $arm, $at);
                        break;
                    case 'ask':
                        $asked = $b->ask($step['context'] ?? null);
                        self::assertSame($step['expect'] ?? null, $asked['arm'], $at);
                        self::assertSame($step['ticket'] ?? null, $asked['ticket'], $at);
                        break;
                    case 'tell':
                        $b->tell($step['ticket'], (float) $step['reward']);
                        break;
                    case 'update':
                        $b->update($step['arm'], (float) $step['reward']);
                        break;
                    case 'add_arm':
                        $b->addArm($step['arm']);
                        break;
                    case 'remove_arm':
                        $b->removeArm($step['arm']);
                        break;
                    case 'save_load':
                        $b = Bandit::load($before);
                        break;
                    case 'arms':
                        self::assertSame($step['expect'], $b->arms(), $at);
                        break;
                    case 'stats':
                        self::assertSame(json_decode($step['expect_json'], true), $b->stats(), $at);
                        self::assertEquals($step['expect'], $b->stats(), $at);
                        break;
                    default:
                        self::fail("unknown op $at");
                }
            } catch (GaiaException $e) {
                $error = $e;
            }
            if (isset($step['code'])) {
                self::assertNotNull($error, "$at: expected {$step['error']}");
                self::assertSame($step['code'], $error->getCode(), "$at: " . $error->getMessage());
                self::assertSame(self::CODES[$step['error']] ?? -1, $error->getCode());
                self::assertSame($before, $b->save(), "$at: a failed call changed the bandit");
            } else {
                self::assertNull($error, $at . ($error ? ': ' . $error->getMessage() : ''));
            }
        }
    }
}
