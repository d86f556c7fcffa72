package gaia

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// TrialState is how a trial ended (gaia_trial_state).
type TrialState int32

// Trial states for Tell and AddTrial.
const (
	TrialComplete TrialState = 1
	TrialFailed   TrialState = 2
	TrialPruned   TrialState = 3
)

// Study is an ask/tell optimisation study (gaia_study): it proposes parameters, the
// caller evaluates them however it likes, concurrently if it wants, and tells the value.
// A Study is safe for concurrent use; Close releases it.
type Study struct {
	mu  sync.RWMutex
	ptr *C.gaia_study
}

// Trial is one trial as the library reports it. Constraints (by name) and Feasible are
// set only in studies that declare constraints (Constraints only for complete trials).
// Value is set for complete trials of a single-objective study, Values (one per
// objective) for those of a study with several. Intermediate holds the reported
// (step, value) pairs, by step.
type Trial struct {
	ID           uint64             `json:"id"`
	State        string             `json:"state"`
	Value        *float64           `json:"value"`
	Values       []float64          `json:"values,omitempty"`
	Params       map[string]any     `json:"params"`
	Constraints  map[string]float64 `json:"constraints,omitempty"`
	Feasible     *bool              `json:"feasible,omitempty"`
	Intermediate [][2]float64       `json:"intermediate,omitempty"`
}

// Importance is one parameter's share of what drives good values (see Study.Importance).
type Importance struct {
	Param      string  `json:"param"`
	Importance float64 `json:"importance"`
}

// NewStudy creates a study from a JSON configuration such as
// {"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
// "direction": "minimize", "constraints": ["latency"], "sampler": {"type": "tpe"},
// "storage": "journal:/var/lib/app/study.jsonl", "seed": 1}. Samplers: random, tpe, sobol,
// grid; storage: memory (default), a journal file that processes on the host share, or
// "mysql://user:password@host:port/db" with a "name": one study shared by workers on any
// host, in Optuna's RDB schema (docs/shared-studies.md).
// Errors: ErrInvalidJSON, ErrInvalidConfig (naming the parameter), ErrIO (also: database
// unreachable or refusing; the message never holds the password).
func NewStudy(configJSON string) (*Study, error) { return openStudy(configJSON, "config_json", false) }

// LoadStudy restores a study saved by Save.
func LoadStudy(saved string) (*Study, error) { return openStudy(saved, "saved_json", true) }

func openStudy(text, what string, load bool) (*Study, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	ctext, err := cString(text, what)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctext))
	var ptr *C.gaia_study
	var msg *C.char
	var st C.gaia_status
	if load {
		st = C.go_study_load(ctext, &ptr, &msg)
	} else {
		st = C.go_study_new(ctext, &ptr, &msg)
	}
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	s := &Study{ptr: ptr}
	runtime.SetFinalizer(s, (*Study).Close)
	return s, nil
}

// Close frees the study; idempotent, and later calls return ErrInvalidHandle.
func (s *Study) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.gaia_study_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

var errStudyClosed = &Error{Code: StatusInvalidHandle, Msg: "study is closed"}

func (s *Study) live() error {
	debugGC()
	if s.ptr == nil {
		return errStudyClosed
	}
	return nil
}

// Ask starts a trial and returns its id and its active parameters.
func (s *Study) Ask() (uint64, map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return 0, nil, err
	}
	var id C.uint64_t
	var params, msg *C.char
	st := C.go_study_ask(s.ptr, &id, &params, &msg)
	runtime.KeepAlive(s)
	if err := fail(st, msg); err != nil {
		return 0, nil, err
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(takeString(params)), &p); err != nil {
		return 0, nil, &Error{Code: StatusCorruptState, Msg: "params: " + err.Error()}
	}
	return uint64(id), p, nil
}

// Tell finishes trial id (in a study without constraints). A complete trial whose value is
// NaN or infinite is recorded as failed; failed and pruned trials ignore the value.
// Errors: ErrNotFound, ErrInvalidState (already finished), ErrInvalidArgument.
func (s *Study) Tell(id uint64, value float64, state TrialState) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_study_tell(s.ptr, C.uint64_t(id), C.double(value), C.int32_t(state), &msg)
	runtime.KeepAlive(s)
	return fail(st, msg)
}

// TellConstraints finishes trial id with a value per declared constraint, by name (every
// one, no other); the trial is feasible when every value is <= 0, and Best returns the best
// feasible trial. A NaN or infinite constraint value is ErrInvalidArgument and changes
// nothing.
func (s *Study) TellConstraints(id uint64, value float64, state TrialState, constraints map[string]float64) error {
	cc, err := constraintsJSON(id, constraints)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cc))
	return s.tellValues(id, []float64{value}, state, cc)
}

// constraintsJSON is constraints as a C JSON string (the caller frees it).
func constraintsJSON(id uint64, constraints map[string]float64) (*C.char, error) {
	text, err := json.Marshal(constraints)
	if err != nil {
		return nil, &Error{Code: StatusInvalidArgument, Msg: fmt.Sprintf("trial %d: constraints: %v", id, err)}
	}
	return cString(string(text), "constraints_json")
}

// Importance says how much each parameter matters for reaching good values (PED-ANOVA, as
// Optuna's PedAnovaImportanceEvaluator), largest first, shares summing to 1.
// ErrInvalidState with fewer than 2 complete trials.
func (s *Study) Importance() ([]Importance, error) {
	text, err := s.text(3)
	if err != nil {
		return nil, err
	}
	var out []Importance
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "importance: " + err.Error()}
	}
	return out, nil
}

// Flush writes a journal study's records to the disk now (a no-op in memory).
func (s *Study) Flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_study_flush(s.ptr, &msg)
	runtime.KeepAlive(s)
	return fail(st, msg)
}

