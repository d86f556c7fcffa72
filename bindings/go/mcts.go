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

// MCTS is a tree search over LLM answers (gaia_mcts): AB-MCTS-A by default, or one of the
// baselines. Ask hands out expansions (a node to refine, or the root for a first answer,
// and an action such as which LLM to call); the caller runs them however it likes,
// concurrently if it wants, and tells each new answer's score in [0, 1]. An MCTS is safe
// for concurrent use; Close releases it.
type MCTS struct {
	mu      sync.RWMutex
	ptr     *C.gaia_mcts
	actions []string
}

// MaxAsk is the most trials one Ask hands out (gaia-core's MAX_ASK).
const MaxAsk = 10000

// MCTSTrial is one expansion to perform.
type MCTSTrial struct {
	ID     uint64 // for Tell / Abandon
	Node   uint32 // the answer to refine; 0 is the root (write a first answer)
	Action string // the configured action to use
}

// MCTSNode is a node as the library reports it.
type MCTSNode struct {
	ID         uint32   `json:"id"`
	Parent     *uint32  `json:"parent"` // nil for the root
	Depth      uint32   `json:"depth"`
	Action     *string  `json:"action"` // nil for the root
	Score      *float64 `json:"score"`  // nil for the root
	Children   int      `json:"children"`
	PayloadID  *uint64  `json:"payload_id"`
	PayloadLen int      `json:"payload_len"`
}

// NewMCTS creates a search from a JSON configuration such as
// {"actions": ["small", "large"], "seed": 1} (see gaia_mcts_new for every field).
// Errors: ErrInvalidJSON, ErrInvalidConfig (naming the field).
func NewMCTS(configJSON string) (*MCTS, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	ctext, err := cString(configJSON, "config_json")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctext))
	var ptr *C.gaia_mcts
	var msg *C.char
	if err := fail(C.go_mcts_new(ctext, &ptr, &msg), msg); err != nil {
		return nil, err
	}
	return wrapMCTS(ptr)
}

// LoadMCTS restores a search from a snapshot written by Save; it continues with identical
// draws. Errors: ErrCorruptState, ErrUnsupportedVersion.
func LoadMCTS(snapshot []byte) (*MCTS, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var ptr *C.gaia_mcts
	var msg *C.char
	var st C.gaia_status
	if len(snapshot) == 0 {
		st = C.go_mcts_load(nil, 0, &ptr, &msg)
	} else {
		st = C.go_mcts_load((*C.uint8_t)(unsafe.Pointer(&snapshot[0])), C.size_t(len(snapshot)), &ptr, &msg)
	}
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	return wrapMCTS(ptr)
}

func wrapMCTS(ptr *C.gaia_mcts) (*MCTS, error) {
	m := &MCTS{ptr: ptr}
	runtime.SetFinalizer(m, (*MCTS).Close)
	for i := 0; ; i++ {
		var name, msg *C.char
		st := C.go_mcts_action_name(ptr, C.uint32_t(i), &name, &msg)
		if st != C.GAIA_OK {
			C.free(unsafe.Pointer(msg))
			break
		}
		m.actions = append(m.actions, takeString(name))
	}
	return m, nil
}

// Close frees the search; idempotent, and later calls return ErrInvalidHandle.
func (m *MCTS) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		C.gaia_mcts_free(m.ptr)
		m.ptr = nil
		runtime.SetFinalizer(m, nil)
	}
	return nil
}

var errMCTSClosed = &Error{Code: StatusInvalidHandle, Msg: "mcts search is closed"}

func (m *MCTS) live() error {
	if m.ptr == nil {
		return errMCTSClosed
	}
	return nil
}

// Actions returns the configured action names, in index order.
func (m *MCTS) Actions() []string { return append([]string(nil), m.actions...) }

// Ask starts up to n trials (at least one). Errors: ErrInvalidArgument (n outside 1..MaxAsk),
// ErrInvalidState (max_width/max_depth leave nothing to expand).
func (m *MCTS) Ask(n int) ([]MCTSTrial, error) {
	if n < 1 || n > MaxAsk {
		// Checked before the trial buffer is allocated; the library's own message.
		return nil, &Error{Code: StatusInvalidArgument, Msg: fmt.Sprintf("ask needs n in 1..=%d, got %d", MaxAsk, n)}
	}
	buf := make([]C.gaia_mcts_trial, n)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return nil, err
	}
	var count C.size_t
	var msg *C.char
	st := C.go_mcts_ask(m.ptr, C.size_t(n), &buf[0], &count, &msg)
	runtime.KeepAlive(m)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	out := make([]MCTSTrial, int(count))
	for i := range out {
		t := buf[i]
		name := ""
		if int(t.action) < len(m.actions) {
			name = m.actions[t.action]
		}
		out[i] = MCTSTrial{ID: uint64(t.trial_id), Node: uint32(t.node), Action: name}
	}
	return out, nil
}

