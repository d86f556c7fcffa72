package gaia

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Bandit is a multi-armed bandit over named arms (gaia_bandit; Thompson sampling, UCB1, EXP3
// or contextual linear Thompson sampling): it chooses which arm to try and learns from
// rewards which one pays best. Choose/Update learn at once; Ask/Tell learn from rewards that
// come later (an LLM call that takes seconds), in any order, from any goroutine.
//
// A Bandit is safe for concurrent use by many goroutines. Close releases it.
type Bandit struct {
	mu    sync.RWMutex // write-held to close or change arms, read-held for every other call
	ptr   *C.gaia_bandit
	names []string // arm names by index, refreshed whenever arms change
}

// BanditConfig is the typed form of the JSON configuration accepted by NewBandit. Zero
// values (and nil pointers) leave a field out, so the library's default applies.
type BanditConfig struct {
	// Arms are the names of the options, unique, 1 to 256 bytes.
	Arms []string `json:"arms"`
	// Model is "beta" (rewards in [0, 1]; the default) or "gaussian" (any finite reward; the
	// default, and the only choice, for "lints").
	Model string `json:"model,omitempty"`
	// Policy is "thompson" (the default), "ucb1", "exp3" (beta model only) or "lints"
	// (contextual: every Ask gives Features numbers).
	Policy string `json:"policy,omitempty"`
	// Seed makes the choices reproducible; nil seeds randomly.
	Seed *uint64 `json:"seed,omitempty"`
	// Discount in (0, 1] fades old evidence on every update; 0 means the default, 1.
	Discount float64 `json:"discount,omitempty"`
	// Window keeps only the last Window rewards over all arms (not with a discount below 1,
	// not for "lints"); 0 keeps all.
	Window uint64 `json:"window,omitempty"`
	// UcbC is UCB1's exploration constant, >= 0 (nil: 1).
	UcbC *float64 `json:"ucb_c,omitempty"`
	// Gamma is EXP3's exploration rate in (0, 1]; 0 means the default, 0.1.
	Gamma float64 `json:"gamma,omitempty"`
	// Prior overrides the default prior (Beta(1, 1); Gaussian mu 0, kappa 1, alpha 1, beta 1);
	// not for "lints".
	Prior *Prior `json:"prior,omitempty"`
	// Features is the length of a "lints" context, 1 to 1024 (required there, else 0).
	Features int `json:"features,omitempty"`
	// Lambda is the "lints" ridge precision in [1e-6, 1e6]; 0 means the default, 1.
	Lambda float64 `json:"lambda,omitempty"`
	// V is the "lints" posterior scale (about the rewards' noise standard deviation), > 0;
	// 0 means the default, 1.
	V float64 `json:"v,omitempty"`
	// PendingTTL is how many seconds an Ask waits for its Tell before it expires; 0 means
	// the default, 3600.
	PendingTTL float64 `json:"pending_ttl_s,omitempty"`
	// ExpiredReward is the reward an expired Ask counts as (e.g. 0: a timed-out call
	// failed); nil drops expired asks.
	ExpiredReward *float64 `json:"expired_reward,omitempty"`
}

// Prior holds prior hyper-parameters; nil fields keep their defaults. Mu and Kappa apply
// only to the gaussian model.
type Prior struct {
	Alpha *float64 `json:"alpha,omitempty"`
	Beta  *float64 `json:"beta,omitempty"`
	Mu    *float64 `json:"mu,omitempty"`
	Kappa *float64 `json:"kappa,omitempty"`
}

// ArmStats are one arm's statistics: counts and posterior parameters. For "lints", Mean is
// the mean of the arm's rewards, Alpha and Beta are zero (absent) and Theta holds the
// posterior mean coefficients, one per feature.
type ArmStats struct {
	Name        string    `json:"name"`
	Pulls       uint64    `json:"pulls"`
	Chosen      uint64    `json:"chosen"`
	Weight      float64   `json:"weight"`
	Mean        float64   `json:"mean"`
	Alpha       float64   `json:"alpha"`
	Beta        float64   `json:"beta"`
	Kappa       *float64  `json:"kappa,omitempty"`
	Probability *float64  `json:"probability,omitempty"` // exp3
	Theta       []float64 `json:"theta,omitempty"`       // lints
}

// BanditStats are a bandit's statistics, as returned by Stats. Pending counts the asks
// waiting for their Tell (after expiring those past their ttl), Expired those that expired.
type BanditStats struct {
	Model         string     `json:"model"`
	Policy        string     `json:"policy,omitempty"` // empty: "thompson"
	Discount      float64    `json:"discount"`
	Window        uint64     `json:"window,omitempty"`
	UcbC          *float64   `json:"ucb_c,omitempty"`
	Gamma         *float64   `json:"gamma,omitempty"`
	Features      int        `json:"features,omitempty"`
	Lambda        *float64   `json:"lambda,omitempty"`
	V             *float64   `json:"v,omitempty"`
	TotalPulls    uint64     `json:"total_pulls"`
	Pending       uint64     `json:"pending"`
	Expired       uint64     `json:"expired"`
	ExpiredReward *float64   `json:"expired_reward,omitempty"`
	Arms          []ArmStats `json:"arms"`
}

// NewBandit creates a bandit from a JSON configuration such as
// {"arms": ["gpt", "claude"], "model": "beta", "seed": 42},
// {"arms": ["a", "b"], "policy": "ucb1", "window": 500} or
// {"arms": ["a", "b"], "policy": "lints", "features": 8, "pending_ttl_s": 600};
// fields: arms, model, seed, discount, prior, policy ("thompson", "ucb1" with ucb_c, "exp3"
// with gamma, "lints" with features, lambda, v), window, pending_ttl_s and expired_reward
// (see BanditConfig). Errors: ErrInvalidJSON, ErrInvalidConfig (the message names the
// field), ErrInvalidUTF8.
func NewBandit(configJSON string) (*Bandit, error) {
	return open(configJSON, "config_json", false)
}

// NewBanditConfig creates a bandit from a typed configuration.
func NewBanditConfig(cfg BanditConfig) (*Bandit, error) {
	if cfg.Arms == nil {
		cfg.Arms = []string{}
	}
	text, err := json.Marshal(cfg)
	if err != nil {
		return nil, &Error{Code: StatusInvalidConfig, Msg: "bandit config: " + err.Error()}
	}
	return NewBandit(string(text))
}

// LoadBandit restores a bandit saved by Save. Errors: ErrCorruptState,
// ErrUnsupportedVersion.
func LoadBandit(saved string) (*Bandit, error) {
	return open(saved, "saved_json", true)
}

func open(text, what string, load bool) (*Bandit, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	ctext, err := cString(text, what)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctext))
	var ptr *C.gaia_bandit
	var msg *C.char
	var st C.gaia_status
	if load {
		st = C.go_bandit_load(ctext, &ptr, &msg)
	} else {
		st = C.go_bandit_new(ctext, &ptr, &msg)
	}
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	b := &Bandit{ptr: ptr}
	if err := b.refreshNames(); err != nil {
		C.gaia_bandit_free(ptr)
		return nil, err
	}
	runtime.SetFinalizer(b, (*Bandit).Close)
	return b, nil
}

