<?php
declare(strict_types=1);

namespace Gaia;

/**
 * Keeps a Solr core equal to MariaDB tables (gaia_sync): a full rebuild into a fresh core
 * that is verified and swapped in, or an incremental pass over the rows changed since the
 * last checkpoint (updates, inserts, soft deletes, tombstones). See docs/sync.md for the
 * configuration.
 *
 * A run blocks the calling PHP thread; the optional progress callback is called on that
 * same thread, every $intervalMs, while the engine works in helper threads.
 */
final class Sync
{
    /** The run modes, by name, as the C ABI numbers them (GAIA_SYNC_*). */
    private const MODES = ['auto' => 0, 'full' => 1, 'incremental' => 2, 'cdc' => 3, 'reconcile' => 4];

    private ?\FFI\CData $handle = null;

    /** Calls of run() inside the library (0 or 1: run() from a progress callback is refused). */
    private int $running = 0;

    /**
     * Parses and checks the configuration without contacting any server.
     *
     * @param array<string, mixed>|string $config ['mariadb_url', 'solr_url', 'core', 'state_dir',
     *        'mapping' => [...], 'tuning' => [...]], or that as JSON
     * @throws InvalidArgumentException malformed JSON or an unknown field (7), a bad value
     *         (8; the message names the field), invalid UTF-8 (2)
     */
    public function __construct(array|string $config)
    {
        if (is_array($config)) {
            $config = json_encode($config, JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_UNICODE);
            if ($config === false) {
                throw new InvalidArgumentException('sync config: ' . json_last_error_msg(), 7);
            }
        }
        $lib = FFI::lib();
        $out = $lib->new('gaia_sync *');
        FFI::check($lib->gaia_sync_new(FFI::text($config, 'config_json'), \FFI::addr($out)));
        $this->handle = $out;
    }

    public function __destruct()
    {
        if ($this->handle !== null && $this->running === 0) {
            FFI::lib()->gaia_sync_free($this->handle);
            $this->handle = null;
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        $this->handle = null;
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\Sync');
    }

    /**
     * Connects to MariaDB and Solr and checks the mapping against the live schemas, writing
     * nothing.
     *
     * @throws InvalidArgumentException the mapping does not fit (8; names the table, column or field)
     * @throws GaiaException a server is unreachable or refuses the credentials (15)
     */
    public function check(): void
    {
        FFI::check(FFI::lib()->gaia_sync_check($this->live()));
    }

    /**
     * Runs a sync and returns its report (mode, core, rows_read, docs_written, docs_deleted,
     * dead_lettered, retries, chunks, verified_count, swapped, up_to_us, elapsed_s,
     * rows_per_s, checkpoint_file, dead_letter_file).
     *
     * @param string $mode 'auto' (incremental when a checkpoint and the core exist, else
     *        full), 'full', 'incremental', 'cdc' (follow the binlog until $onProgress
     *        returns false; the report is then returned, not an exception) or 'reconcile'
     *        (compare the index with the database and repair it; the report's 'differences'
     *        holds rows_checked, docs_in_solr, missing, stale, extra)
     * @param (callable(array<string, mixed>): mixed)|null $onProgress called on this thread every
     *        $intervalMs (at least 10) and once at the end with the progress array (see
     *        progress()); returning false cancels the run. An exception it throws cancels the
     *        run and is rethrown here once the run has stopped.
     * @return array<string, mixed>
     * @throws GaiaException cancelled (4; the checkpoint is kept and the next run resumes),
     *         a server failed after the retries (15)
     * @throws InvalidArgumentException an unknown mode (9), a mapping that does not fit (8)
     * @throws NotFoundException an incremental run without checkpoint (10)
     * @throws StateException a run already in progress on this object, a checkpoint of another
     *         mapping, a failed count verification (12)
     */
    public function run(string $mode = 'auto', ?callable $onProgress = null, int $intervalMs = 1000): array
    {
        $m = self::MODES[$mode] ?? throw new InvalidArgumentException("unknown mode \"$mode\" (auto, full, incremental, cdc, reconcile)", 9);
        if ($intervalMs < 0 || $intervalMs > 0xFFFFFFFF) {
            throw new InvalidArgumentException("intervalMs must be between 0 and 4294967295, got $intervalMs", 9);
        }
        $handle = $this->live();
        if ($this->running > 0) {
            // From a progress callback: the C ABI forbids it (its last call comes after the
            // engine has let go of the run, when a nested run would start for real).
            throw new StateException('a sync run is already in progress on this handle', 12);
        }
        $lib = FFI::lib();
        $out = $lib->new('char *');
        $thrown = null;
        // The C callback: kept in this variable (alive) for the whole call. PHP FFI may not
        // unwind through C, so an exception is caught here, cancels the run, and is rethrown
        // after the library has returned.
        $callback = $onProgress === null ? null : static function ($json, $userdata) use ($onProgress, &$thrown): int {
            if ($thrown !== null) {
                return 1;
            }
            try {
                $text = is_string($json) ? $json : \FFI::string($json);
                return $onProgress(json_decode($text, true, 512, JSON_THROW_ON_ERROR)) === false ? 1 : 0;
            } catch (\Throwable $e) {
                $thrown = $e;
                return 1;
            }
        };
        $this->running++;
        try {
            $status = $callback === null
                ? $lib->gaia_sync_run($handle, $m, \FFI::addr($out))
                : $lib->gaia_sync_run_with_progress($handle, $m, $intervalMs, $callback, null, \FFI::addr($out));
        } finally {
            $this->running--;
            unset($callback);
        }
        if ($thrown !== null) {
            if ($status === 0) {
                $lib->gaia_string_free($out);
            }
            throw $thrown;
        }
        FFI::check($status);
        return json_decode(FFI::take($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * The current (or last) run's progress: phase ('idle', 'validating', 'building',
     * 'verifying', 'swapping', 'incremental', 'following', 'reconciling', 'done', 'failed', 'cancelled'), rows_read,
     * rows_total (null when unknown), docs_written, docs_deleted, dead_lettered, retries,
     * bytes_sent, elapsed_s, rows_per_s, eta_s (null when unknown).
     *
     * @return array<string, mixed>
     */
    public function progress(): array
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_sync_progress($this->live(), \FFI::addr($out)));
        return json_decode(FFI::take($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Asks the run in progress (e.g. from a progress callback or a signal handler) to stop at
     * its next chunk; run() then throws GaiaException code 4. Without a run: no effect.
     */
    public function cancel(): void
    {
        FFI::check(FFI::lib()->gaia_sync_cancel($this->live()));
    }

    /** This object's metrics in the Prometheus text format, labelled with the core. */
    public function metrics(): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_sync_metrics($this->live(), \FFI::addr($out)));
        return FFI::take($out);
    }

    /**
     * Frees the handle now (the destructor does it otherwise); idempotent. Any later call
     * throws GaiaException code 6.
     *
     * @throws StateException called from a progress callback, while the run goes on (12)
     */
    public function close(): void
    {
        if ($this->running > 0) {
            throw new StateException('sync: close() during run(); return false from the progress callback to cancel the run', 12);
        }
        if ($this->handle !== null) {
            FFI::lib()->gaia_sync_free($this->handle);
            $this->handle = null;
        }
    }

    private function live(): \FFI\CData
    {
        return $this->handle ?? throw new GaiaException('sync is closed', 6);
    }
}
