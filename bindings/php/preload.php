<?php
// For php-fpm, whose default ffi.enable=preload forbids FFI::cdef inside requests.
// Recommended: ffi.preload=/path/to/bindings/php/gaia_ffi.h in php.ini, which declares the
// scope "GAIA" at start-up (libgaia.so.1 must be on the loader path); Gaia\FFI uses it.
// Optionally point opcache.preload at this file to preload the classes too; it declares
// the scope itself when ffi.preload did not (FFI::load works only without
// opcache.preload_user, i.e. when php-fpm does not start as root).
declare(strict_types=1);

try {
    \FFI::scope('GAIA');
} catch (\Throwable) {
    \FFI::load(__DIR__ . '/gaia_ffi.h');
}
require_once __DIR__ . '/autoload.php';
foreach (['GaiaException', 'InvalidArgumentException', 'NotFoundException', 'StateException',
          'CorruptStateException', 'FFI', 'Library', 'Bandit', 'Study', 'Sync'] as $class) {
    class_exists('Gaia\\' . $class);
}
