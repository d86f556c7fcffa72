<?php
// The PHP worker of the shared-study stress test (tests/shared_study/run.sh), over FFI
// (bindings/php loaded the way bindings/php/tests/bootstrap.php does; GAIA_LIBRARY names
// libgaia.so):
//
//   php php_worker.php run  CONFIG TRIALS OUTFILE  TRIALS x (ask -> objective -> tell
//                                                  COMPLETE), appending "id value" per told
//                                                  trial to OUTFILE
//   php php_worker.php hang CONFIG                 asks one trial, prints its id, sleeps
//                                                  forever (the kill test: SIGKILL)
//
// CONFIG is the study config as JSON (starting with '{') or the path of a file holding it.
// On any error: the message on stderr and exit status 1.
//
// The objective, identical in the C, Go and PHP workers and in run.sh's SQL check:
//   f = (x - 1.25)^2 + 0.5 * (y - 7)^2 + 0.25 * index(c in ["a", "b", "c"])
declare(strict_types=1);

function fail(string $message): never
{
    fwrite(STDERR, sprintf("php worker %d: %s\n", getmypid(), $message));
    exit(1);
}

/** @param array<string, mixed> $p */
function objective(array $p): float
{
    if (!is_float($p['x'] ?? null) && !is_int($p['x'] ?? null)) {
        throw new RuntimeException('parameter x is missing or not a number: ' . json_encode($p));
    }
    if (!is_int($p['y'] ?? null)) {
        throw new RuntimeException('parameter y is missing or not an integer: ' . json_encode($p));
    }
    $ci = array_search($p['c'] ?? null, ['a', 'b', 'c'], true);
    if ($ci === false) {
        throw new RuntimeException('parameter c is missing or not a choice: ' . json_encode($p));
    }
    $dx = (float) $p['x'] - 1.25;
    $dy = (float) $p['y'] - 7.0;
    return $dx * $dx + 0.5 * $dy * $dy + 0.25 * (float) $ci;
}

if (extension_loaded('gaia')) {
    fail('the gaia extension is loaded; this worker tests the FFI binding');
}
require dirname(__DIR__, 2) . '/bindings/php/autoload.php';

$args = array_slice($argv, 1);
$mode = $args[0] ?? '';
if (!(($mode === 'run' && count($args) === 4) || ($mode === 'hang' && count($args) === 2))) {
    fwrite(STDERR, "usage: php php_worker.php run CONFIG TRIALS OUTFILE | hang CONFIG\n");
    exit(2);
}

try {
    $config = $args[1];
    if (!str_starts_with($config, '{')) {
        $config = file_get_contents($config);
        if ($config === false) {
            fail("cannot read config {$args[1]}");
        }
    }
    $study = new Gaia\Study($config);

    if ($mode === 'hang') {
        $trial = $study->ask();
        fwrite(STDOUT, $trial['id'] . "\n");
        fflush(STDOUT);
        while (true) {
            sleep(3600); // heartbeats go on in libgaia's thread until the SIGKILL
        }
    }

    if (!preg_match('/^[1-9][0-9]*$/', $args[2])) {
        fail("TRIALS must be a positive integer, not {$args[2]}");
    }
    $trials = (int) $args[2];
    $out = fopen($args[3], 'a');
    if ($out === false) {
        fail("cannot open {$args[3]}");
    }
    $start = hrtime(true);
    for ($i = 0; $i < $trials; $i++) {
        $trial = $study->ask();
        $value = objective($trial['params']);
        $study->tell($trial['id'], $value, Gaia\Study::COMPLETE);
        if (fwrite($out, sprintf("%d %.17g\n", $trial['id'], $value)) === false || !fflush($out)) {
            fail("cannot write {$args[3]}");
        }
    }
    $elapsed = (hrtime(true) - $start) / 1e9;
    if (!fclose($out)) {
        fail("cannot write {$args[3]}");
    }
    unset($study);
    printf("php worker %d: %d trials in %.2f s (%.1f trials/s)\n", getmypid(), $trials, $elapsed, $trials / $elapsed);
} catch (Throwable $e) {
    fail(get_class($e) . ' (code ' . $e->getCode() . '): ' . $e->getMessage());
}
