package gaia

/*
#include "shim.h"

// Shims of the sync functions (gaia_sync_*): as those of shim.h, each copies the thread's
// last error inside the same cgo call.

static inline gaia_status go_sync_new(const char *json, gaia_sync **out, char **err) {
	gaia_status st = gaia_sync_new(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_sync_check(const gaia_sync *s, char **err) {
	gaia_status st = gaia_sync_check(s);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_sync_run(const gaia_sync *s, uint32_t mode, char **report, char **err) {
	gaia_status st = gaia_sync_run(s, mode, report);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_sync_cancel(const gaia_sync *s, char **err) {
	gaia_status st = gaia_sync_cancel(s);
	*err = go_gaia_error(st);
	return st;
}

// what: 0 progress, 1 metrics.
static inline gaia_status go_sync_text(const gaia_sync *s, int what, char **out, char **err) {
	gaia_status st = what == 0 ? gaia_sync_progress(s, out) : gaia_sync_metrics(s, out);
	*err = go_gaia_error(st);
	return st;
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// SyncMode is what a Run does (GAIA_SYNC_*).
type SyncMode uint32

// The modes of Sync.Run.
const (
	// ModeAuto is incremental when a checkpoint and the live core exist, else a full
	// rebuild (what a cron job wants).
	ModeAuto SyncMode = C.GAIA_SYNC_AUTO
	// ModeFull rebuilds everything into a fresh core, verifies the count and swaps it in;
	// it resumes a rebuild that crashed or was cancelled.
	ModeFull SyncMode = C.GAIA_SYNC_FULL
	// ModeIncremental applies the changes since the checkpoint to the live core.
	ModeIncremental SyncMode = C.GAIA_SYNC_INCREMENTAL
	// ModeCDC follows the binlog from the checkpoint's GTID position (a full rebuild first
	// when there is none, or when that binlog was purged) until the context is cancelled;
	// Run then returns the report and no error.
	ModeCDC SyncMode = C.GAIA_SYNC_CDC
	// ModeReconcile compares every live document's (id, version) with the database and
	// repairs the differences; SyncReport.Differences says what was fixed.
	ModeReconcile SyncMode = C.GAIA_SYNC_RECONCILE
)

// String is the mode's name as the report spells it: "auto", "full", "incremental", "cdc"
// or "reconcile".
func (m SyncMode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeFull:
		return "full"
	case ModeIncremental:
		return "incremental"
	case ModeCDC:
		return "cdc"
	case ModeReconcile:
		return "reconcile"
	}
	return fmt.Sprintf("SyncMode(%d)", uint32(m))
}

// MarshalText writes the mode's name.
func (m SyncMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads "auto", "full", "incremental", "cdc" or "reconcile".
func (m *SyncMode) UnmarshalText(text []byte) error {
	for _, c := range []SyncMode{ModeAuto, ModeFull, ModeIncremental, ModeCDC, ModeReconcile} {
		if string(text) == c.String() {
			*m = c
			return nil
		}
	}
	return fmt.Errorf("unknown sync mode %q", text)
}

// SyncPhase is what a run is doing, as SyncProgress reports it.
type SyncPhase string

// The phases of SyncProgress.Phase.
const (
	SyncPhaseIdle        SyncPhase = "idle"        // no run yet
	SyncPhaseValidating  SyncPhase = "validating"  // checking the mapping against both servers
	SyncPhaseBuilding    SyncPhase = "building"    // full rebuild: streaming rows into the build core
	SyncPhaseVerifying   SyncPhase = "verifying"   // full rebuild: committing and counting
	SyncPhaseSwapping    SyncPhase = "swapping"    // full rebuild: swapping the build core in
	SyncPhaseIncremental SyncPhase = "incremental" // an incremental pass
	SyncPhaseFollowing   SyncPhase = "following"   // change data capture: following the binlog
	SyncPhaseReconciling SyncPhase = "reconciling" // comparing the index with the database, repairing
	SyncPhaseDone        SyncPhase = "done"        // the last run finished
	SyncPhaseFailed      SyncPhase = "failed"      // the last run failed
	SyncPhaseCancelled   SyncPhase = "cancelled"   // the last run was cancelled
)

// Running reports whether the phase is one of a run in progress.
func (p SyncPhase) Running() bool {
	switch p {
	case SyncPhaseValidating, SyncPhaseBuilding, SyncPhaseVerifying, SyncPhaseSwapping, SyncPhaseIncremental,
		SyncPhaseFollowing, SyncPhaseReconciling:
		return true
	}
	return false
}

// SyncReport is what a finished run did (gaia_sync_run's report JSON).
type SyncReport struct {
	Mode             SyncMode `json:"mode"`               // the mode that ran: never ModeAuto
	Core             string   `json:"core"`               // the live core
	BuildCore        *string  `json:"build_core"`         // the core a full rebuild wrote to
	RowsRead         uint64   `json:"rows_read"`          // source rows read (root rows, changed child keys, tombstones)
	DocsWritten      uint64   `json:"docs_written"`       // documents Solr accepted
	DocsDeleted      uint64   `json:"docs_deleted"`       // versioned deletes Solr accepted
	DeadLettered     uint64   `json:"dead_lettered"`      // rows written to DeadLetterFile
	Retries          uint64   `json:"retries"`            // request retries after 5xx or connection errors
	Chunks           uint64   `json:"chunks"`             // chunks or pages acknowledged in this run
	ResumedFromChunk *uint64  `json:"resumed_from_chunk"` // a resumed full rebuild: the chunks done before
	VerifiedCount    *uint64  `json:"verified_count"`     // documents counted in the build core before the swap
	Swapped          bool     `json:"swapped"`            // whether a full rebuild was swapped in
	// UpToUs: changes up to this instant (UTC microseconds since the epoch) are in the
	// index (incremental: the server clock less the lag, capped below the oldest open
	// transaction; full: where the next incremental pass starts).
	UpToUs         *int64  `json:"up_to_us"`
	ElapsedSeconds float64 `json:"elapsed_s"`        // wall time
	RowsPerSecond  float64 `json:"rows_per_s"`       // rows read per second
	CheckpointFile string  `json:"checkpoint_file"`  // the checkpoint file
	DeadLetterFile string  `json:"dead_letter_file"` // JSON lines: id, core, reason, unix_time
	// Differences is what ModeReconcile found (and repaired); nil for other modes.
	Differences *SyncDifferences `json:"differences,omitempty"`
	// Shared is how a shared rebuild (tuning "shared_rebuild": true) was split between the
	// workers; nil for other runs.
	Shared *SyncSharedRebuild `json:"shared,omitempty"`
}

// SyncSharedRebuild is how the chunks of a shared rebuild were split between the workers
// running it (as this worker saw it once the rebuild was live).
type SyncSharedRebuild struct {
	Generation    string `json:"generation"`     // the rebuild (its core's instance folder)
	Worker        string `json:"worker"`         // this worker: host:pid:random
	ChunksTotal   uint64 `json:"chunks_total"`   // chunks the rebuild was planned in
	ChunksHere    uint64 `json:"chunks_here"`    // chunks this worker wrote and marked done
	ChunksRetaken uint64 `json:"chunks_retaken"` // chunks leased again after a lease ran out
	Workers       uint64 `json:"workers"`        // workers that marked a chunk done
	LeasesLost    uint64 `json:"leases_lost"`    // chunks written here but taken over meanwhile
	FinishedHere  bool   `json:"finished_here"`  // this worker verified and swapped the build in
}

// SyncDifferences is what a reconciliation found between the index and the database; each
// difference was repaired in the same run.
type SyncDifferences struct {
	RowsChecked uint64 `json:"rows_checked"` // root rows read from the database
	DocsInSolr  uint64 `json:"docs_in_solr"` // live documents before the repair
	Missing     uint64 `json:"missing"`      // rows without a document: indexed
	Stale       uint64 `json:"stale"`        // documents older than their row: indexed again
	Extra       uint64 `json:"extra"`        // documents without a live row: deleted
}

// Total is Missing + Stale + Extra: 0 when the index equalled the database.
func (d SyncDifferences) Total() uint64 { return d.Missing + d.Stale + d.Extra }

// SyncProgress is a snapshot of the current (or last) run's counters.
type SyncProgress struct {
	Phase          SyncPhase `json:"phase"`
	RowsRead       uint64    `json:"rows_read"`    // source rows read (root rows and tombstones)
	RowsTotal      *uint64   `json:"rows_total"`   // rows expected, when known (a full rebuild counts first)
	DocsWritten    uint64    `json:"docs_written"` // documents Solr accepted
	DocsDeleted    uint64    `json:"docs_deleted"` // versioned deletes Solr accepted
	DeadLettered   uint64    `json:"dead_lettered"`
	Retries        uint64    `json:"retries"`
	BytesSent      uint64    `json:"bytes_sent"` // bytes of update requests sent
	ElapsedSeconds float64   `json:"elapsed_s"`  // since the run started (frozen when it ends)
	RowsPerSecond  float64   `json:"rows_per_s"`
	ETASeconds     *float64  `json:"eta_s"` // estimated seconds left, when the total is known
}

// Sync keeps a Solr core equal to MariaDB tables (gaia_sync): a full rebuild swapped in,
// incremental passes from a checkpoint, soft deletes and tombstones, dead letters. The
// configuration (JSON) names both servers, the core, a state folder and the mapping; see
// docs/bindings.md.
//
// A Sync is safe for concurrent use: one Run at a time (a second concurrent Run fails with
// ErrInvalidState), while Progress, Metrics, Cancel and Check may be called from any
// goroutine during a Run. Close cancels a Run in progress and waits for it (and any other
// call in flight) to return before it frees the handle.
type Sync struct {
	mu        sync.RWMutex // read-held by every call into the handle (a Run for its whole length), write-held by Close
	ptr       *C.gaia_sync
	running   atomic.Bool   // a Run is in progress
	closing   chan struct{} // closed by Close: a Run in progress is cancelled
	closeOnce sync.Once
}

// NewSync parses and checks a JSON configuration, without contacting any server:
//
//	{"mariadb_url": "mysql://user:pass@127.0.0.1:3306/shop", "solr_url": "http://127.0.0.1:8983/solr",
//	 "core": "products", "state_dir": "/var/lib/shop/sync",
//	 "mapping": {"table": "products", "primary_key": "id", "version_column": "updated_at",
//	             "fields": [{"column": "title", "field": "title_t"}],
//	             "soft_delete": {"column": "deleted", "deleted_values": [1]}},
//	 "tuning": {"chunk_rows": 5000, "lag_ms": 1000}}
//
// Errors: ErrInvalidJSON (not JSON, an unknown field, a wrong type), ErrInvalidConfig (the
// message names the field, e.g. mapping.fields[2].type), ErrInvalidUTF8.
func NewSync(configJSON string) (*Sync, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	ctext, err := cString(configJSON, "config_json")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctext))
	var ptr *C.gaia_sync
	var msg *C.char
	if err := fail(C.go_sync_new(ctext, &ptr, &msg), msg); err != nil {
		return nil, err
	}
	s := &Sync{ptr: ptr, closing: make(chan struct{})}
	runtime.SetFinalizer(s, (*Sync).Close)
	return s, nil
}

// NewSyncFromValue is NewSync with the configuration as a Go value (a map or a struct),
// encoded with encoding/json. A value JSON cannot hold is ErrInvalidJSON, or
// ErrInvalidArgument for a NaN or an infinity.
func NewSyncFromValue(config any) (*Sync, error) {
	text, err := json.Marshal(config)
	if err != nil {
		code := StatusInvalidJSON
		var uv *json.UnsupportedValueError
		if errors.As(err, &uv) {
			code = StatusInvalidArgument
		}
		return nil, &Error{Code: code, Msg: "sync config: " + err.Error()}
	}
	return NewSync(string(text))
}

// Close frees the handle. A Run in progress is cancelled (it returns ErrCancelled, with
// every acknowledged chunk checkpointed) and Close waits for it, and for any other call in
// flight, to return; calls made meanwhile wait too. Close is idempotent; later calls get
// ErrInvalidHandle.
func (s *Sync) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.gaia_sync_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

var errSyncClosed = &Error{Code: StatusInvalidHandle, Msg: "sync is closed"}

// live reports errSyncClosed after Close; the caller holds mu.
func (s *Sync) live() error {
	debugGC()
	if s.ptr == nil {
		return errSyncClosed
	}
	return nil
}

func (s *Sync) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Check connects to MariaDB and Solr and checks the mapping against the live schemas
// (tables, columns, primary key, Solr fields), writing nothing. It may run during a Run.
// When ctx ends first Check returns ctx.Err() at once; the check itself cannot be
// interrupted and finishes in the background (Close waits for it). Errors:
// ErrInvalidConfig (naming the table, column or field), ErrIO (a server is unreachable or
// refuses the credentials).
func (s *Sync) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if err := s.live(); err != nil {
		s.mu.RUnlock()
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer s.mu.RUnlock()
		var msg *C.char
		st := C.go_sync_check(s.ptr, &msg)
		runtime.KeepAlive(s)
		done <- fail(st, msg)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished at the same moment: its answer is worth more
			return err
		default:
			return ctx.Err()
		}
	}
}

// cancelEvery is how often a Run whose context ended repeats its request to stop: a
// request made before the library has started the run would otherwise be lost.
const cancelEvery = 20 * time.Millisecond

// Run runs a sync and blocks until it ends, returning its report. Validation (the
// configuration, the database and Solr schemas, the checkpoint) happens before any write;
// documents Solr rejects go to the dead-letter file and do not fail the run.
//
// When ctx is already done Run returns ctx.Err() without starting. When ctx ends during
// the run, the run stops at its next chunk or page, every acknowledged chunk checkpointed
// (the next run resumes), and Run returns an error matching both ErrCancelled and
// ctx.Err() (context.Canceled or context.DeadlineExceeded) under errors.Is. A run that
// finished before it noticed ctx returns its report and no error.
//
// Errors: ErrCancelled (Cancel, Close, or ctx), ErrInvalidState (another Run is in
// progress on this Sync, a checkpoint of another mapping, a failed count verification),
// ErrNotFound (ModeIncremental without a checkpoint), ErrInvalidConfig, ErrIO (a server
// failed after the retries), ErrCorruptState (an unreadable checkpoint),
// ErrInvalidArgument (an unknown mode).
func (s *Sync) Run(ctx context.Context, mode SyncMode) (*SyncReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return nil, err
	}
	if s.isClosing() {
		return nil, errSyncClosed
	}
	// The library refuses a second concurrent run itself; refusing it here as well keeps
	// the second Run's context from cancelling the first one's run.
	if !s.running.CompareAndSwap(false, true) {
		return nil, &Error{Code: StatusInvalidState, Msg: "a sync run is already in progress on this handle"}
	}
	defer s.running.Store(false)

	ptr := s.ptr
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-stop:
			return
		case <-ctx.Done():
		case <-s.closing:
		}
		tick := time.NewTicker(cancelEvery)
		defer tick.Stop()
		for {
			var msg *C.char
			_ = fail(C.go_sync_cancel(ptr, &msg), msg)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var out, msg *C.char
	st := C.go_sync_run(ptr, C.uint32_t(mode), &out, &msg)
	close(stop)
	<-watched
	runtime.KeepAlive(s)
	if err := fail(st, msg); err != nil {
		if st == C.GAIA_ERR_CANCELLED {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("%w (%w)", err, cerr)
			}
			if s.isClosing() {
				err.(*Error).Msg += " (the Sync was closed)"
			}
		}
		return nil, err
	}
	var report SyncReport
	if err := json.Unmarshal([]byte(takeString(out)), &report); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "sync report: " + err.Error()}
	}
	return &report, nil
}

// Progress returns the current (or last) run's progress; safe during a Run.
func (s *Sync) Progress() (SyncProgress, error) {
	var p SyncProgress
	text, err := s.text(0)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return p, &Error{Code: StatusCorruptState, Msg: "sync progress: " + err.Error()}
	}
	return p, nil
}

// Metrics returns this handle's metrics in the Prometheus text format (0.0.4):
// gaia_sync_rows_read, gaia_sync_docs_written, gaia_sync_runs_ok_total, ... each labelled
// with the core. Safe during a Run.
func (s *Sync) Metrics() (string, error) { return s.text(1) }

func (s *Sync) text(what C.int) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return "", err
	}
	var out, msg *C.char
	st := C.go_sync_text(s.ptr, what, &out, &msg)
	runtime.KeepAlive(s)
	if err := fail(st, msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Cancel asks the Run in progress to stop at its next chunk or page; the Run then returns
// ErrCancelled, every acknowledged chunk checkpointed. Without a Run in progress it has no
// effect (the next Run starts normally). Safe from any goroutine.
func (s *Sync) Cancel() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_sync_cancel(s.ptr, &msg)
	runtime.KeepAlive(s)
	return fail(st, msg)
}
