<?php
declare(strict_types=1);

namespace Gaia;

/**
 * An ask/tell optimisation study: proposes parameters (random, Sobol, grid, TPE, CMA-ES, GP,
 * NSGA-II), learns from the values told (one objective or several), prunes unpromising
 * trials from reported intermediate values. Trials may be told in any order, much later, or
 * from another request after save()/load().
 */
final class Study
{
    /** The trial finished with a finite value. */
    public const COMPLETE = 1;
    /** The evaluation failed; its value is ignored. */
    public const FAILED = 2;
    /** The evaluation was stopped early; its value is ignored. */
    public const PRUNED = 3;

    private \FFI\CData $handle;

    /**
     * Creates a study.
     *
     * @param array<string, mixed>|string $config ['space' => ['params' => [...]], 'direction' =>
     *        'minimize', 'sampler' => ['type' => 'tpe'], 'seed' => 1], or that as JSON; with
     *        'storage' => 'journal:/path' processes on the host share it, with 'name' => 'x',
     *        'storage' => 'mysql://user:password@host:port/db' workers on any host do
     *        (docs/shared-studies.md)
     * @throws InvalidArgumentException malformed JSON (7) or a bad parameter (8; the message names it)
     * @throws GaiaException the journal or the database cannot be opened (15)
     */
    public function __construct(array|string $config)
    {
        $this->open('gaia_study_new', is_array($config) ? self::json($config, false) : $config);
    }

    /**
     * Restores a study saved by save().
     *
     * @throws CorruptStateException a corrupt save (13) or a newer format (14)
     */
    public static function load(string $saved): self
    {
        $study = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $study->open('gaia_study_load', $saved);
        return $study;
    }

    private function open(string $function, string $json): void
    {
        $lib = FFI::lib();
        $out = $lib->new('gaia_study *');
        $what = $function === 'gaia_study_load' ? 'saved_json' : 'config_json';
        FFI::check($lib->$function(FFI::text($json, $what), \FFI::addr($out)));
        $this->handle = $out;
    }

