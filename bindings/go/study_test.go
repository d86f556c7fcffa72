package gaia

import (
	"encoding/json"
	"errors"
	"fmt"
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

// vnum is a number of the vectors, where the string "NaN" stands for NaN (JSON has none).
type vnum float64

func (v *vnum) UnmarshalJSON(b []byte) error {
	if string(b) == `"NaN"` {
		*v = vnum(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*v = vnum(f)
	return err
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
				Op         string          `json:"op"`
				Params     map[string]any  `json:"params"`
				ExpectID   uint64          `json:"expect_id"`
				Expect     json.RawMessage `json:"expect"`
				ID         uint64          `json:"id"`
				Value      vnum            `json:"value"`
				Values     []vnum          `json:"values"`
				Step       uint64          `json:"step"`
				ExpectJSON string          `json:"expect_json"`
				Cons       json.RawMessage `json:"constraints"`
				State      string          `json:"state"`
				Code       int32           `json:"code"`
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
				if st.Values != nil {
					vs := make([]float64, len(st.Values))
					for k, x := range st.Values {
						vs[k] = float64(x)
					}
					got = s.TellValues(st.ID, vs, states[st.State], nil)
				} else if len(st.Cons) > 0 {
					var m map[string]float64
					_ = json.Unmarshal(st.Cons, &m)
					got = s.TellConstraints(st.ID, float64(st.Value), states[st.State], m)
				} else {
					got = s.Tell(st.ID, float64(st.Value), states[st.State])
				}
			case "report":
				got = s.Report(st.ID, st.Step, float64(st.Value))
			case "should_prune":
				var prune bool
				prune, got = s.ShouldPrune(st.ID)
				if fmt.Sprint(prune) != st.ExpectJSON {
					t.Fatalf("%s step %d: should_prune %v, want %s", c.Name, i, prune, st.ExpectJSON)
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
				var a, e any
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

func TestStudySeveralObjectivesFromGoroutines(t *testing.T) {
	s, err := NewStudy(`{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 2}]},
		"directions": ["maximize", "minimize"], "sampler": {"type": "tpe"}, "seed": 9}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				id, p, err := s.Ask()
				if err != nil {
					t.Error(err)
					return
				}
				x := p["x"].(float64)
				if err := s.TellValues(id, []float64{x, x * x}, TrialComplete, nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	front, err := s.BestTrials()
	if err != nil || len(front) == 0 {
		t.Fatalf("front %v, %v", front, err)
	}
	for _, f := range front {
		if len(f.Values) != 2 || f.Value != nil {
			t.Fatalf("front trial %+v", f)
		}
	}
	if _, err := s.Best(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Best on two objectives: %v", err)
	}
	dominated, err := s.AddTrialValues(map[string]any{"x": 1.0}, []float64{-1, 10}, TrialComplete)
	if err != nil {
		t.Fatal(err)
	}
	front, _ = s.BestTrials()
	for _, f := range front {
		if f.ID == dominated {
			t.Fatal("a dominated trial is on the front")
		}
	}
	id, _, _ := s.Ask()
	if err := s.TellValues(id, []float64{1}, TrialComplete, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("one value for two objectives: %v", err)
	}
	if err := s.Report(id, 0, 1); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("report with two objectives: %v", err)
	}
	if err := s.TellValues(id, []float64{math.NaN(), 1}, TrialComplete, nil); err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Trials()
	if ts[id].State != "failed" {
		t.Fatalf("NaN trial is %s", ts[id].State)
	}
}

func TestStudyPruning(t *testing.T) {
	s, err := NewStudy(`{"space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
		"pruner": {"type": "successive_halving", "min_resource": 1, "reduction_factor": 2}, "seed": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := func(level float64) bool {
		id, _, err := s.Ask()
		if err != nil {
			t.Fatal(err)
		}
		for step := uint64(1); step <= 8; step++ {
			if err := s.Report(id, step, level/float64(step)); err != nil {
				t.Fatal(err)
			}
			prune, err := s.ShouldPrune(id)
			if err != nil {
				t.Fatal(err)
			}
			if prune {
				if err := s.Tell(id, 0, TrialPruned); err != nil {
					t.Fatal(err)
				}
				return true
			}
		}
		if err := s.Tell(id, level/8, TrialComplete); err != nil {
			t.Fatal(err)
		}
		return false
	}
	// The first is promoted alone; then each rung keeps the better half.
	got := []bool{run(1), run(0.5), run(4), run(0.25)}
	if !reflect.DeepEqual(got, []bool{false, false, true, false}) {
		t.Fatalf("pruned %v", got)
	}
	ts, _ := s.Trials()
	if len(ts[2].Intermediate) != 1 || ts[2].Intermediate[0] != [2]float64{1, 4} {
		t.Fatalf("intermediate %v", ts[2].Intermediate)
	}
	id, _, _ := s.Ask()
	if err := s.Report(id, 1, math.Inf(1)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("infinite report: %v", err)
	}
	if _, err := s.ShouldPrune(1 << 40); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown trial: %v", err)
	}
	if err := s.Tell(id, 1, TrialComplete); err != nil {
		t.Fatal(err)
	}
	if err := s.Report(id, 2, 1); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("report after tell: %v", err)
	}
}