func marshalParams(params map[string]any) (*C.char, error) {
	text, err := json.Marshal(params)
	if err != nil {
		return nil, &Error{Code: StatusInvalidJSON, Msg: "trial params: " + err.Error()}
	}
	return cString(string(text), "params_json")
}

// Enqueue makes the next Ask return these parameters (every active one, in range).
func (s *Study) Enqueue(params map[string]any) error {
	cp, err := marshalParams(params)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cp))
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_study_enqueue(s.ptr, cp, &msg)
	runtime.KeepAlive(s)
	return fail(st, msg)
}

// AddTrial records a trial evaluated elsewhere and returns its id.
func (s *Study) AddTrial(params map[string]any, value float64, state TrialState) (uint64, error) {
	return s.AddTrialValues(params, []float64{value}, state)
}

func (s *Study) text(what C.int) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return "", err
	}
	var out, msg *C.char
	st := C.go_study_text(s.ptr, what, &out, &msg)
	runtime.KeepAlive(s)
	if err := fail(st, msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// TellValues finishes a trial of a study with several objectives ("directions" in its
// configuration) with one value per objective; a complete trial with any NaN or infinite
// value is recorded as failed. constraints may be nil (see TellConstraints). Errors as
// for TellConstraints, plus ErrInvalidArgument for the wrong number of values.
func (s *Study) TellValues(id uint64, values []float64, state TrialState, constraints map[string]float64) error {
	var cc *C.char
	if constraints != nil {
		var err error
		if cc, err = constraintsJSON(id, constraints); err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(cc))
	}
	return s.tellValues(id, values, state, cc)
}

// tellValues is TellValues with the constraints already as C JSON (nil: none).
func (s *Study) tellValues(id uint64, values []float64, state TrialState, cc *C.char) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_study_tell_values(s.ptr, C.uint64_t(id), doubles(values), C.size_t(len(values)), C.int32_t(state), cc, &msg)
	runtime.KeepAlive(s)
	runtime.KeepAlive(values)
	return fail(st, msg)
}

// doubles points C at a []float64 (nil for an empty one); the slice holds no Go pointers,
// so cgo lets C read it for the call.
func doubles(v []float64) *C.double {
	if len(v) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&v[0]))
}

// AddTrialValues records a trial evaluated elsewhere in a study with several objectives
// (every value finite when complete) and returns its id.
func (s *Study) AddTrialValues(params map[string]any, values []float64, state TrialState) (uint64, error) {
	cp, err := marshalParams(params)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cp))
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return 0, err
	}
	var id C.uint64_t
	var msg *C.char
	st := C.go_study_add_trial_values(s.ptr, cp, doubles(values), C.size_t(len(values)), C.int32_t(state), &id, &msg)
	runtime.KeepAlive(s)
	runtime.KeepAlive(values)
	return uint64(id), fail(st, msg)
}

// Report records an intermediate value of a running trial at step (an epoch, the number
// of evaluation samples so far) for the study's pruner ("pruner" in its configuration); a
// step reported twice keeps its first value. Errors: ErrNotFound, ErrInvalidState (the
// trial is finished, or the study has several objectives), ErrInvalidArgument (NaN or
// infinite value, step above 2^31-1).
func (s *Study) Report(id, step uint64, value float64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_study_report(s.ptr, C.uint64_t(id), C.uint64_t(step), C.double(value), &msg)
	runtime.KeepAlive(s)
	return fail(st, msg)
}

// ShouldPrune reports whether the running trial should stop now (then Tell it
// TrialPruned), by the study's pruner from every trial's reports; always false without a
// pruner.
func (s *Study) ShouldPrune(id uint64) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.live(); err != nil {
		return false, err
	}
	var out C.bool
	var msg *C.char
	st := C.go_study_should_prune(s.ptr, C.uint64_t(id), &out, &msg)
	runtime.KeepAlive(s)
	if err := fail(st, msg); err != nil {
		return false, err
	}
	return bool(out), nil
}

// BestTrials returns the best trials: the best (feasible) complete trial of a
// single-objective study, or the Pareto front of a study with several objectives (every
// feasible complete trial that no other dominates). ErrInvalidState while there is none.
func (s *Study) BestTrials() ([]Trial, error) {
	text, err := s.text(0)
	if err != nil {
		return nil, err
	}
	var ts []Trial
	if len(text) > 0 && text[0] == '{' {
		var t Trial
		err = json.Unmarshal([]byte(text), &t)
		ts = []Trial{t}
	} else {
		err = json.Unmarshal([]byte(text), &ts)
	}
	if err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "best: " + err.Error()}
	}
	return ts, nil
}

// Best returns the best (feasible) complete trial; ErrInvalidState while there is none.
// For a study with several objectives use BestTrials (the Pareto front).
func (s *Study) Best() (*Trial, error) {
	text, err := s.text(0)
	if err != nil {
		return nil, err
	}
	if len(text) > 0 && text[0] == '[' {
		return nil, &Error{Code: StatusInvalidState, Msg: "best: the study has several objectives: use BestTrials for its Pareto front"}
	}
	var t Trial
	if err := json.Unmarshal([]byte(text), &t); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "best: " + err.Error()}
	}
	return &t, nil
}

// Trials returns every trial in id order.
func (s *Study) Trials() ([]Trial, error) {
	text, err := s.text(1)
	if err != nil {
		return nil, err
	}
	var ts []Trial
	if err := json.Unmarshal([]byte(text), &ts); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "trials: " + err.Error()}
	}
	return ts, nil
}

// Save serialises the whole study for LoadStudy.
func (s *Study) Save() (string, error) { return s.text(2) }
