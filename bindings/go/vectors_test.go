package gaia

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type vectorStep struct {
	Op         string          `json:"op"`
	Arm        string          `json:"arm"`
	Reward     float64         `json:"reward"`
	Expect     json.RawMessage `json:"expect"`
	ExpectJSON string          `json:"expect_json"`
	Error      string          `json:"error"`
	Code       int32           `json:"code"`
	Context    []float64       `json:"context"`
	Ticket     uint64          `json:"ticket"`
}

type vectorFile struct {
	Format string `json:"format"`
	Cases  []struct {
		Name   string          `json:"name"`
		Config json.RawMessage `json:"config"`
		Steps  []vectorStep    `json:"steps"`
	} `json:"cases"`
}

// TestSharedVectors replays tests/vectors/bandit.json: the same choices, errors and
// statistics as every other front end.
func TestSharedVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "bandit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Format != "gaia.vectors.bandit" || len(v.Cases) < 4 {
		t.Fatalf("format %q, %d cases", v.Format, len(v.Cases))
	}
	for _, c := range v.Cases {
		b, err := NewBandit(string(c.Config))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for i, s := range c.Steps {
			before := mustSave(t, b)
			var got error
			switch s.Op {
			case "choose":
				var arm string
				arm, got = b.Choose()
				if got == nil && `"`+arm+`"` != string(s.Expect) {
					t.Fatalf("%s step %d: chose %q, want %s", c.Name, i, arm, s.Expect)
				}
			case "ask":
				var ticket uint64
				var arm string
				ticket, arm, got = b.Ask(s.Context)
				if got == nil && (`"`+arm+`"` != string(s.Expect) || ticket != s.Ticket) {
					t.Fatalf("%s step %d: asked %d %q, want %d %s", c.Name, i, ticket, arm, s.Ticket, s.Expect)
				}
			case "tell":
				got = b.Tell(s.Ticket, s.Reward)
			case "update":
				got = b.Update(s.Arm, s.Reward)
			case "add_arm":
				got = b.AddArm(s.Arm)
			case "remove_arm":
				got = b.RemoveArm(s.Arm)
			case "save_load":
				_ = b.Close()
				b, got = LoadBandit(before)
			case "arms":
				arms, _ := b.Arms()
				var want []string
				_ = json.Unmarshal(s.Expect, &want)
				if strings.Join(arms, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s step %d: arms %v, want %v", c.Name, i, arms, want)
				}
			case "stats":
				text, err := b.StatsJSON()
				if err != nil || text != s.ExpectJSON {
					t.Fatalf("%s step %d: stats %s (%v)\nwant %s", c.Name, i, text, err, s.ExpectJSON)
				}
				var a, e map[string]any
				_ = json.Unmarshal([]byte(text), &a)
				_ = json.Unmarshal(s.Expect, &e)
				if !reflect.DeepEqual(a, e) {
					t.Fatalf("%s step %d: decoded stats differ", c.Name, i)
				}
			default:
				t.Fatalf("unknown op %q", s.Op)
			}
			if s.Code == 0 {
				if got != nil {
					t.Fatalf("%s step %d (%s): %v", c.Name, i, s.Op, got)
				}
				continue
			}
			var ge *Error
			if !errors.As(got, &ge) || int32(ge.Code) != s.Code || ge.Code.String() != s.Error {
				t.Fatalf("%s step %d (%s %s): got %v, want %s", c.Name, i, s.Op, s.Arm, got, s.Error)
			}
			if after := mustSave(t, b); after != before {
				t.Fatalf("%s step %d: failed call changed the bandit", c.Name, i)
			}
		}
		_ = b.Close()
	}
}