var errClosed = &Error{Code: StatusInvalidHandle, Msg: "bandit is closed"}

// live reports errClosed after Close; the caller holds mu.
func (b *Bandit) live() error {
	debugGC()
	if b.ptr == nil {
		return errClosed
	}
	return nil
}

// refreshNames reloads the arm-name cache; the caller holds mu for writing (or owns b).
func (b *Bandit) refreshNames() error {
	var n C.size_t
	var msg *C.char
	if err := fail(C.go_bandit_arm_count(b.ptr, &n, &msg), msg); err != nil {
		return err
	}
	names := make([]string, int(n))
	for i := range names {
		var s *C.char
		if err := fail(C.go_bandit_arm_name(b.ptr, C.size_t(i), &s, &msg), msg); err != nil {
			return err
		}
		names[i] = takeString(s)
	}
	b.names = names
	return nil
}

// Close frees the bandit. It is idempotent and safe to call while other goroutines use
// the bandit: they then get an ErrInvalidHandle error.
func (b *Bandit) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr != nil {
		C.gaia_bandit_free(b.ptr)
		b.ptr = nil
		runtime.SetFinalizer(b, nil)
	}
	return nil
}

// ChooseIndex chooses an arm by the bandit's policy and returns its index (the order of
// Arms). ErrInvalidState when the bandit has no arms, or is "lints" (use Ask).
func (b *Bandit) ChooseIndex() (int, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.chooseLocked()
}

func (b *Bandit) chooseLocked() (int, error) {
	if err := b.live(); err != nil {
		return 0, err
	}
	var i C.size_t
	var msg *C.char
	st := C.go_bandit_choose(b.ptr, &i, &msg)
	runtime.KeepAlive(b)
	if err := fail(st, msg); err != nil {
		return 0, err
	}
	return int(i), nil
}

// Choose is ChooseIndex returning the arm's name.
func (b *Bandit) Choose() (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	i, err := b.chooseLocked()
	if err != nil {
		return "", err
	}
	return b.names[i], nil
}

// Update records reward for the arm called arm: in [0, 1] for the beta model, any finite
// value for the gaussian one. Errors: ErrNotFound (unknown arm), ErrInvalidArgument (NaN,
// infinite, out of range), ErrInvalidUTF8. On error the bandit is unchanged.
func (b *Bandit) Update(arm string, reward float64) error {
	if strings.IndexByte(arm, 0) >= 0 {
		return &Error{Code: StatusInvalidArgument, Msg: "arm contains a NUL byte"}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return err
	}
	var msg *C.char
	// The arm's bytes are passed without a copy; the shim copies them onto the C stack.
	data := (*C.char)(unsafe.Pointer(unsafe.StringData(arm)))
	st := C.go_bandit_update_n(b.ptr, data, C.size_t(len(arm)), C.double(reward), &msg)
	runtime.KeepAlive(b)
	return fail(st, msg)
}

