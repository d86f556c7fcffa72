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

const studySpace = `{"space": {"params": [
	{"name": "x", "type": "float", "low": -5, "high": 5},
	{"name": "kind", "type": "categorical", "choices": ["a", "b"]}]},
	"sampler": {"type": "tpe"}, "seed": 3}`

func quad(p map[string]any) float64 {
	x := p["x"].(float64)
	v := (x - 1) * (x - 1)
	if p["kind"] == "b" {
		v++
	}
	return v
}

func TestStudyOptimisesConcurrently(t *testing.T) {
	s, err := NewStudy(studySpace)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				id, p, err := s.Ask()
				if err != nil {
					t.Error(err)
					return
				}
				if err := s.Tell(id, quad(p), TrialComplete); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	best, err := s.Best()
	if err != nil || *best.Value > 0.5 || best.Params["kind"] != "a" {
		t.Fatalf("best %+v %v", best, err)
	}
	trials, _ := s.Trials()
	if len(trials) != 80 || trials[79].State != "complete" {
		t.Fatalf("%d trials", len(trials))
	}
}

func TestStudyBadInput(t *testing.T) {
	if _, err := NewStudy(`{"space": {"params": [{"name": "top_p", "type": "float", "low": 1.5, "high": 1.0}]}}`); !errors.Is(err, ErrInvalidConfig) ||
		!strings.Contains(err.Error(), `search space: param "top_p": low 1.5 > high 1.0`) {
		t.Fatalf("bad space: %v", err)
	}
	s, _ := NewStudy(studySpace)
	defer s.Close()
	if _, err := s.Best(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("best before any trial: %v", err)
	}
	id, _, _ := s.Ask()
	before, _ := s.Save()
	for i, c := range []struct {
		err    error
		target error
	}{
		{s.TellConstraints(id, 1, TrialComplete, map[string]float64{"c": 1}), ErrInvalidArgument},
		{s.TellConstraints(id, 1, TrialComplete, map[string]float64{"c": math.NaN()}), ErrInvalidArgument},
		{s.Tell(id, 1, TrialState(9)), ErrInvalidArgument},
		{s.Tell(77, 1, TrialComplete), ErrNotFound},
		{s.Enqueue(map[string]any{"x": 9.0, "kind": "a"}), ErrInvalidConfig},
		{s.Enqueue(map[string]any{"x": math.Inf(1)}), ErrInvalidJSON},
	} {
		if !errors.Is(c.err, c.target) {
			t.Errorf("case %d: %v, want %v", i, c.err, c.target)
		}
	}
	if after, _ := s.Save(); after != before {
		t.Fatal("refused calls changed the study")
	}
	if _, err := s.Importance(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("importance without trials: %v", err)
	}
	// NaN is recorded as a failure, never reaching the model.
	if err := s.Tell(id, math.NaN(), TrialComplete); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Trials(); ts[0].State != "failed" {
		t.Fatalf("NaN tell recorded as %q", ts[0].State)
	}
	if err := s.Tell(id, 1, TrialComplete); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("second tell: %v", err)
	}
	if _, err := LoadStudy(before[:len(before)/2]); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("corrupt: %v", err)
	}
	_ = s.Close()
	if _, _, err := s.Ask(); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("ask after close: %v", err)
	}
}

func TestStudyVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "tune_study.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct {
			Name   string          `json:"name"`
			Config json.RawMessage `json:"config"`
			Steps  []struct {
				Op       string          `json:"op"`
				Params   map[string]any  `json:"params"`
				ExpectID uint64          `json:"expect_id"`
				Expect   json.RawMessage `json:"expect"`
				ID       uint64          `json:"id"`
				Value    float64         `json:"value"`
				Cons     json.RawMessage `json:"constraints"`
				State    string          `json:"state"`
				Code     int32           `json:"code"`
			} `json:"steps"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Cases) < 3 {
		t.Fatalf("%v, %d cases", err, len(v.Cases))
	}
	states := map[string]TrialState{"complete": TrialComplete, "failed": TrialFailed, "pruned": TrialPruned}
	for _, c := range v.Cases {
		s, err := NewStudy(string(c.Config))
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range c.Steps {
			var got error
			switch st.Op {
			case "enqueue":
				got = s.Enqueue(st.Params)
			case "ask":
				var id uint64
				var p map[string]any
				id, p, got = s.Ask()
				var want map[string]any
				_ = json.Unmarshal(st.Expect, &want)
				if id != st.ExpectID || !reflect.DeepEqual(p, want) {
					t.Fatalf("%s step %d: asked %d %v, want %d %v", c.Name, i, id, p, st.ExpectID, want)
				}
			case "tell":
				if len(st.Cons) > 0 {
					var m map[string]float64
					_ = json.Unmarshal(st.Cons, &m)
					got = s.TellConstraints(st.ID, st.Value, states[st.State], m)
				} else {
					got = s.Tell(st.ID, st.Value, states[st.State])
				}
			case "importance", "trials":
				text, err := s.text(3)
				if st.Op == "trials" {
					text, err = s.text(1)
				}
				var a, e any
				_ = json.Unmarshal([]byte(text), &a)
				_ = json.Unmarshal(st.Expect, &e)
				if err != nil || !reflect.DeepEqual(a, e) {
					t.Fatalf("%s: %s %s (%v)", c.Name, st.Op, text, err)
				}
			case "save_load":
				saved, _ := s.Save()
				_ = s.Close()
				s, got = LoadStudy(saved)
			case "best":
				text, err := s.text(0)
				var a, e map[string]any
				_ = json.Unmarshal([]byte(text), &a)
				_ = json.Unmarshal(st.Expect, &e)
				if err != nil || !reflect.DeepEqual(a, e) {
					t.Fatalf("%s: best %s (%v)", c.Name, text, err)
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
		_ = s.Close()
	}
}

func TestStudyConstraintsImportanceAndJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.jsonl")
	config := `{"space": {"params": [
	  {"name": "temperature", "type": "float", "low": 0, "high": 2},
	  {"name": "noise", "type": "float", "low": 0, "high": 1}]},
	 "direction": "maximize", "constraints": ["latency_over_budget"],
	 "sampler": {"type": "tpe"}, "storage": "journal:` + path + `"}`
	// Eight goroutines, each with its own handle on the journal (as separate processes
	// would be), share one study.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := NewStudy(config)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < 10; i++ {
				id, p, err := s.Ask()
				if err != nil {
					errs <- err
					return
				}
				temp := p["temperature"].(float64)
				if err := s.TellConstraints(id, temp, TrialComplete, map[string]float64{"latency_over_budget": temp - 1.2}); err != nil {
					errs <- err
					return
				}
			}
			errs <- s.Flush()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewStudy(`{"storage": "journal:` + path + `"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.Trials()
	if err != nil || len(ts) != 80 {
		t.Fatalf("%d trials, %v", len(ts), err)
	}
	seen := map[uint64]bool{}
	for _, tr := range ts {
		if seen[tr.ID] || tr.State != "complete" || tr.Feasible == nil {
			t.Fatalf("trial %+v", tr)
		}
		seen[tr.ID] = true
	}
	best, err := s.Best()
	if err != nil || !*best.Feasible || *best.Value > 1.2 || *best.Value < 0.9 {
		t.Fatalf("best %+v %v", best, err)
	}
	imp, err := s.Importance()
	if err != nil || imp[0].Param != "temperature" {
		t.Fatalf("importance %+v %v", imp, err)
	}
	if _, err := NewStudy(`{"space": {"params": []}, "storage": "journal:/nonexistent-dir/x"}`); !errors.Is(err, ErrIO) {
		t.Fatalf("unopenable journal: %v", err)
	}
}
