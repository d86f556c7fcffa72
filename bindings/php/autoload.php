<?php
// A PSR-4 autoloader for Gaia\ without composer. When the native extension `gaia` is
// loaded, its classes exist already and this never runs for them.
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Gaia\\', 5) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/Gaia/' . str_replace('\\', '/', substr($class, 5)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
