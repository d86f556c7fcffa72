<?php
// Choosing an LLM per request with a Thompson-sampling bandit. Runs unchanged over FFI
// (php examples/php/bandit.php, with GAIA_LIBRARY=target/gaia/lib/libgaia.so) and with the
// native extension (php -d extension=target/release/libgaia_php.so examples/php/bandit.php).
declare(strict_types=1);

if (!extension_loaded('gaia')) {
    require __DIR__ . '/../../bindings/php/autoload.php';
}

use Gaia\Bandit;
use Gaia\GaiaException;

/** A stand-in for an LLM call graded by a judge: the large model answers best. */
function fakeLlmCall(string $model): float
{
    $quality = ['small' => 0.35, 'medium' => 0.6, 'large' => 0.75][$model];
    return mt_rand() / mt_getrandmax() < $quality ? 1.0 : 0.0;
}

mt_srand(7);
printf("libgaia %s (ABI %d) via %s\n", Gaia\Library::version(), Gaia\Library::abiVersion(),
    extension_loaded('gaia') ? 'the native extension' : 'FFI');

// Under php-fpm each request is short: keep the bandit's state between requests (APCu,
// Redis, a file...). Here a variable plays the store.
$store = (new Bandit(['arms' => ['small', 'medium', 'large'], 'seed' => 42]))->save();

for ($request = 0; $request < 300; $request++) {
    $bandit = Bandit::load($store);            // request starts
    $model = $bandit->choose();
    $bandit->update($model, fakeLlmCall($model));
    $store = $bandit->save();                  // request ends
}

try {
    $bandit->update('huge', 1.0);
} catch (GaiaException $e) {
    printf("unknown arm refused: %s (code %d): %s\n", get_class($e), $e->getCode(), $e->getMessage());
}

$stats = Bandit::load($store)->stats();
printf("%d requests\n", $stats['total_pulls']);
foreach ($stats['arms'] as $arm) {
    printf("  %-6s chosen %3d times, posterior mean %.3f\n", $arm['name'], $arm['chosen'], $arm['mean']);
}
