<?php
declare(strict_types=1);

namespace Gaia;

/**
 * Saved state that is corrupt (code 13) or of an unsupported version (code 14).
 */
class CorruptStateException extends GaiaException
{
}