// Tell adds the new answer of a trial with its score in [0, 1] and its bytes (the answer
// text; nil or empty for none), and returns its node id. Idempotent: a repeated Tell
// returns the same node. Errors: ErrInvalidArgument (score), ErrNotFound, ErrInvalidState
// (abandoned trial).
func (m *MCTS) Tell(trialID uint64, score float64, payload []byte) (uint32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return 0, err
	}
	var node C.uint32_t
	var msg *C.char
	var st C.gaia_status
	if len(payload) == 0 {
		st = C.go_mcts_tell(m.ptr, C.uint64_t(trialID), C.double(score), nil, 0, &node, &msg)
	} else {
		st = C.go_mcts_tell(m.ptr, C.uint64_t(trialID), C.double(score),
			(*C.uint8_t)(unsafe.Pointer(&payload[0])), C.size_t(len(payload)), &node, &msg)
	}
	runtime.KeepAlive(m)
	return uint32(node), fail(st, msg)
}

// TellID is Tell with an opaque 64-bit id as payload (a key into the caller's storage).
func (m *MCTS) TellID(trialID uint64, score float64, payloadID uint64) (uint32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return 0, err
	}
	var node C.uint32_t
	var msg *C.char
	st := C.go_mcts_tell_id(m.ptr, C.uint64_t(trialID), C.double(score), C.uint64_t(payloadID), &node, &msg)
	runtime.KeepAlive(m)
	return uint32(node), fail(st, msg)
}

// Abandon gives up a trial whose call failed or timed out; nothing is added. Twice is a
// no-op; after Tell it is ErrInvalidState.
func (m *MCTS) Abandon(trialID uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_mcts_abandon(m.ptr, C.uint64_t(trialID), &msg)
	runtime.KeepAlive(m)
	return fail(st, msg)
}

// NodeCount returns the number of nodes, the root included.
func (m *MCTS) NodeCount() (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return 0, err
	}
	var n C.size_t
	var msg *C.char
	st := C.go_mcts_node_count(m.ptr, &n, &msg)
	runtime.KeepAlive(m)
	return int(n), fail(st, msg)
}

func (m *MCTS) text(what C.int, arg uint64) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return "", err
	}
	var out, msg *C.char
	st := C.go_mcts_text(m.ptr, what, C.uint64_t(arg), &out, &msg)
	runtime.KeepAlive(m)
	if err := fail(st, msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

func (m *MCTS) bytes(what C.int, node uint32) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.live(); err != nil {
		return nil, err
	}
	var out *C.uint8_t
	var n C.size_t
	var msg *C.char
	st := C.go_mcts_bytes(m.ptr, what, C.uint32_t(node), &out, &n, &msg)
	runtime.KeepAlive(m)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	b := C.GoBytes(unsafe.Pointer(out), C.int(n))
	C.gaia_bytes_free(out, n)
	return b, nil
}

// Node returns node id (0 is the root). Errors: ErrNotFound.
func (m *MCTS) Node(id uint32) (*MCTSNode, error) {
	text, err := m.text(0, uint64(id))
	if err != nil {
		return nil, err
	}
	var n MCTSNode
	if err := json.Unmarshal([]byte(text), &n); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "node: " + err.Error()}
	}
	return &n, nil
}

// Payload returns the bytes told with node id (nil when it has none or an id).
func (m *MCTS) Payload(id uint32) ([]byte, error) { return m.bytes(1, id) }

// TopK returns the k best answers, best first.
func (m *MCTS) TopK(k int) ([]MCTSNode, error) {
	if k < 0 {
		k = 0
	}
	text, err := m.text(1, uint64(k))
	if err != nil {
		return nil, err
	}
	var ns []MCTSNode
	if err := json.Unmarshal([]byte(text), &ns); err != nil {
		return nil, &Error{Code: StatusCorruptState, Msg: "top_k: " + err.Error()}
	}
	return ns, nil
}

// ExportJSON returns the whole tree for visualisation.
func (m *MCTS) ExportJSON() (string, error) { return m.text(2, 0) }

// Save returns the whole search as a versioned binary snapshot for LoadMCTS.
func (m *MCTS) Save() ([]byte, error) { return m.bytes(0, 0) }
