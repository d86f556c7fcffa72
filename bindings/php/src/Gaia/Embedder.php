<?php
declare(strict_types=1);

namespace Gaia;

/**
 * Sentence embeddings in-process (all-MiniLM-L6-v2 and other BERT-family
 * sentence-transformers models): the same vectors as sentence-transformers, no Python.
 *
 * The library caches each loaded model per process and folder, so `new Embedder($dir)` in
 * every request of a PHP-FPM worker loads the weights once (about 100 ms) and then costs
 * microseconds. For FFI under php-fpm, preload bindings/php/preload.php (opcache.preload)
 * so the FFI scope itself is also set up once.
 */
final class Embedder
{
    private \FFI\CData $handle;

    private int $dim;

    /**
     * @param string $modelDir a folder with config.json, tokenizer.json, model.safetensors
     * @param array{threads?: int, max_tokens_per_batch?: int, max_length?: int, cache?: bool} $options
     * @throws NotFoundException the folder or a file is missing (10)
     * @throws CorruptStateException a damaged model file (13)
     * @throws InvalidArgumentException an unsupported model or a bad option (7, 8)
     */
    public function __construct(string $modelDir, array $options = [])
    {
        $lib = FFI::lib();
        $out = $lib->new('gaia_embedder *');
        $json = $options === [] ? null : json_encode($options, JSON_THROW_ON_ERROR);
        FFI::check($lib->gaia_embedder_open(FFI::text($modelDir, 'model_dir'), $json === null ? null : FFI::text($json, 'options_json'), \FFI::addr($out)));
        $this->handle = $out;
        $dim = $lib->new('size_t');
        FFI::check($lib->gaia_embedder_dim($out, \FFI::addr($dim)));
        $this->dim = $dim->cdata;
    }

