<?php
declare(strict_types=1);

namespace Gaia;

/**
 * Versions of the loaded libgaia.
 */
final class Library
{
    /** The library's semantic version, e.g. "0.1.0". */
    public static function version(): string
    {
        return (string) FFI::lib()->gaia_version();
    }

    /** The library's ABI version (1). */
    public static function abiVersion(): int
    {
        return FFI::lib()->gaia_abi_version();
    }
}
