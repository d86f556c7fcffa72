<?php
declare(strict_types=1);

namespace Gaia;

/**
 * The process-wide connection to libgaia over PHP's FFI (internal).
 *
 * Uses the preloaded scope "GAIA" when bindings/php/preload.php ran under opcache.preload
 * (php-fpm with ffi.enable=preload); otherwise FFI::cdef with the library found through
 * the GAIA_LIBRARY environment variable, else libgaia.so.1 on the loader path.
 *
 * @internal
 */
final class FFI
{
    /** The ABI this binding is written for (GAIA_ABI_VERSION). */
    public const ABI_VERSION = 1;

    private static ?\FFI $ffi = null;

    /** How the library was reached: "scope" (preloaded) or "cdef"; null before loading. */
    private static ?string $source = null;

    /** Status code -> exception class, as in docs/bindings.md. */
    private const CLASSES = [
        1 => InvalidArgumentException::class,
        2 => InvalidArgumentException::class,
        7 => InvalidArgumentException::class,
        8 => InvalidArgumentException::class,
        9 => InvalidArgumentException::class,
        10 => NotFoundException::class,
        11 => InvalidArgumentException::class,
        12 => StateException::class,
        13 => CorruptStateException::class,
        14 => CorruptStateException::class,
    ];

    /** The loaded library; loads it on first use. */
    public static function lib(): \FFI
    {
        return self::$ffi ??= self::load();
    }

    private static function load(): \FFI
    {
        if (!extension_loaded('ffi')) {
            throw new GaiaException('the PHP FFI extension is not loaded (install/enable ext-ffi)');
        }
        $ffi = null;
        try {
            $ffi = \FFI::scope('GAIA');
            self::$source = 'scope';
        } catch (\Throwable) {
            // Not preloaded: fall through to FFI::cdef.
        }
        if ($ffi === null) {
            $header = file_get_contents(__DIR__ . '/../../gaia_ffi.h');
            if ($header === false) {
                throw new GaiaException('cannot read gaia_ffi.h next to the Gaia PHP classes');
            }
            // FFI::cdef reads declarations only; the FFI_SCOPE/FFI_LIB lines are for FFI::load.
            $header = preg_replace('/^#define FFI_.*$/m', '', $header);
            $lib = getenv('GAIA_LIBRARY') ?: 'libgaia.so.1';
            try {
                $ffi = \FFI::cdef($header, $lib);
                self::$source = 'cdef';
            } catch (\FFI\Exception $e) {
                throw new GaiaException("cannot load libgaia from \"$lib\" (set GAIA_LIBRARY): " . $e->getMessage(), 0, $e);
            }
        }
        $abi = $ffi->gaia_abi_version();
        if ($abi !== self::ABI_VERSION) {
            throw new GaiaException(sprintf('libgaia has ABI %d, but this binding needs ABI %d', $abi, self::ABI_VERSION));
        }
        return $ffi;
    }

    /** Throws the exception mapped from a non-zero status, with the library's message. */
    public static function check(int $status): void
    {
        if ($status !== 0) {
            $class = self::CLASSES[$status] ?? GaiaException::class;
            // const char * results arrive as PHP strings.
            throw new $class((string) self::lib()->gaia_last_error(), $status);
        }
    }

    /**
     * Refuses a string with a NUL byte: it would reach the C ABI cut short at the NUL
     * (update("a\0x", ...) would reward arm "a"). Same code and message as the extension.
     */
    public static function text(string $s, string $what): string
    {
        if (str_contains($s, "\0")) {
            throw new InvalidArgumentException("$what contains a NUL byte", 9);
        }
        return $s;
    }

    /** Copies a library-owned string into PHP and frees it. */
    public static function take(\FFI\CData $s): string
    {
        try {
            return \FFI::string($s);
        } finally {
            self::lib()->gaia_string_free($s);
        }
    }

    /** "scope" when the preloaded FFI scope "GAIA" is in use, "cdef" otherwise (after loading). */
    public static function source(): ?string
    {
        return self::$source;
    }

    /** gaia_test_panic(), for tests of the panic barrier: the status it returns. */
    public static function testPanic(): int
    {
        return self::lib()->gaia_test_panic();
    }
}