// Ask chooses an arm for a reward that will come later and returns a ticket for Tell and
// the arm's name; the arm counts as chosen. context is the "lints" context (Features finite
// numbers); nil or empty for the other policies. The ask waits, with its time, arm and
// context, until it is told or expires after pending_ttl_s. Errors: ErrInvalidArgument (a
// context of the wrong length, NaN or infinite values, a context for a policy without one,
// none for "lints"), ErrInvalidState (no arms). On error the bandit is unchanged.
func (b *Bandit) Ask(context []float64) (ticket uint64, arm string, err error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return 0, "", err
	}
	var x *C.double
	if len(context) > 0 {
		// A slice of float64 holds no Go pointers: C reads it in place during the call.
		x = (*C.double)(unsafe.Pointer(&context[0]))
	}
	var t C.uint64_t
	var i C.size_t
	var msg *C.char
	st := C.go_bandit_ask(b.ptr, x, C.size_t(len(context)), &t, &i, &msg)
	runtime.KeepAlive(b)
	runtime.KeepAlive(context)
	if err := fail(st, msg); err != nil {
		return 0, "", err
	}
	return uint64(t), b.names[int(i)], nil
}

// Tell records reward for the ask that returned ticket, in any order and from any
// goroutine, until pending_ttl_s after the ask. The reward must suit the model as for
// Update. Errors: ErrNotFound (no ask returned the ticket), ErrInvalidState (told already,
// expired, or dropped when its arm was removed: the message says which),
// ErrInvalidArgument (NaN, infinite or out-of-range reward; the ticket stays pending).
func (b *Bandit) Tell(ticket uint64, reward float64) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_bandit_tell(b.ptr, C.uint64_t(ticket), C.double(reward), &msg)
	runtime.KeepAlive(b)
	return fail(st, msg)
}

// UpdateIndex records reward for arm number index (see Update). ErrNotFound when index is
// out of range.
func (b *Bandit) UpdateIndex(index int, reward float64) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return err
	}
	if index < 0 {
		return &Error{Code: StatusNotFound, Msg: "arm index must not be negative"}
	}
	var msg *C.char
	st := C.go_bandit_update_index(b.ptr, C.size_t(index), C.double(reward), &msg)
	runtime.KeepAlive(b)
	return fail(st, msg)
}

// changeArms runs an add or remove under the write lock and refreshes the name cache.
func (b *Bandit) changeArms(name string, add bool) error {
	cname, err := cString(name, "arm name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.live(); err != nil {
		return err
	}
	var msg *C.char
	var st C.gaia_status
	if add {
		st = C.go_bandit_add_arm(b.ptr, cname, &msg)
	} else {
		st = C.go_bandit_remove_arm(b.ptr, cname, &msg)
	}
	if err := fail(st, msg); err != nil {
		return err
	}
	return b.refreshNames()
}

// AddArm adds an arm with only its prior as evidence. Errors: ErrAlreadyExists,
// ErrInvalidArgument (empty or too long name).
func (b *Bandit) AddArm(name string) error { return b.changeArms(name, true) }

// RemoveArm removes an arm and its evidence. ErrNotFound for an unknown name.
func (b *Bandit) RemoveArm(name string) error { return b.changeArms(name, false) }

// Arms returns the arm names in index order.
func (b *Bandit) Arms() ([]string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return nil, err
	}
	return append([]string(nil), b.names...), nil
}

// text runs one of the functions that return a library-owned string.
func (b *Bandit) text(save bool) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.live(); err != nil {
		return "", err
	}
	var out, msg *C.char
	var st C.gaia_status
	if save {
		st = C.go_bandit_save(b.ptr, &out, &msg)
	} else {
		st = C.go_bandit_stats_json(b.ptr, &out, &msg)
	}
	runtime.KeepAlive(b)
	if err := fail(st, msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// StatsJSON returns the statistics as the library's JSON text.
func (b *Bandit) StatsJSON() (string, error) { return b.text(false) }

// Stats returns per-arm counts and posteriors.
func (b *Bandit) Stats() (*BanditStats, error) {
	text, err := b.text(false)
	if err != nil {
		return nil, err
	}
	var s BanditStats
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "stats: " + err.Error()}
	}
	return &s, nil
}

// Save serialises the whole bandit (configuration, evidence, random state) as versioned
// JSON that LoadBandit restores to a bandit making the same draws.
func (b *Bandit) Save() (string, error) { return b.text(true) }