    public function __destruct()
    {
        if (isset($this->handle)) {
            FFI::lib()->gaia_study_free($this->handle);
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        // The copy must not free the original's handle when it is destroyed.
        unset($this->handle);
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\Study');
    }

    /** @param array<string, mixed> $value */
    private static function json(array $value, bool $object, ?string $what = null): string
    {
        $flags = JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_UNICODE | ($object ? JSON_FORCE_OBJECT : 0);
        $json = json_encode($value, $flags);
        if ($json === false) {
            $what ??= $object ? 'trial params' : 'study config';
            // NaN/infinity cannot travel as JSON: an out-of-domain argument (9), else bad JSON (7).
            $code = json_last_error() === JSON_ERROR_INF_OR_NAN ? 9 : 7;
            throw new InvalidArgumentException("$what: " . json_last_error_msg(), $code);
        }
        return $json;
    }

    private static function id(int $id): int
    {
        if ($id < 0) {
            throw new NotFoundException("trial id must not be negative, got $id", 10);
        }
        return $id;
    }

    /**
     * Starts a trial.
     *
     * @return array{id: int, params: array<string, mixed>}
     */
    public function ask(): array
    {
        $lib = FFI::lib();
        $id = $lib->new('uint64_t');
        $params = $lib->new('char *');
        FFI::check($lib->gaia_study_ask($this->handle, \FFI::addr($id), \FFI::addr($params)));
        return ['id' => $id->cdata, 'params' => json_decode(FFI::take($params), true, 512, JSON_THROW_ON_ERROR)];
    }

    /**
     * Finishes a trial. A complete trial whose value is NaN or infinite is recorded as
     * FAILED. A study with several objectives ('directions' => ['maximize', 'minimize'])
     * takes a list of values, one per objective. A study with constraints needs
     * $constraints for complete trials: a map by constraint name (['latency' => 120.0 -
     * 100.0]) or a list in declaration order; the trial is feasible when every value is <= 0.
     *
     * @param float|list<float|int> $value
     * @param array<string|int, float|int>|null $constraints
     * @throws NotFoundException unknown trial (10)
     * @throws StateException already finished (12)
     * @throws InvalidArgumentException a bad state, the wrong number of values, or
     *         missing/unknown/non-finite constraints (9)
     */
    public function tell(int $id, float|array $value, int $state = self::COMPLETE, ?array $constraints = null): void
    {
        $lib = FFI::lib();
        $json = $constraints === null
            ? null
            : self::json($constraints, !array_is_list($constraints), "trial $id: constraints");
        if (is_array($value)) {
            [$values, $n] = self::values($value, "trial $id");
            FFI::check($lib->gaia_study_tell_values($this->handle, self::id($id), $values, $n, $state, $json));
            return;
        }
        if ($json === null) {
            FFI::check($lib->gaia_study_tell($this->handle, self::id($id), $value, $state));
            return;
        }
        FFI::check($lib->gaia_study_tell_constraints($this->handle, self::id($id), $value, $state, $json));
    }

    /**
     * A list of numbers as a C array of doubles and its length.
     *
     * @param array<mixed> $values
     * @return array{0: ?\FFI\CData, 1: int}
     */
    private static function values(array $values, string $what): array
    {
        if (!array_is_list($values)) {
            throw new InvalidArgumentException("$what: values must be a list, one per objective", 9);
        }
        $n = count($values);
        if ($n === 0) {
            return [null, 0];
        }
        $c = FFI::lib()->new("double[$n]");
        foreach ($values as $k => $v) {
            if (!is_int($v) && !is_float($v)) {
                throw new InvalidArgumentException("$what: value #$k is not a number", 9);
            }
            $c[$k] = (float) $v;
        }
        return [$c, $n];
    }

    /**
     * Reports an intermediate value of a running trial at $step (an epoch, the number of
     * evaluation samples so far) for the study's pruner ('pruner' => ['type' => 'median']).
     * A step reported twice keeps its first value.
     *
     * @throws NotFoundException unknown trial (10)
     * @throws StateException the trial is finished, or the study has several objectives (12)
     * @throws InvalidArgumentException NaN or infinite value, negative or too large step (9)
     */
    public function report(int $id, int $step, float $value): void
    {
        if ($step < 0) {
            throw new InvalidArgumentException("trial $id: step must not be negative, got $step", 9);
        }
        FFI::check(FFI::lib()->gaia_study_report($this->handle, self::id($id), $step, $value));
    }

    /**
     * Whether the running trial should stop now (then tell it with PRUNED), by the study's
     * pruner from every trial's reports; always false without a pruner.
     *
     * @throws NotFoundException unknown trial (10)
     * @throws StateException the trial is finished (12)
     */
    public function shouldPrune(int $id): bool
    {
        $lib = FFI::lib();
        $out = $lib->new('bool');
        FFI::check($lib->gaia_study_should_prune($this->handle, self::id($id), \FFI::addr($out)));
        return (bool) $out->cdata;
    }

    /**
     * How much each parameter matters for reaching good values (PED-ANOVA): parameter name
     * => share, largest first, shares summing to 1.
     *
     * @return array<string, float>
     * @throws StateException with fewer than 2 complete trials (12)
     */
    public function importance(): array
    {
        $rows = json_decode($this->text('gaia_study_importance_json'), true, 512, JSON_THROW_ON_ERROR);
        $out = [];
        foreach ($rows as $row) {
            $out[$row['param']] = (float) $row['importance'];
        }
        return $out;
    }

    /** Writes a journal study's records to the disk now (a no-op in memory). */
    public function flush(): void
    {
        FFI::check(FFI::lib()->gaia_study_flush($this->handle));
    }

    /**
     * Makes the next ask() return these parameters (every active one, inside its range).
     *
     * @param array<string, mixed> $params
     */
    public function enqueue(array $params): void
    {
        FFI::check(FFI::lib()->gaia_study_enqueue($this->handle, self::json($params, true)));
    }

    /**
     * Records a trial evaluated elsewhere and returns its id ($value: a list of values for
     * a study with several objectives).
     *
     * @param array<string, mixed> $params
     * @param float|list<float|int> $value
     */
    public function addTrial(array $params, float|array $value, int $state = self::COMPLETE): int
    {
        $lib = FFI::lib();
        $id = $lib->new('uint64_t');
        if (is_array($value)) {
            [$values, $n] = self::values($value, 'added trial');
            FFI::check($lib->gaia_study_add_trial_values($this->handle, self::json($params, true), $values, $n, $state, \FFI::addr($id)));
            return $id->cdata;
        }
        FFI::check($lib->gaia_study_add_trial($this->handle, self::json($params, true), $value, $state, \FFI::addr($id)));
        return $id->cdata;
    }

    /**
     * The best (feasible) complete trial: ['id', 'state', 'value', 'params'], plus
     * 'constraints' and 'feasible' when the study declares constraints. For a study with
     * several objectives: the Pareto front, a list of such trials with 'values' (one per
     * objective) instead of 'value'.
     *
     * @return array<string, mixed>
     * @throws StateException while no trial is complete, or none is feasible (12)
     */
    public function best(): array
    {
        return json_decode($this->text('gaia_study_best_json'), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Every trial, in id order.
     *
     * @return list<array<string, mixed>>
     */
    public function trials(): array
    {
        return json_decode($this->text('gaia_study_trials_json'), true, 512, JSON_THROW_ON_ERROR);
    }

    /** The whole study as versioned JSON for load(). */
    public function save(): string
    {
        return $this->text('gaia_study_save');
    }

    private function text(string $function): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->$function($this->handle, \FFI::addr($out)));
        return FFI::take($out);
    }
}
