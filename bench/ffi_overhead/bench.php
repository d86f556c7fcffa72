<?php
// ns per choose() + update() round trip with whichever implementation is loaded:
// prints "php-ffi <ns>" or "php-ext <ns>". Usage: php bench.php [iterations]
declare(strict_types=1);

$ext = extension_loaded('gaia');
if (!$ext) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}
$n = (int) ($argv[1] ?? 200000);
$b = new Gaia\Bandit(['arms' => ['a', 'b', 'c'], 'seed' => 1]);
for ($k = 0; $k < intdiv($n, 10); $k++) {
    $b->update($b->choose(), (float) ($k & 1));
}
$t = hrtime(true);
for ($k = 0; $k < $n; $k++) {
    $b->update($b->choose(), (float) ($k & 1));
}
printf("%s %.0f\n", $ext ? 'php-ext' : 'php-ffi', (hrtime(true) - $t) / $n);

// mcts ask() + tell() round trip (repeated sampling: the engine's own work stays constant).
$m = intdiv($n, 10);
$s = new Gaia\Mcts(['algorithm' => 'repeated_sampling', 'actions' => ['a', 'b'], 'seed' => 1]);
$t = hrtime(true);
for ($k = 0; $k < $m; $k++) {
    $trial = $s->ask()[0];
    $s->tell($trial['id'], ($k & 7) / 8.0);
}
printf("%s %.0f\n", $ext ? 'php-ext-mcts' : 'php-ffi-mcts', (hrtime(true) - $t) / $m);
