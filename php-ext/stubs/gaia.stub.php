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

    /**
     * Chooses an arm for a reward told later with tell().
     *
     * @param list<int|float>|null $context the 'lints' context; null or [] otherwise
     * @return array{ticket: int, arm: string, index: int}
     */
    public function ask(?array $context = null): array {}

    /** Records the reward of an ask, in any order, until 'pending_ttl_s' after it. */
    public function tell(int $ticket, float $reward): void {}

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

    /**
     * @param float|list<float|int> $value one number, or one per objective ('directions')
     * @param array<string|int, float|int>|null $constraints
     */
    public function tell(int $id, float|array $value, int $state = Study::COMPLETE, ?array $constraints = null): void {}

    /** Reports an intermediate value at $step for the study's pruner. */
    public function report(int $id, int $step, float $value): void {}

    /** Whether the running trial should stop now (then tell it PRUNED). */
    public function shouldPrune(int $id): bool {}

    /** How much each parameter matters (PED-ANOVA): name => share, largest first. */
    public function importance(): array {}

    /** Writes a journal study's records to the disk now (a no-op in memory). */
    public function flush(): void {}

    /** @param array<string, mixed> $params */
    public function enqueue(array $params): void {}

    /**
     * @param array<string, mixed> $params
     * @param float|list<float|int> $value
     */
    public function addTrial(array $params, float|array $value, int $state = Study::COMPLETE): int {}

    /** @return array<string, mixed>|list<array<string, mixed>> the best trial; several objectives: the Pareto front */
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

/** Sentence embeddings with a local model folder (all-MiniLM-L6-v2 and other BERT models). */
final class Embedder
{
    /** @param array{threads?: int, max_tokens_per_batch?: int, max_length?: int, cache?: bool}|string|null $options */
    public function __construct(string $modelDir, array|string|null $options = null) {}

    public function dim(): int {}

    /** @return array<string, mixed> */
    public function info(): array {}

    /** @param list<string> $texts @return list<list<float>> */
    public function embed(array $texts, bool $normalize = true): array {}

    /** Row-major float32 bytes, count(texts) * dim() * 4 long. @param list<string> $texts */
    public function embedPacked(array $texts, bool $normalize = true): string {}

    /** @param list<string> $texts @return list<int> */
    public function countTokens(array $texts): array {}

    /** @return list<int> */
    public function tokenize(string $text): array {}

    /** @param list<list<float>> $a @param list<list<float>> $b @return list<list<float>> */
    public static function similarity(array $a, array $b, string $metric = 'cosine'): array {}
}

/** An in-memory vector index (f32, f16 or int8 rows; cosine or dot), saved to a checksummed file. */
final class VectorIndex
{
    public function __construct(array|string $options) {}

    public static function load(string $path, int $expectedDim = 0): VectorIndex {}

    public function save(string $path): void {}

    public function dim(): int {}

    public function count(): int {}

    /** @param list<int> $ids @param list<list<float>> $vectors */
    public function add(array $ids, array $vectors): void {}

    /** @param list<int> $ids */
    public function remove(array $ids): void {}

    /** @param list<float> $query @return list<array{id: int, score: float}> */
    public function search(array $query, int $k = 10): array {}

    /** @param list<list<float>> $queries @return list<list<array{id: int, score: float}>> */
    public function searchBatch(array $queries, int $k = 10): array {}

    /** Threads one search may scan with (1 to 256); results are identical. */
    public function setThreads(int $threads): void {}
}

/** Keeps a Solr core equal to MariaDB tables (docs/sync.md). */
final class Sync
{
    /** @param array<string, mixed>|string $config the sync configuration (JSON text or an array) */
    public function __construct(array|string $config) {}

    /** Checks the mapping against the live MariaDB and Solr schemas; writes nothing. */
    public function check(): void {}

    /**
     * Runs 'auto', 'full', 'incremental', 'cdc' or 'reconcile' and returns the report. $onProgress receives
     * the progress array every $intervalMs ms on this thread; returning false cancels (code 4;
     * 'cdc' follows the binlog until then and returns its report).
     * @return array<string, mixed>
     */
    public function run(string $mode = 'auto', ?callable $onProgress = null, int $intervalMs = 1000): array {}

    /** @return array<string, mixed> */
    public function progress(): array {}

    public function cancel(): void {}

    /** Prometheus text metrics. */
    public function metrics(): string {}

    public function close(): void {}
}

