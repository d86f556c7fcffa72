<?php
// Tuning an LLM call's temperature, top_p and max_tokens for answer quality under a latency
// budget, with a TPE study whose state survives between PHP requests. Runs over FFI and with
// the native extension, like examples/php/bandit.php.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Study;

/** A stand-in for calling the model and grading it: best near t=0.6, top_p=0.9, 512 tokens. */
function fakeLlmQuality(array $p): array
{
    $quality = 1.0 - ($p['temperature'] - 0.6) ** 2 - 2 * ($p['top_p'] - 0.9) ** 2
        - 0.05 * abs(log($p['max_tokens'] / 512));
    $latencyMs = 200 + $p['max_tokens'] * 1.5;
    return [$quality, $latencyMs];
}

$store = (new Study([
    'space' => ['params' => [
        ['name' => 'temperature', 'type' => 'float', 'low' => 0.0, 'high' => 1.5],
        ['name' => 'top_p', 'type' => 'float', 'low' => 0.5, 'high' => 1.0],
        ['name' => 'max_tokens', 'type' => 'int', 'low' => 64, 'high' => 2048, 'log' => true],
    ]],
    'direction' => 'maximize',
    'sampler' => ['type' => 'tpe'],
    'seed' => 42,
]))->save();

for ($request = 0; $request < 80; $request++) {
    $study = Study::load($store);                 // request starts
    $trial = $study->ask();
    [$quality, $latencyMs] = fakeLlmQuality($trial['params']);
    if ($latencyMs > 2000) {
        $study->tell($trial['id'], 0.0, Study::FAILED);   // over the latency budget
    } else {
        $study->tell($trial['id'], $quality);
    }
    $store = $study->save();                      // request ends
}

$best = Study::load($store)->best();
printf("best after 80 requests: quality %.4f with temperature %.2f, top_p %.2f, max_tokens %d\n",
    $best['value'], $best['params']['temperature'], $best['params']['top_p'], $best['params']['max_tokens']);
