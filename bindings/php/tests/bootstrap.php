<?php
// Chooses the implementation under test and proves it is the one in use.
declare(strict_types=1);

$impl = getenv('GAIA_PHP_IMPL') ?: 'ffi';
if ($impl === 'ext') {
    if (!extension_loaded('gaia')) {
        fwrite(STDERR, "GAIA_PHP_IMPL=ext but the gaia extension is not loaded (php -d extension=...)\n");
        exit(1);
    }
    if (!(new ReflectionClass(Gaia\Bandit::class))->isInternal()) {
        fwrite(STDERR, "Gaia\\Bandit is not the extension's class\n");
        exit(1);
    }
} elseif ($impl === 'ffi') {
    if (extension_loaded('gaia')) {
        fwrite(STDERR, "GAIA_PHP_IMPL=ffi but the gaia extension is loaded\n");
        exit(1);
    }
    require __DIR__ . '/../autoload.php';
} else {
    fwrite(STDERR, "GAIA_PHP_IMPL must be ffi or ext, not $impl\n");
    exit(1);
}
define('GAIA_PHP_IMPL', $impl);
define('GAIA_VECTORS', dirname(__DIR__, 3) . '/tests/vectors');
