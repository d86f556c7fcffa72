<?php
declare(strict_types=1);

namespace Gaia;

/**
 * A multi-armed bandit over named arms (Thompson sampling, UCB1, EXP3, or contextual linear
 * Thompson sampling): chooses which arm (LLM, prompt, setting) to try and learns from rewards
 * which one pays best. choose()/update() learn at once; ask()/tell() learn from rewards that
 * come later, through tickets.
 *
 * State survives requests: save() returns JSON that Bandit::load() restores, in any worker,
 * to a bandit that makes the same draws and accepts the same pending tickets.
 */
final class Bandit
{
    private \FFI\CData $handle;

    /** @var list<string> arm names by index, refreshed whenever arms change */
    private array $names = [];

    /**
     * Creates a bandit.
     *
     * @param array<string, mixed>|string $config e.g. ['arms' => ['a', 'b'], 'model' => 'beta',
     *        'seed' => 42, 'discount' => 1.0, 'prior' => ['alpha' => 1, 'beta' => 1]], or that as JSON.
     *        Also 'policy' => 'thompson' (default) | 'ucb1' (with 'ucb_c' >= 0, default 1) | 'exp3'
     *        (beta model only, with 'gamma' in (0, 1], default 0.1) | 'lints' (contextual, with
     *        'features' => d (1 to 1024, required), 'lambda' (default 1), 'v' (default 1)),
     *        'window' => N (only the last N rewards count; not with a discount below 1),
     *        'pending_ttl_s' (how long an ask waits for its tell, default 3600) and
     *        'expired_reward' (what an expired ask counts as; default: dropped)
     * @throws InvalidArgumentException malformed JSON (code 7) or a bad field (code 8; the message names it)
     */
    public function __construct(array|string $config)
    {
        if (is_array($config)) {
            $config = json_encode($config, JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_UNICODE);
            if ($config === false) {
                throw new InvalidArgumentException('bandit config: ' . json_last_error_msg(), 7);
            }
        }
        $this->open('gaia_bandit_new', $config);
    }

    /**
     * Restores a bandit saved by save().
     *
     * @throws CorruptStateException a truncated or edited save (code 13), a newer format (code 14)
     */
    public static function load(string $saved): self
    {
        $bandit = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $bandit->open('gaia_bandit_load', $saved);
        return $bandit;
    }

    private function open(string $function, string $json): void
    {
        $lib = FFI::lib();
        $out = $lib->new('gaia_bandit *');
        $what = $function === 'gaia_bandit_load' ? 'saved_json' : 'config_json';
        FFI::check($lib->$function(FFI::text($json, $what), \FFI::addr($out)));
        $this->handle = $out;
        $this->refreshNames();
    }

