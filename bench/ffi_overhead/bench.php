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
