package gaia

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestMCTSVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "mcts_ab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name   string          `json:"name"`
			Config json.RawMessage `json:"config"`
			Steps  []struct {
				Op      string          `json:"op"`
				N       int             `json:"n"`
				K       int             `json:"k"`
				Node    uint32          `json:"node"`
				Trial   uint64          `json:"trial"`
				Score   float64         `json:"score"`
				Payload json.RawMessage `json:"payload"`
				Expect  json.RawMessage `json:"expect"`
				Code    int32           `json:"code"`
			} `json:"steps"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Cases) < 5 {
		t.Fatalf("%v, %d cases", err, len(v.Cases))
	}
	same := func(text string, want json.RawMessage) bool {
		var a, e any
		_ = json.Unmarshal([]byte(text), &a)
		_ = json.Unmarshal(want, &e)
		return reflect.DeepEqual(a, e)
	}
	for _, c := range v.Cases {
		m, err := NewMCTS(string(c.Config))
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range c.Steps {
			var got error
			switch st.Op {
			case "ask":
				var ts []MCTSTrial
				ts, got = m.Ask(st.N)
				rows := make([][]any, len(ts))
				for k, tr := range ts {
					rows[k] = []any{tr.ID, tr.Node, tr.Action}
				}
				text, _ := json.Marshal(rows)
				if !same(string(text), st.Expect) {
					t.Fatalf("%s step %d: asked %s, want %s", c.Name, i, text, st.Expect)
				}
			case "tell":
				var p struct {
					ID   *uint64 `json:"id"`
					Text *string `json:"text"`
				}
				_ = json.Unmarshal(st.Payload, &p)
				var node uint32
				switch {
				case p.ID != nil:
					node, got = m.TellID(st.Trial, st.Score, *p.ID)
				case p.Text != nil:
					node, got = m.Tell(st.Trial, st.Score, []byte(*p.Text))
				default:
					node, got = m.Tell(st.Trial, st.Score, nil)
				}
				if len(st.Expect) > 0 && got == nil && !same(strings.TrimSpace(jsonNumber(node)), st.Expect) {
					t.Fatalf("%s step %d: node %d, want %s", c.Name, i, node, st.Expect)
				}
			case "abandon":
				got = m.Abandon(st.Trial)
			case "save_load":
				snap, err := m.Save()
				if err != nil {
					t.Fatal(err)
				}
				_ = m.Close()
				m, got = LoadMCTS(snap)
			case "top_k", "node":
				var text string
				if st.Op == "top_k" {
					text, got = m.text(1, uint64(st.K))
				} else {
					text, got = m.text(0, uint64(st.Node))
				}
				if !same(text, st.Expect) {
					t.Fatalf("%s step %d: %s %s, want %s", c.Name, i, st.Op, text, st.Expect)
				}
			case "node_count":
				var n int
				n, got = m.NodeCount()
				if !same(jsonNumber(uint32(n)), st.Expect) {
					t.Fatalf("%s: %d nodes, want %s", c.Name, n, st.Expect)
				}
			default:
				t.Fatalf("unknown op %s", st.Op)
			}
			var ge *Error
			switch {
			case st.Code == 0 && got != nil:
				t.Fatalf("%s step %d: %v", c.Name, i, got)
			case st.Code != 0 && (!errors.As(got, &ge) || int32(ge.Code) != st.Code):
				t.Fatalf("%s step %d: %v, want code %d", c.Name, i, got, st.Code)
			}
		}
		_ = m.Close()
	}
}

func jsonNumber(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Goroutines run simulated LLM calls concurrently against one search.
func TestMCTSConcurrentWorkers(t *testing.T) {
	m, err := NewMCTS(`{"actions": ["small", "large"], "seed": 3}`)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				ts, err := m.Ask(2)
				if err != nil {
					errs <- err
					return
				}
				for _, tr := range ts {
					score := math.Mod(float64(tr.ID)*0.37+float64(w)*0.11, 1)
					if _, err := m.Tell(tr.ID, score, []byte(tr.Action)); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, _ := m.NodeCount()
	if n != 1+8*50*2 {
		t.Fatalf("%d nodes", n)
	}
	top, err := m.TopK(3)
	if err != nil || len(top) != 3 || *top[0].Score < *top[2].Score {
		t.Fatalf("top %+v %v", top, err)
	}
	p, err := m.Payload(top[0].ID)
	if err != nil || (string(p) != "small" && string(p) != "large") || string(p) != *top[0].Action {
		t.Fatalf("payload %q %v", p, err)
	}
}

func TestMCTSBadInput(t *testing.T) {
	if _, err := NewMCTS(`{"actions": []}`); !errors.Is(err, ErrInvalidConfig) ||
		!strings.Contains(err.Error(), "actions: at least one action") {
		t.Fatalf("no actions: %v", err)
	}
	if _, err := LoadMCTS([]byte("junk")); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("junk snapshot: %v", err)
	}
	if _, err := LoadMCTS(nil); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("empty snapshot: %v", err)
	}
	m, _ := NewMCTS(`{"seed": 1, "max_width": 1, "max_depth": 1}`)
	ts, _ := m.Ask(1)
	if _, err := m.Ask(0); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "ask needs n in 1..=10000, got 0") {
		t.Fatalf("ask 0: %v", err)
	}
	if _, err := m.Ask(1 << 40); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ask 2^40: %v", err)
	}
	for i, c := range []struct {
		err    error
		target error
	}{
		{second(m.Tell(ts[0].ID, math.NaN(), nil)), ErrInvalidArgument},
		{second(m.Tell(ts[0].ID, 2, nil)), ErrInvalidArgument},
		{second(m.Tell(99, 0.5, nil)), ErrNotFound},
		{second(m.Node(42)), ErrNotFound},
	} {
		if !errors.Is(c.err, c.target) {
			t.Errorf("case %d: %v, want %v", i, c.err, c.target)
		}
	}
	if _, err := m.Tell(ts[0].ID, 0.5, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Abandon(ts[0].ID); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("abandon after tell: %v", err)
	}
	if _, err := m.Ask(1); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("full tree: %v", err)
	}
	_ = m.Close()
	_ = m.Close()
	if _, err := m.Ask(1); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("after close: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
