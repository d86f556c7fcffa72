<?php
declare(strict_types=1);

namespace Gaia\Tests;

use Gaia\CorruptStateException;
use Gaia\Embedder;
use Gaia\GaiaException;
use Gaia\InvalidArgumentException;
use Gaia\NotFoundException;
use Gaia\VectorIndex;
use PHPUnit\Framework\TestCase;

/** Sentence embeddings and the vector index, identical over FFI and in the native extension. */
final class InferTest extends TestCase
{
    private static ?Embedder $model = null;

    private static function modelDir(): string
    {
        $dir = getenv('GAIA_MODEL_DIR') ?: dirname(__DIR__, 3) . '/target/models/all-MiniLM-L6-v2';
        if (!is_dir($dir)) {
            self::fail("$dir is missing: run scripts/fetch-model.sh (or set GAIA_MODEL_DIR)");
        }
        return $dir;
    }

    private static function model(): Embedder
    {
        return self::$model ??= new Embedder(self::modelDir());
    }

    /** @param list<float> $a @param list<float> $b */
    private static function cosine(array $a, array $b): float
    {
        $dot = $na = $nb = 0.0;
        foreach ($a as $i => $x) {
            $dot += $x * $b[$i];
            $na += $x * $x;
            $nb += $b[$i] * $b[$i];
        }
        return $dot / sqrt($na * $nb);
    }

    /** @return list<array<string, mixed>> */
    private static function reference(): array
    {
        $data = json_decode((string) file_get_contents(GAIA_VECTORS . '/infer_minilm.json'), true, 512, JSON_THROW_ON_ERROR);
        return $data['items'];
    }

    public function testSharedVectorsTokensAndEmbeddings(): void
    {
        $e = self::model();
        $items = self::reference();
        self::assertGreaterThanOrEqual(40, count($items));
        $texts = array_column($items, 'text');
        $batch = $e->embed($texts);
        self::assertSame(array_column($items, 'n_tokens'), $e->countTokens($texts));
        foreach ($items as $i => $item) {
            self::assertSame($item['token_ids'], $e->tokenize($item['text']), $item['name']);
            $one = $e->embed([$item['text']])[0];
            self::assertGreaterThanOrEqual(0.9999, self::cosine($one, $item['embedding']), $item['name']);
            self::assertGreaterThanOrEqual(0.99999, self::cosine($one, $batch[$i]), $item['name'] . ' batch vs single');
            $raw = $e->embed([$item['text']], false)[0];
            self::assertGreaterThanOrEqual(0.9999, self::cosine($raw, $item['pooled']), $item['name'] . ' pooled');
        }
    }

    public function testPackedVectorsInfoAndSimilarity(): void
    {
        $e = self::model();
        self::assertSame(384, $e->dim());
        $info = $e->info();
        self::assertSame(256, $info['max_length']);
        self::assertSame('mean', $info['pooling']);
        self::assertSame('53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db', $info['weights_sha256']);
        $texts = ['The cat sits on the mat.', 'A feline rests on a rug.', 'Quarterly revenue grew 8%.'];
        $rows = $e->embed($texts);
        $packed = $e->embedPacked($texts);
        self::assertSame(3 * 384 * 4, strlen($packed));
        $floats = array_values(unpack('g*', $packed));
        self::assertEqualsWithDelta($rows[1][5], $floats[384 + 5], 1e-6);
        $sim = Embedder::similarity($rows, $rows);
        self::assertEqualsWithDelta(1.0, $sim[0][0], 1e-5);
        self::assertGreaterThan($sim[0][2], $sim[0][1], 'the paraphrase is closer than the unrelated sentence');
        $dot = Embedder::similarity([[1.0, 2.0]], [[3.0, 4.0]], 'dot');
        self::assertEqualsWithDelta(11.0, $dot[0][0], 1e-6);
    }

