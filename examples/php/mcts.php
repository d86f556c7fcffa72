<?php
// AB-MCTS across PHP requests: each "request" loads the saved search, asks for a few
// expansions, calls the (simulated) model for each, tells the graded answers, and saves the
// search again (a binary string: keep it in a BLOB column, Redis or a file). Runs over FFI
// and with the native extension.
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Mcts;

/**
 * A stand-in for calling an LLM and grading its answer: a first answer from the root, or a
 * refinement of $parent (which moves its score towards a hidden cap).
 *
 * @param array{cap: float, score: float}|null $parent
 * @return array{cap: float, score: float}
 */
function callModel(string $model, ?array $parent): array
{
    [$k, $r] = $model === 'large' ? [2.0, 0.3] : [3.0, 0.15];
    if ($parent === null) {
        $cap = (mt_rand() / mt_getrandmax()) ** $k;
        return ['cap' => $cap, 'score' => $cap * (0.3 + 0.5 * mt_rand() / mt_getrandmax())];
    }
    $score = $parent['score'] + $r * ($parent['cap'] - $parent['score']) * mt_rand() / mt_getrandmax();
    return ['cap' => $parent['cap'], 'score' => min($parent['cap'], $score)];
}

mt_srand(1);
$snapshot = (new Mcts(['actions' => ['small', 'large'], 'seed' => 7]))->save();
$answers = [];   // node id -> hidden answer state (your app would keep the answer text)

for ($request = 0; $request < 60; $request++) {
    $search = Mcts::load($snapshot);                       // request starts
    foreach ($search->ask(3) as $trial) {                  // e.g. three curl_multi calls
        $answer = callModel($trial['action'], $answers[$trial['node']] ?? null);
        $node = $search->tell($trial['id'], $answer['score'], "{$trial['action']} answer #{$trial['id']}");
        $answers[$node] = $answer;
    }
    $snapshot = $search->save();                           // request ends
}

$search = Mcts::load($snapshot);
$best = $search->topK(1)[0];
printf("%d answers in a %d-byte snapshot; best score %.3f at depth %d: \"%s\"\n",
    $search->nodeCount() - 1, strlen($snapshot), $best['score'], $best['depth'], $search->payload($best['id']));