    public function __destruct()
    {
        if (isset($this->handle)) {
            FFI::lib()->gaia_embedder_free($this->handle);
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        unset($this->handle);
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\Embedder');
    }

    /** The embedding dimension (384 for all-MiniLM-L6-v2). */
    public function dim(): int
    {
        return $this->dim;
    }

    /**
     * ['dim', 'max_length', 'pooling', 'normalizes', 'vocab_size', 'layers', 'threads',
     * 'path', 'weights_sha256'].
     *
     * @return array<string, mixed>
     */
    public function info(): array
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_embedder_info_json($this->handle, \FFI::addr($out)));
        return json_decode(FFI::take($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Embeds the texts (binary-safe UTF-8), one vector per text in input order.
     *
     * @param list<string> $texts
     * @return list<list<float>>
     * @throws InvalidArgumentException no texts (9), invalid UTF-8 (2, naming the text)
     */
    public function embed(array $texts, bool $normalize = true): array
    {
        $n = count($texts);
        $out = $this->run($texts, $normalize);
        $rows = [];
        $d = $this->dim;
        for ($i = 0; $i < $n; $i++) {
            $row = [];
            for ($j = 0, $o = $i * $d; $j < $d; $j++) {
                $row[] = $out[$o + $j];
            }
            $rows[] = $row;
        }
        return $rows;
    }

    /**
     * The vectors as one binary string of little-endian float32 (count x dim x 4 bytes),
     * the compact form for storage; unpack('g*', $s) reads it back.
     *
     * @param list<string> $texts
     */
    public function embedPacked(array $texts, bool $normalize = true): string
    {
        $out = $this->run($texts, $normalize);
        return \FFI::string($out, count($texts) * $this->dim * 4);
    }

    /**
     * Embeds into a caller's FFI float buffer (at least count x dim floats), without PHP
     * arrays. FFI binding only.
     *
     * @param list<string> $texts
     * @throws GaiaException a buffer too small (5)
     */
    public function embedInto(array $texts, \FFI\CData $buffer, bool $normalize = true): void
    {
        [$ptrs, $lens, $keep] = self::texts($texts);
        $len = intdiv(\FFI::sizeof($buffer), 4);
        FFI::check(FFI::lib()->gaia_embedder_embed($this->handle, $ptrs, $lens, count($texts), $normalize ? 1 : 0, $buffer, $len));
        unset($keep);
    }

    /**
     * Each text's token count, [CLS]/[SEP] included, before truncation (to chunk long
     * documents below max_length).
     *
     * @param list<string> $texts
     * @return list<int>
     */
    public function countTokens(array $texts): array
    {
        $n = count($texts);
        if ($n === 0) {
            return [];
        }
        [$ptrs, $lens, $keep] = self::texts($texts);
        $lib = FFI::lib();
        $out = $lib->new("size_t[$n]");
        FFI::check($lib->gaia_embedder_count_tokens($this->handle, $ptrs, $lens, $n, $out));
        unset($keep);
        $counts = [];
        for ($i = 0; $i < $n; $i++) {
            $counts[] = $out[$i];
        }
        return $counts;
    }

    /**
     * The token ids the model sees for $text (truncated to max_length).
     *
     * @return list<int>
     */
    public function tokenize(string $text): array
    {
        $lib = FFI::lib();
        $len = strlen($text);
        $buf = $lib->new('char[' . max(1, $len) . ']');
        \FFI::memcpy($buf, $text, $len);
        $count = $lib->new('size_t');
        $cap = 1024;
        $ids = $lib->new("uint32_t[$cap]");
        $status = $lib->gaia_embedder_tokenize($this->handle, $buf, $len, $ids, $cap, \FFI::addr($count));
        if ($status === 5) {
            // A model longer than 1024 positions: the call reported the count needed.
            $cap = $count->cdata;
            $ids = $lib->new("uint32_t[$cap]");
            $status = $lib->gaia_embedder_tokenize($this->handle, $buf, $len, $ids, $cap, \FFI::addr($count));
        }
        FFI::check($status);
        $out = [];
        for ($i = 0; $i < $count->cdata; $i++) {
            $out[] = $ids[$i];
        }
        return $out;
    }

    /**
     * Similarities of every row of $a with every row of $b: $result[$i][$j].
     *
     * @param list<list<float>> $a
     * @param list<list<float>> $b
     * @param string $metric 'cosine' or 'dot'
     * @return list<list<float>>
     */
    public static function similarity(array $a, array $b, string $metric = 'cosine'): array
    {
        $m = match ($metric) {
            'cosine' => 0,
            'dot' => 1,
            default => throw new InvalidArgumentException("unknown metric \"$metric\" (cosine, dot)", 9),
        };
        $na = count($a);
        $nb = count($b);
        $dim = $na > 0 ? count($a[0]) : 0;
        $lib = FFI::lib();
        $ca = self::floats($a, $dim, 'a');
        $cb = self::floats($b, $dim, 'b');
        $cells = max(1, $na * $nb);
        $out = $lib->new("float[$cells]");
        FFI::check($lib->gaia_similarity($ca, $na, $cb, $nb, $dim, $m, $out, $na * $nb));
        $rows = [];
        for ($i = 0; $i < $na; $i++) {
            $row = [];
            for ($j = 0; $j < $nb; $j++) {
                $row[] = $out[$i * $nb + $j];
            }
            $rows[] = $row;
        }
        return $rows;
    }

    /**
     * @param list<list<float>> $rows
     * @internal
     */
    public static function floats(array $rows, int $dim, string $what): \FFI\CData
    {
        $n = count($rows);
        $buf = FFI::lib()->new('float[' . max(1, $n * $dim) . ']');
        $k = 0;
        foreach ($rows as $i => $row) {
            if (!is_array($row) || count($row) !== $dim) {
                throw new InvalidArgumentException(sprintf('%s: row %d has %d dimensions, expected %d', $what, $i, is_array($row) ? count($row) : 0, $dim), 9);
            }
            foreach ($row as $v) {
                $buf[$k++] = (float) $v;
            }
        }
        return $buf;
    }

    /** @param list<string> $texts */
    private function run(array $texts, bool $normalize): \FFI\CData
    {
        $n = count($texts);
        [$ptrs, $lens, $keep] = self::texts($texts);
        $lib = FFI::lib();
        $len = max(1, $n * $this->dim);
        $out = $lib->new("float[$len]");
        FFI::check($lib->gaia_embedder_embed($this->handle, $ptrs, $lens, $n, $normalize ? 1 : 0, $out, $n * $this->dim));
        unset($keep);
        return $out;
    }

    /**
     * The texts as C pointers and lengths into one buffer (kept alive by the third value).
     *
     * @param list<string> $texts
     * @return array{0: ?\FFI\CData, 1: ?\FFI\CData, 2: ?\FFI\CData}
     */
    private static function texts(array $texts): array
    {
        $n = count($texts);
        if ($n === 0) {
            return [null, null, null];
        }
        $lib = FFI::lib();
        $total = 0;
        foreach ($texts as $i => $t) {
            if (!is_string($t)) {
                throw new InvalidArgumentException("text $i is not a string", 9);
            }
            $total += strlen($t);
        }
        $buf = $lib->new('char[' . max(1, $total) . ']');
        $ptrs = $lib->new("const char *[$n]");
        $lens = $lib->new("size_t[$n]");
        $off = 0;
        foreach (array_values($texts) as $i => $t) {
            $l = strlen($t);
            if ($l > 0) {
                \FFI::memcpy(\FFI::addr($buf[$off]), $t, $l);
            }
            $ptrs[$i] = \FFI::cast('const char *', \FFI::addr($buf[$off < $total ? $off : 0]));
            $lens[$i] = $l;
            $off += $l;
        }
        return [$ptrs, $lens, $buf];
    }
}
