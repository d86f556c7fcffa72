<?php
// Semantic search from PHP (FFI or the native extension: the same classes). The model is
// cached per worker: in php-fpm, `new Embedder($dir)` loads the weights once per process.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Embedder;
use Gaia\VectorIndex;

$root = dirname(__DIR__, 2);
$model = getenv('GAIA_MODEL_DIR') ?: "$root/target/models/all-MiniLM-L6-v2";
$docs = file("$root/examples/data/docs.txt", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);

$t = microtime(true);
$embedder = new Embedder($model, ['threads' => 2]);
printf("model open in %.0f ms (%s)\n", (microtime(true) - $t) * 1000, extension_loaded('gaia') ? 'extension' : 'FFI');

$index = new VectorIndex(['dim' => $embedder->dim(), 'metric' => 'cosine', 'storage' => 'int8']);
$t = microtime(true);
$index->add(array_keys($docs), $embedder->embed($docs));
printf("embedded and indexed %d documents in %.0f ms\n", count($docs), (microtime(true) - $t) * 1000);

$questions = ['How do I get my money back?', 'Is there a discount for students?', '東京の営業時間は？'];
foreach ($index->searchBatch($embedder->embed($questions), 2) as $i => $hits) {
    echo "\n? {$questions[$i]}\n";
    foreach ($hits as $h) {
        printf("  %.3f  %s\n", $h['score'], $docs[$h['id']]);
    }
}

// Long documents: count tokens to chunk below the model's limit (256).
$long = str_repeat('Gaia embeds text in-process. ', 60);
printf("\na long text has %d tokens (the model reads %d)\n", $embedder->countTokens([$long])[0], $embedder->info()['max_length']);

try {
    $embedder->embed(["caf\xe9"]);
} catch (Gaia\InvalidArgumentException $e) {
    echo 'invalid UTF-8 -> ', get_class($e), ' (', $e->getCode(), '): ', $e->getMessage(), "\n";
}
