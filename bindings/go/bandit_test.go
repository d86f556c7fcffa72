package gaia

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"
)

func mustBandit(t *testing.T, cfg string) *Bandit {
	t.Helper()
	b, err := NewBandit(cfg)
	if err != nil {
		t.Fatalf("NewBandit(%s): %v", cfg, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func mustSave(t *testing.T, b *Bandit) string {
	t.Helper()
	s, err := b.Save()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVersions(t *testing.T) {
	if ABIVersion() != ABIVersionWanted {
		t.Fatalf("ABI %d", ABIVersion())
	}
	if v := Version(); !strings.HasPrefix(v, "0.") {
		t.Fatalf("version %q", v)
	}
}

func TestLearnsTheBestArm(t *testing.T) {
	b := mustBandit(t, `{"arms": ["low", "mid", "high"], "seed": 1}`)
	p := map[string]float64{"low": 0.2, "mid": 0.5, "high": 0.8}
	rng := rand.New(rand.NewSource(1))
	late := 0
	for round := 0; round < 3000; round++ {
		arm, err := b.Choose()
		if err != nil {
			t.Fatal(err)
		}
		r := 0.0
		if rng.Float64() < p[arm] {
			r = 1
		}
		if err := b.Update(arm, r); err != nil {
			t.Fatal(err)
		}
		if round >= 2500 && arm == "high" {
			late++
		}
	}
	if late < 450 {
		t.Fatalf("best arm chosen %d/500 late", late)
	}
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalPulls != 3000 || s.Model != "beta" || len(s.Arms) != 3 || math.Abs(s.Arms[2].Mean-0.8) > 0.03 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGaussianTypedConfigAndDiscount(t *testing.T) {
	seed := uint64(5)
	mu := 0.5
	b, err := NewBanditConfig(BanditConfig{Arms: []string{"a", "b"}, Model: "gaussian", Seed: &seed, Discount: 0.9, Prior: &Prior{Mu: &mu}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := 0; i < 50; i++ {
		if err := b.UpdateIndex(i%2, float64(i%2)*3-1); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := b.Stats()
	if s.Model != "gaussian" || s.Discount != 0.9 || s.Arms[0].Kappa == nil || s.Arms[1].Mean < 1 {
		t.Fatalf("stats %+v", s)
	}
	if s.Arms[0].Weight > 10.0 {
		t.Fatalf("discount keeps evidence bounded, weight %v", s.Arms[0].Weight)
	}
	if _, err := NewBanditConfig(BanditConfig{Arms: []string{"a"}, Model: "poisson"}); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestArmsChange(t *testing.T) {
	b := mustBandit(t, `{"arms": ["a", "b"], "seed": 2}`)
	if err := b.AddArm("c"); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveArm("a"); err != nil {
		t.Fatal(err)
	}
	arms, _ := b.Arms()
	if strings.Join(arms, ",") != "b,c" {
		t.Fatalf("arms %v", arms)
	}
	for i := 0; i < 20; i++ {
		arm, err := b.Choose()
		if err != nil || (arm != "b" && arm != "c") {
			t.Fatalf("choose %q %v", arm, err)
		}
	}
}

func TestSaveLoadContinuesIdentically(t *testing.T) {
	a := mustBandit(t, `{"arms": ["x", "y", "z"], "seed": 3, "discount": 0.95}`)
	for i := 0; i < 30; i++ {
		k, _ := a.ChooseIndex()
		_ = a.UpdateIndex(k, float64(i%2))
	}
	b, err := LoadBandit(mustSave(t, a))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := 0; i < 100; i++ {
		x, _ := a.Choose()
		y, _ := b.Choose()
		if x != y {
			t.Fatalf("draw %d: %s vs %s", i, x, y)
		}
	}
}

func TestBadInputGetsCodeAndMessageAndChangesNothing(t *testing.T) {
	for _, c := range []struct {
		cfg    string
		target error
		needle string
	}{
		{`{`, ErrInvalidJSON, "bandit config: EOF"},
		{`{"arms": "a"}`, ErrInvalidJSON, "invalid type"},
		{`{"arms": ["a"], "colour": 1}`, ErrInvalidJSON, "unknown field `colour`"},
		{`{"arms": ["a"], "discount": 0}`, ErrInvalidConfig, "discount"},
		{`{"arms": ["a", "a"]}`, ErrInvalidConfig, "arms[1]"},
		{"{\"arms\": [\"\xff\"]}", ErrInvalidUTF8, "config_json is not valid UTF-8"},
		{"{\"arms\": [\"a\x00\"]}", ErrInvalidArgument, "NUL"},
	} {
		b, err := NewBandit(c.cfg)
		if b != nil || !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.needle) {
			t.Errorf("NewBandit(%q) = %v, %v; want %v containing %q", c.cfg, b, err, c.target, c.needle)
		}
	}

	b := mustBandit(t, `{"arms": ["a", "b"], "seed": 4}`)
	_ = b.Update("a", 1)
	before := mustSave(t, b)
	checks := []struct {
		err    error
		target error
		needle string
	}{
		{b.Update("zzz", 1), ErrNotFound, `unknown arm "zzz" (arms: a, b)`},
		{b.Update("a", math.NaN()), ErrInvalidArgument, "got NaN"},
		{b.Update("a", math.Inf(1)), ErrInvalidArgument, "got inf"},
		{b.Update("a", 1.5), ErrInvalidArgument, "in [0, 1]"},
		{b.Update("\xff", 1), ErrInvalidUTF8, "arm is not valid UTF-8"},
		{b.Update("a\x00b", 1), ErrInvalidArgument, "NUL"},
		{b.UpdateIndex(7, 1), ErrNotFound, "index 7"},
		{b.UpdateIndex(-1, 1), ErrNotFound, "negative"},
		{b.AddArm("a"), ErrAlreadyExists, `arm "a" already exists`},
		{b.AddArm(""), ErrInvalidArgument, "must not be empty"},
		{b.RemoveArm("nope"), ErrNotFound, "unknown arm"},
		{testPanic(), ErrPanic, "gaia_test_panic was called"},
	}
	for i, c := range checks {
		var ge *Error
		if !errors.Is(c.err, c.target) || !errors.As(c.err, &ge) || !strings.Contains(ge.Msg, c.needle) {
			t.Errorf("check %d: got %v, want %v containing %q", i, c.err, c.target, c.needle)
		}
	}
	if after := mustSave(t, b); after != before {
		t.Fatalf("failed calls changed the bandit:\n%s\n%s", before, after)
	}
	if _, err := b.Choose(); err != nil {
		t.Fatalf("still usable: %v", err)
	}

	empty := mustBandit(t, `{"arms": []}`)
	if _, err := empty.Choose(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("choose with no arms: %v", err)
	}
}

func TestCorruptSaves(t *testing.T) {
	b := mustBandit(t, `{"arms": ["a", "b"], "seed": 6}`)
	_ = b.Update("b", 0)
	good := mustSave(t, b)
	for _, c := range []struct {
		text   string
		target error
	}{
		{good[:len(good)/2], ErrCorruptState},
		{strings.Replace(good, `"version":1`, `"version":9`, 1), ErrUnsupportedVersion},
		{strings.Replace(good, `"weight":1.0`, `"weight":-1.0`, 1), ErrCorruptState},
		{strings.Replace(good, `"name":"b"`, `"name":"a"`, 1), ErrCorruptState},
		{"", ErrCorruptState},
	} {
		if l, err := LoadBandit(c.text); l != nil || !errors.Is(err, c.target) {
			t.Errorf("LoadBandit(%.40q…) = %v; want %v", c.text, err, c.target)
		}
	}
}

func TestCloseIsIdempotentAndGuardsUse(t *testing.T) {
	b, err := NewBandit(`{"arms": ["a"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Choose(); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("choose after close: %v", err)
	}
	if err := b.Update("a", 1); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("update after close: %v", err)
	}
	if _, err := b.Save(); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("save after close: %v", err)
	}
}

func TestSixtyFourGoroutinesShareOneBandit(t *testing.T) {
	b := mustBandit(t, `{"arms": ["a", "b", "c"], "seed": 7}`)
	const workers, rounds = 64, 1000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				arm, err := b.Choose()
				if err != nil {
					errs <- err
					return
				}
				r := 0.0
				if arm == "c" || (i+w)%4 == 0 {
					r = 1
				}
				if err := b.Update(arm, r); err != nil {
					errs <- err
					return
				}
				// A failure on one goroutine must carry its own message, whatever thread ran it.
				if err := b.Update("missing", 1); err == nil || !strings.Contains(err.Error(), `"missing"`) {
					errs <- err
					return
				}
			}
		}(w)
	}
	// Arms change while the workers run.
	if err := b.AddArm("d"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, _ := b.Stats()
	var chosen, pulls uint64
	for _, a := range s.Arms {
		chosen += a.Chosen
		pulls += a.Pulls
	}
	if s.TotalPulls != workers*rounds || chosen != workers*rounds || pulls != workers*rounds {
		t.Fatalf("total %d chosen %d pulls %d", s.TotalPulls, chosen, pulls)
	}
}

func TestStatsJSONMatchesTypedStats(t *testing.T) {
	b := mustBandit(t, `{"arms": ["a"], "seed": 8}`)
	_ = b.Update("a", 1)
	text, err := b.StatsJSON()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	s, _ := b.Stats()
	if raw["total_pulls"].(float64) != float64(s.TotalPulls) || s.Arms[0].Alpha != 2 {
		t.Fatalf("%s vs %+v", text, s)
	}
}
