<?php
// Recipe: tuning an LLM call's temperature, top_p and max_tokens for answer quality under a
// latency budget (p95 <= 1200 ms, a named constraint), from PHP requests that share one study
// through a journal file, as PHP-FPM workers on one host would. Runs over FFI and with the
// native extension, like examples/php/bandit.php.
//
// The model call is simulated (callLlm below) so the example runs offline; put your client
// (curl to your LLM, a grader or user feedback as the quality) in its place.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Study;

const LATENCY_BUDGET_MS = 1200.0;

/**
 * A stand-in for calling the model and grading the answer: quality peaks near temperature
 * 0.6 and top_p 0.9 and grows with max_tokens; latency grows with max_tokens.
 *
 * @param array{temperature: float, top_p: float, max_tokens: int} $p
 * @return array{0: float, 1: float} quality in [0, 1], latency in ms
 */
function callLlm(array $p, int $seed): array
{
    mt_srand($seed);
    $noise = (mt_rand() / mt_getrandmax() - 0.5) * 0.02;
    $quality = 1.0 - ($p['temperature'] - 0.6) ** 2 - 2 * ($p['top_p'] - 0.9) ** 2
        - 0.15 * exp(-$p['max_tokens'] / 300) + $noise;
    $latencyMs = 150 + $p['max_tokens'] * 1.4 * (1 + $p['temperature'] * 0.1);
    return [$quality, $latencyMs];
}

// In production this path is fixed (e.g. /var/lib/myapp/llm-tuning.jsonl) so every worker
// and every deploy continues the same study; the example starts a fresh one.
$journal = sys_get_temp_dir() . '/gaia-llm-tuning-' . getmypid() . '.jsonl';
@unlink($journal);
$config = [
    'space' => ['params' => [
        ['name' => 'temperature', 'type' => 'float', 'low' => 0.0, 'high' => 1.5],
        ['name' => 'top_p', 'type' => 'float', 'low' => 0.5, 'high' => 1.0],
        ['name' => 'max_tokens', 'type' => 'int', 'low' => 64, 'high' => 2048, 'log' => true],
    ]],
    'direction' => 'maximize',
    'constraints' => ['latency_over_budget_ms'],
    'sampler' => ['type' => 'tpe'],
    'storage' => "journal:$journal",
];

for ($request = 0; $request < 80; $request++) {
    $study = new Study($config);                  // a request starts: open the shared study
    $trial = $study->ask();
    try {
        [$quality, $latencyMs] = callLlm($trial['params'], $request);
        $study->tell($trial['id'], $quality, Study::COMPLETE,
            ['latency_over_budget_ms' => $latencyMs - LATENCY_BUDGET_MS]);
    } catch (Throwable $e) {
        $study->tell($trial['id'], 0.0, Study::FAILED);   // timeouts, HTTP errors
    }
}                                                 // the request ends; the journal has it all

$study = new Study($config);
$best = $study->best();
printf("best feasible of 80 requests: quality %.4f at %.0f ms with temperature %.2f, top_p %.2f, max_tokens %d\n",
    $best['value'], $best['constraints']['latency_over_budget_ms'] + LATENCY_BUDGET_MS,
    $best['params']['temperature'], $best['params']['top_p'], $best['params']['max_tokens']);
$shares = [];
foreach ($study->importance() as $name => $share) {
    $shares[] = sprintf('%s %.0f%%', $name, 100 * $share);
}
echo 'what mattered: ', implode(', ', $shares), "\n";
@unlink($journal);
