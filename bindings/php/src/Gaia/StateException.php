<?php
declare(strict_types=1);

namespace Gaia;

/**
 * The object's state does not allow the call now, e.g. choosing with no arms (code 12).
 */
class StateException extends GaiaException
{
}
