<?php
declare(strict_types=1);

namespace Gaia;

/**
 * A name or id that does not exist (code 10).
 */
class NotFoundException extends GaiaException
{
}
