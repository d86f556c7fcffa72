<?php
// Recipe: quality against cost. Choosing an LLM call's model, max_tokens and temperature is
// a trade-off, not a single best: a bigger model and longer answers grade better and cost
// more. A study with two objectives ("directions": maximise quality, minimise cost per
// call) learns the Pareto front: every setting that no other beats on both. The team then
// picks its point on the front (here: the best quality under a cost ceiling).
//
// Samplers for several objectives: "tpe" (multi-objective TPE, the default choice for small
// budgets), "nsga2" (a genetic algorithm, for larger budgets), random, Sobol, grid. Runs over
// FFI and with the native extension, like examples/php/study.php. The model call is
// simulated (callLlm below) so the example runs offline.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Study;

/** Price per 1,000 output tokens (USD) and the quality ceiling of each model. */
const MODELS = [
    'small' => ['price' => 0.0006, 'quality' => 0.72],
    'medium' => ['price' => 0.0030, 'quality' => 0.84],
    'large' => ['price' => 0.0150, 'quality' => 0.93],
];
const COST_CEILING = 0.004;

/**
 * A stand-in for calling the model and grading the answer.
 *
 * @param array{model: string, max_tokens: int, temperature: float} $p
 * @return array{0: float, 1: float} quality in [0, 1], cost in USD
 */
function callLlm(array $p, int $seed): array
{
    mt_srand($seed);
    $noise = (mt_rand() / mt_getrandmax() - 0.5) * 0.01;
    $m = MODELS[$p['model']];
    // Longer answers help up to a point; temperature away from 0.5 hurts.
    $length = 1.0 - exp(-$p['max_tokens'] / 300.0);
    $quality = $m['quality'] * (0.6 + 0.4 * $length) - 0.2 * ($p['temperature'] - 0.5) ** 2 + $noise;
    $tokens = min($p['max_tokens'], 120 + 0.8 * $p['max_tokens']);
    return [max(0.0, min(1.0, $quality)), $tokens / 1000.0 * $m['price']];
}

$study = new Study([
    'space' => ['params' => [
        ['name' => 'model', 'type' => 'categorical', 'choices' => array_keys(MODELS)],
        ['name' => 'max_tokens', 'type' => 'int', 'low' => 64, 'high' => 2048, 'log' => true],
        ['name' => 'temperature', 'type' => 'float', 'low' => 0.0, 'high' => 1.2],
    ]],
    'directions' => ['maximize', 'minimize'],
    'sampler' => ['type' => 'tpe'],
    'seed' => 11,
]);

for ($i = 0; $i < 120; $i++) {
    $trial = $study->ask();
    [$quality, $cost] = callLlm($trial['params'], $i);
    $study->tell($trial['id'], [$quality, $cost]);
}

$front = $study->best();
usort($front, fn (array $a, array $b): int => $a['values'][1] <=> $b['values'][1]);
printf("Pareto front after 120 calls: %d settings (of %d tried)\n", count($front), count($study->trials()));
printf("  %-7s %10s %11s %8s %12s\n", 'model', 'max_tokens', 'temperature', 'quality', 'cost (USD)');
// A dozen rows spread along the front, cheapest first.
$stride = max(1, (int) ceil(count($front) / 12));
foreach ($front as $k => $t) {
    if ($k % $stride !== 0 && $k !== count($front) - 1) {
        continue;
    }
    printf(
        "  %-7s %10d %11.2f %8.3f %12.6f\n",
        $t['params']['model'],
        $t['params']['max_tokens'],
        $t['params']['temperature'],
        $t['values'][0],
        $t['values'][1]
    );
}
$affordable = array_filter($front, fn (array $t): bool => $t['values'][1] <= COST_CEILING);
if ($affordable === []) {
    fwrite(STDERR, "no setting on the front costs under the ceiling\n");
    exit(1);
}
$pick = array_reduce($affordable, fn (?array $c, array $t): array => $c === null || $t['values'][0] > $c['values'][0] ? $t : $c);
printf(
    "Best quality under %.4f USD per call: %s, max_tokens %d, temperature %.2f (quality %.3f, cost %.6f)\n",
    COST_CEILING,
    $pick['params']['model'],
    $pick['params']['max_tokens'],
    $pick['params']['temperature'],
    $pick['values'][0],
    $pick['values'][1]
);
