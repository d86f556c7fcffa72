<?php
declare(strict_types=1);

namespace Gaia;

/**
 * Base of every error Gaia raises. getCode() is the C ABI status code (gaia_status),
 * getMessage() the library's message (gaia_last_error()).
 */
class GaiaException extends \RuntimeException
{
}
