<?php
declare(strict_types=1);

namespace Gaia\Tests;

use PHPUnit\Framework\TestCase;

/** What only the FFI binding has: the panic barrier as seen from PHP, and preloading. */
final class FfiTest extends TestCase
{
    protected function setUp(): void
    {
        if (GAIA_PHP_IMPL !== 'ffi') {
            self::markTestSkipped('FFI binding only');
        }
    }

    public function testPanicBecomesAStatus(): void
    {
        self::assertSame(3, \Gaia\FFI::testPanic());
        self::assertSame('cdef', \Gaia\FFI::source());
    }

    /**
     * php-fpm's default ffi.enable=preload forbids FFI::cdef in requests: ffi.preload (or
     * preload.php) declares the scope "GAIA" at start-up and the binding must use it.
     */
    public function testPreloadedScopeWorksUnderFfiEnablePreload(): void
    {
        $lib = dirname((string) getenv('GAIA_LIBRARY'));
        $header = dirname(__DIR__) . '/gaia_ffi.h';
        $code = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . '; '
            . '$b = new Gaia\\Bandit(["arms" => ["a"], "seed" => 1]); '
            . 'echo $b->choose(), " ", Gaia\\Library::abiVersion(), " ", Gaia\\FFI::source();';
        $cmd = sprintf(
            'LD_LIBRARY_PATH=%s GAIA_LIBRARY= %s -n -d extension=ffi -d ffi.enable=preload -d ffi.preload=%s -r %s 2>&1',
            escapeshellarg($lib),
            escapeshellarg(PHP_BINARY),
            escapeshellarg($header),
            escapeshellarg($code)
        );
        exec($cmd, $out, $rc);
        self::assertSame(0, $rc, implode("\n", $out));
        self::assertSame('a 1 scope', trim(implode("\n", $out)));
    }
}
