<?php
declare(strict_types=1);

namespace Gaia;

/**
 * An in-memory vector index: add vectors with integer ids, remove, top-k search by
 * cosine or dot product over f32, f16 or int8 rows (compressed rows rescored exactly),
 * save and load a checksummed file.
 */
final class VectorIndex
{
    private \FFI\CData $handle;

    private int $dim;

    /**
     * @param array{dim: int, metric?: string, storage?: string, rescore?: bool, oversample?: int}|string $options
     * @throws InvalidArgumentException malformed options (7) or a bad value (8)
     */
    public function __construct(array|string $options)
    {
        $json = is_array($options) ? json_encode($options, JSON_THROW_ON_ERROR) : $options;
        $lib = FFI::lib();
        $out = $lib->new('gaia_index *');
        FFI::check($lib->gaia_index_new(FFI::text($json, 'options_json'), \FFI::addr($out)));
        $this->adopt($out);
    }

    /**
     * Reads a file written by save(); $expectedDim 0 accepts any dimension.
     *
     * @throws NotFoundException no such file (10)
     * @throws CorruptStateException a damaged file (13) or a newer format (14)
     * @throws InvalidArgumentException a file of another dimension (9)
     */
    public static function load(string $path, int $expectedDim = 0): self
    {
        $lib = FFI::lib();
        $out = $lib->new('gaia_index *');
        FFI::check($lib->gaia_index_load(FFI::text($path, 'path'), max(0, $expectedDim), \FFI::addr($out)));
        $idx = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $idx->adopt($out);
        return $idx;
    }

    private function adopt(\FFI\CData $handle): void
    {
        $this->handle = $handle;
        $lib = FFI::lib();
        $dim = $lib->new('size_t');
        FFI::check($lib->gaia_index_len($handle, null, \FFI::addr($dim)));
        $this->dim = $dim->cdata;
    }

    public function __destruct()
    {
        if (isset($this->handle)) {
            FFI::lib()->gaia_index_free($this->handle);
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        unset($this->handle);
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\VectorIndex');
    }

    /** Writes the index to $path atomically. */
    public function save(string $path): void
    {
        FFI::check(FFI::lib()->gaia_index_save($this->handle, FFI::text($path, 'path')));
    }

    public function dim(): int
    {
        return $this->dim;
    }

    /** Number of vectors. */
    public function count(): int
    {
        $lib = FFI::lib();
        $n = $lib->new('size_t');
        FFI::check($lib->gaia_index_len($this->handle, \FFI::addr($n), null));
        return $n->cdata;
    }

    /**
     * Adds vectors; all or nothing.
     *
     * @param list<int> $ids non-negative, unique
     * @param list<list<float>> $vectors one per id
     * @throws InvalidArgumentException an id present already (11), a wrong dimension or NaN (9)
     */
    public function add(array $ids, array $vectors): void
    {
        $n = count($ids);
        if (count($vectors) !== $n) {
            throw new InvalidArgumentException(sprintf('add: %d ids but %d vectors', $n, count($vectors)), 9);
        }
        $cids = self::ids($ids);
        $cv = Embedder::floats($vectors, $this->dim, 'add');
        FFI::check(FFI::lib()->gaia_index_add($this->handle, $cids, $n, $cv, $n * $this->dim));
    }

    /**
     * How many threads one search may scan with (1 to 256; default: the `threads` option,
     * 1 for a loaded index). Results are identical; large indexes answer sooner.
     */
    public function setThreads(int $threads): void
    {
        if ($threads < 1) {
            throw new InvalidArgumentException("index threads: $threads is outside 1..=256", 9);
        }
        FFI::check(FFI::lib()->gaia_index_set_threads($this->handle, $threads));
    }

    /**
     * Removes vectors by id; all or nothing.
     *
     * @param list<int> $ids
     * @throws NotFoundException an id not in the index (10)
     */
    public function remove(array $ids): void
    {
        FFI::check(FFI::lib()->gaia_index_remove($this->handle, self::ids($ids), count($ids)));
    }

    /**
     * The $k nearest vectors, best first.
     *
     * @param list<float> $query
     * @return list<array{id: int, score: float}>
     */
    public function search(array $query, int $k = 10): array
    {
        return $this->searchBatch([$query], $k)[0];
    }

    /**
     * search() for several queries at once (computed as matrix products: faster per query).
     *
     * @param list<list<float>> $queries
     * @return list<list<array{id: int, score: float}>>
     */
    public function searchBatch(array $queries, int $k = 10): array
    {
        $nq = count($queries);
        if ($k < 1) {
            throw new InvalidArgumentException('search: k must be at least 1', 9);
        }
        $lib = FFI::lib();
        $q = Embedder::floats($queries, $this->dim, 'query');
        $cap = max(1, $nq * $k);
        $ids = $lib->new("uint64_t[$cap]");
        $scores = $lib->new("float[$cap]");
        $found = $lib->new('size_t');
        FFI::check($lib->gaia_index_search($this->handle, $q, $nq * $this->dim, $k, $ids, $scores, $nq * $k, \FFI::addr($found)));
        $out = [];
        for ($i = 0; $i < $nq; $i++) {
            $hits = [];
            for ($j = 0; $j < $found->cdata; $j++) {
                $hits[] = ['id' => $ids[$i * $k + $j], 'score' => $scores[$i * $k + $j]];
            }
            $out[] = $hits;
        }
        return $out;
    }

    /** @param list<int> $ids */
    private static function ids(array $ids): \FFI\CData
    {
        $n = count($ids);
        $buf = FFI::lib()->new('uint64_t[' . max(1, $n) . ']');
        foreach (array_values($ids) as $i => $id) {
            if (!is_int($id) || $id < 0) {
                throw new InvalidArgumentException("id $i must be a non-negative integer", 9);
            }
            $buf[$i] = $id;
        }
        return $buf;
    }
}