    public function testSemanticSearchOverTheBundledDocuments(): void
    {
        $e = self::model();
        $docs = file(dirname(__DIR__, 3) . '/examples/data/docs.txt', FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
        $index = new VectorIndex(['dim' => 384, 'storage' => 'int8']);
        $index->add(array_keys($docs), $e->embed($docs));
        self::assertSame(count($docs), $index->count());
        $hits = $index->search($e->embed(['I forgot my login credentials'])[0], 3);
        self::assertCount(3, $hits);
        self::assertStringContainsString('reset my password', $docs[$hits[0]['id']]);
        self::assertGreaterThanOrEqual($hits[1]['score'], $hits[0]['score']);
        $batch = $index->searchBatch($e->embed(['how long does delivery to Toronto take', 'refund']), 1);
        self::assertStringContainsString('Canada', $docs[$batch[0][0]['id']]);
        self::assertStringContainsString('refund', $docs[$batch[1][0]['id']]);
    }

    public function testIndexRoundTripAndBadInput(): void
    {
        $index = new VectorIndex(['dim' => 3, 'metric' => 'dot']);
        $index->add([10, 20, 30], [[1, 0, 0], [0, 1, 0], [0, 0, 2]]);
        self::assertSame(30, $index->search([0, 0, 1], 1)[0]['id']);
        try {
            $index->add([20], [[1, 1, 1]]);
            self::fail('duplicate id accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertSame(11, $ex->getCode());
            self::assertStringContainsString('20', $ex->getMessage());
        }
        try {
            $index->add([40], [[1, 1]]);
            self::fail('wrong dimension accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertSame(9, $ex->getCode());
        }
        try {
            $index->remove([10, 99]);
            self::fail('unknown id removed');
        } catch (NotFoundException $ex) {
            self::assertStringContainsString('99', $ex->getMessage());
        }
        self::assertSame(3, $index->count(), 'a failed remove removes nothing');
        $one = $index->search([0, 1, 0], 2);
        $index->setThreads(2);
        self::assertSame($one, $index->search([0, 1, 0], 2), 'threads change no result');
        foreach ([0, -1, 257] as $bad) {
            try {
                $index->setThreads($bad);
                self::fail("threads $bad accepted");
            } catch (InvalidArgumentException $ex) {
                self::assertSame(9, $ex->getCode());
                self::assertStringContainsString("index threads: $bad is outside", $ex->getMessage());
            }
        }
        $index->remove([10]);
        $path = sys_get_temp_dir() . '/gaia-php-index-' . getmypid() . '.gidx';
        $index->save($path);
        $back = VectorIndex::load($path, 3);
        self::assertSame(2, $back->count());
        self::assertSame($index->search([0, 1, 0], 2), $back->search([0, 1, 0], 2));
        try {
            VectorIndex::load($path, 384);
            self::fail('a file of another dimension loaded');
        } catch (InvalidArgumentException $ex) {
            self::assertStringContainsString('384', $ex->getMessage());
        }
        file_put_contents($path, 'garbage');
        try {
            VectorIndex::load($path);
            self::fail('garbage loaded');
        } catch (CorruptStateException $ex) {
            self::assertSame(13, $ex->getCode());
        }
        unlink($path);
        $this->expectException(InvalidArgumentException::class);
        new VectorIndex(['dim' => 3, 'storage' => 'f8']);
    }

    public function testBadTextsAndModelsAreClearErrors(): void
    {
        $e = self::model();
        try {
            $e->embed(['fine', "bad \xff byte"]);
            self::fail('invalid UTF-8 accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertSame(2, $ex->getCode());
            self::assertStringContainsString('text 1', $ex->getMessage());
        }
        try {
            $e->embed([]);
            self::fail('zero texts accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertStringContainsString('no texts', $ex->getMessage());
        }
        self::assertCount(1, $e->embed(["NUL \0 inside"]), 'texts are binary-safe');
        try {
            new Embedder('/nonexistent/model');
            self::fail('missing folder opened');
        } catch (NotFoundException $ex) {
            self::assertStringContainsString('/nonexistent/model', $ex->getMessage());
        }
        try {
            new Embedder(self::modelDir(), ['threads' => 0]);
            self::fail('threads 0 accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertSame(8, $ex->getCode());
            self::assertStringContainsString('threads', $ex->getMessage());
        }
        try {
            new Embedder(self::modelDir(), ['thread' => 2]);
            self::fail('unknown option accepted');
        } catch (InvalidArgumentException $ex) {
            self::assertSame(7, $ex->getCode());
        }
        self::assertCount(1, $e->embed(['still usable']));
    }

    public function testTheModelIsSharedAcrossHandles(): void
    {
        $t = microtime(true);
        $again = new Embedder(self::modelDir());
        self::assertLessThan(0.05, microtime(true) - $t, 'a cached model opens without reloading');
        self::assertSame(self::model()->embed(['same']), $again->embed(['same']));
    }

    public function testFfiBufferOutput(): void
    {
        if (GAIA_PHP_IMPL !== 'ffi') {
            self::assertFalse(method_exists(Embedder::class, 'embedInto'), 'embedInto is FFI-only');
            return;
        }
        $e = self::model();
        $buf = \FFI::new('float[768]');
        $e->embedInto(['one', 'two'], $buf);
        self::assertEqualsWithDelta($e->embed(['two'])[0][7], $buf[384 + 7], 1e-6);
        $small = \FFI::new('float[10]');
        try {
            $e->embedInto(['one'], $small);
            self::fail('a too-small buffer accepted');
        } catch (GaiaException $ex) {
            self::assertSame(5, $ex->getCode());
            self::assertSame(0.0, $small[0], 'nothing written');
        }
    }
}