    public function __destruct()
    {
        if (isset($this->handle)) {
            FFI::lib()->gaia_bandit_free($this->handle);
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        // The copy must not free the original's handle when it is destroyed.
        unset($this->handle);
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\Bandit');
    }

    private function refreshNames(): void
    {
        $lib = FFI::lib();
        $n = $lib->new('size_t');
        FFI::check($lib->gaia_bandit_arm_count($this->handle, \FFI::addr($n)));
        $names = [];
        $s = $lib->new('char *');
        for ($i = 0; $i < $n->cdata; $i++) {
            FFI::check($lib->gaia_bandit_arm_name($this->handle, $i, \FFI::addr($s)));
            $names[] = FFI::take($s);
        }
        $this->names = $names;
    }

    /**
     * Chooses an arm by Thompson sampling and returns its name.
     *
     * @throws StateException when the bandit has no arms (code 12)
     */
    public function choose(): string
    {
        return $this->names[$this->chooseIndex()];
    }

    /**
     * Chooses an arm and returns its index in arms().
     *
     * @throws StateException when the bandit has no arms (code 12)
     */
    public function chooseIndex(): int
    {
        static $out = null;
        $lib = FFI::lib();
        $out ??= $lib->new('size_t');
        FFI::check($lib->gaia_bandit_choose($this->handle, \FFI::addr($out)));
        return $out->cdata;
    }

    /**
     * Chooses an arm for a reward that comes later (this request or another, after save() and
     * load()): ['ticket' => int, 'arm' => string, 'index' => int]. $context is the 'lints'
     * context (a list of 'features' numbers); null or [] for the other policies.
     *
     * @param list<int|float>|null $context
     * @return array{ticket: int, arm: string, index: int}
     * @throws InvalidArgumentException a context of the wrong length, NaN or infinite values,
     *         a context for a policy without one, none for 'lints' (code 9)
     * @throws StateException when the bandit has no arms (code 12)
     */
    public function ask(?array $context = null): array
    {
        static $ticket = null, $index = null;
        $lib = FFI::lib();
        $ticket ??= $lib->new('uint64_t');
        $index ??= $lib->new('size_t');
        $n = $context === null ? 0 : count($context);
        $x = null;
        if ($n > 0) {
            $x = $lib->new("double[$n]");
            $i = 0;
            foreach ($context as $v) {
                if (!is_int($v) && !is_float($v)) {
                    throw new InvalidArgumentException("context[$i] must be a number, got " . get_debug_type($v), 9);
                }
                $x[$i++] = (float) $v;
            }
        }
        FFI::check($lib->gaia_bandit_ask($this->handle, $x, $n, \FFI::addr($ticket), \FFI::addr($index)));
        return ['ticket' => $ticket->cdata, 'arm' => $this->names[$index->cdata], 'index' => $index->cdata];
    }

    /**
     * Records the reward of an ask (see ask()), in any order, until 'pending_ttl_s' after it.
     * The reward must suit the model as for update().
     *
     * @throws NotFoundException a ticket no ask returned (code 10)
     * @throws StateException a ticket told already, expired, or dropped with its arm (code 12)
     * @throws InvalidArgumentException NaN, infinite or out-of-range reward (code 9)
     */
    public function tell(int $ticket, float $reward): void
    {
        if ($ticket < 0) {
            throw new NotFoundException("unknown ticket $ticket: tickets start at 1", 10);
        }
        FFI::check(FFI::lib()->gaia_bandit_tell($this->handle, $ticket, $reward));
    }

    /**
     * Records a reward for an arm: in [0, 1] for the beta model, any finite value for gaussian.
     * On error nothing changes.
     *
     * @throws NotFoundException an unknown arm (code 10)
     * @throws InvalidArgumentException NaN, infinite or out-of-range reward (9), invalid UTF-8 (2)
     */
    public function update(string $arm, float $reward): void
    {
        FFI::check(FFI::lib()->gaia_bandit_update($this->handle, FFI::text($arm, 'arm'), $reward));
    }

    /**
     * Records a reward for the arm at $index (see update()).
     *
     * @throws NotFoundException an index out of range (code 10)
     */
    public function updateIndex(int $index, float $reward): void
    {
        if ($index < 0) {
            throw new NotFoundException("arm index $index is out of range: the bandit has " . count($this->names) . ' arms', 10);
        }
        FFI::check(FFI::lib()->gaia_bandit_update_index($this->handle, $index, $reward));
    }

    /**
     * Adds an arm with only its prior as evidence.
     *
     * @throws InvalidArgumentException a duplicate (code 11), empty or too long name (9)
     */
    public function addArm(string $name): void
    {
        FFI::check(FFI::lib()->gaia_bandit_add_arm($this->handle, FFI::text($name, 'name')));
        $this->refreshNames();
    }

    /**
     * Removes an arm and its evidence.
     *
     * @throws NotFoundException an unknown arm (code 10)
     */
    public function removeArm(string $name): void
    {
        FFI::check(FFI::lib()->gaia_bandit_remove_arm($this->handle, FFI::text($name, 'name')));
        $this->refreshNames();
    }

    /**
     * The arm names, in index order.
     *
     * @return list<string>
     */
    public function arms(): array
    {
        return $this->names;
    }

    /**
     * Statistics: ['model' => ..., 'discount' => ..., 'total_pulls' => ..., 'pending' => ...,
     * 'expired' => ..., 'arms' => [['name', 'pulls', 'chosen', 'weight', 'mean', 'alpha', 'beta'
     * (, 'kappa') (, 'probability' under exp3) (, 'theta' under lints, without alpha/beta)],
     * ...]], plus 'policy', 'ucb_c', 'gamma', 'window', 'features', 'lambda', 'v' and
     * 'expired_reward' when they apply. Asks past their ttl expire first.
     *
     * @return array<string, mixed>
     */
    public function stats(): array
    {
        return json_decode($this->text('gaia_bandit_stats_json'), true, 512, JSON_THROW_ON_ERROR);
    }

    /** The whole bandit as versioned JSON for load(). */
    public function save(): string
    {
        return $this->text('gaia_bandit_save');
    }

    private function text(string $function): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->$function($this->handle, \FFI::addr($out)));
        return FFI::take($out);
    }
}
