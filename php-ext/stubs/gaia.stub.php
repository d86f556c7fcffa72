<?php
// Stubs of the native extension `gaia` for IDEs and static analysis. The classes, methods
// and exceptions are the same as the FFI binding's (bindings/php/src/Gaia); see there and
// docs/bindings.md for the full documentation. Never loaded at run time.

namespace Gaia;

class GaiaException extends \RuntimeException {}
class InvalidArgumentException extends GaiaException {}
class NotFoundException extends GaiaException {}
class StateException extends GaiaException {}
class CorruptStateException extends GaiaException {}

final class Library
{
    /** The library's semantic version, e.g. "0.1.0". */
    public static function version(): string {}

    /** The ABI version (1). */
    public static function abiVersion(): int {}
}

final class Bandit
{
    /** @param array<string, mixed>|string $config the configuration, or it as JSON */
    public function __construct(array|string $config) {}

    public static function load(string $saved): Bandit {}

    public function choose(): string {}

    public function chooseIndex(): int {}

    public function update(string $arm, float $reward): void {}

    public function updateIndex(int $index, float $reward): void {}

    public function addArm(string $name): void {}

    public function removeArm(string $name): void {}

    /** @return list<string> */
    public function arms(): array {}

    /** @return array<string, mixed> */
    public function stats(): array {}

    public function save(): string {}
}

final class Study
{
    public const COMPLETE = 1;
    public const FAILED = 2;
    public const PRUNED = 3;

    /** @param array<string, mixed>|string $config the configuration, or it as JSON */
    public function __construct(array|string $config) {}

    public static function load(string $saved): Study {}

    /** @return array{id: int, params: array<string, mixed>} */
    public function ask(): array {}

    public function tell(int $id, float $value, int $state = Study::COMPLETE, ?array $constraints = null): void {}

    /** How much each parameter matters (PED-ANOVA): name => share, largest first. */
    public function importance(): array {}

    /** Writes a journal study's records to the disk now (a no-op in memory). */
    public function flush(): void {}

    /** @param array<string, mixed> $params */
    public function enqueue(array $params): void {}

    /** @param array<string, mixed> $params */
    public function addTrial(array $params, float $value, int $state = Study::COMPLETE): int {}

    /** @return array<string, mixed> */
    public function best(): array {}

    /** @return list<array<string, mixed>> */
    public function trials(): array {}

    public function save(): string {}
}

/** A tree search over LLM answers (AB-MCTS-A or a baseline); save()/load() carry it across requests. */
final class Mcts
{
    public function __construct(array|string $config) {}

    /** Restores a search from a binary snapshot written by save(). */
    public static function load(string $snapshot): Mcts {}

    /** @return list<string> */
    public function actions(): array {}

    /** @return list<array{id: int, node: int, action: string}> */
    public function ask(int $n = 1): array {}

    /** Adds a trial's new answer (score in [0, 1], optional binary-safe text); returns its node id. */
    public function tell(int $trialId, float $score, ?string $payload = null): int {}

    public function tellId(int $trialId, float $score, int $payloadId): int {}

    public function abandon(int $trialId): void {}

    /** @return array<string, mixed> */
    public function node(int $id): array {}

    public function payload(int $id): ?string {}

    /** @return list<array<string, mixed>> */
    public function topK(int $k): array {}

    public function nodeCount(): int {}

    public function exportJson(): string {}

    public function save(): string {}
}
