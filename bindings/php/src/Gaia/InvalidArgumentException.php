<?php
declare(strict_types=1);

namespace Gaia;

/**
 * A bad argument: invalid JSON, configuration, UTF-8, value or name (codes 1, 2, 7, 8, 9, 11).
 */
class InvalidArgumentException extends GaiaException
{
}
