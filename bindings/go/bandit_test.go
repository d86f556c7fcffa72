package gaia

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"
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

// taskContext is a "lints" context: bias, one-hot task type (3), prompt length in [0, 1];
// and the arms' success rates for it (arm k is best for task k).
func taskContext(rng *rand.Rand) ([]float64, [3]float64) {
	task := rng.Intn(3)
	length := rng.Float64()
	x := []float64{1, 0, 0, 0, length}
	x[1+task] = 1
	table := [3][3]float64{{0.8, 0.5, 0.3}, {0.4, 0.7, 0.5}, {0.3, 0.4, 0.65}}
	var p [3]float64
	for a := range p {
		p[a] = table[task][a] + 0.1*float64(a-1)*(length-0.5)
	}
	return x, p
}

func TestLinTSLearnsFromDelayedTellsAcrossGoroutines(t *testing.T) {
	seed := uint64(3)
	b, err := NewBanditConfig(BanditConfig{Arms: []string{"a", "b", "c"}, Policy: "lints", Features: 5, V: 0.5, Seed: &seed, PendingTTL: 600})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	index := map[string]int{"a": 0, "b": 1, "c": 2}
	const workers, rounds = 8, 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	best, late := 0, 0
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			type asked struct {
				ticket uint64
				reward float64
			}
			var inFlight []asked
			for i := 0; i < rounds; i++ {
				x, p := taskContext(rng)
				ticket, arm, err := b.Ask(x)
				if err != nil {
					errs <- err
					return
				}
				k := index[arm]
				if i >= rounds*3/4 {
					top := 0
					for a := range p {
						if p[a] > p[top] {
							top = a
						}
					}
					mu.Lock()
					late++
					if k == top {
						best++
					}
					mu.Unlock()
				}
				r := 0.0
				if rng.Float64() < p[k] {
					r = 1
				}
				// Rewards arrive late and out of order: three asks in flight per goroutine.
				inFlight = append(inFlight, asked{ticket, r})
				if len(inFlight) == 3 {
					j := rng.Intn(3)
					if err := b.Tell(inFlight[j].ticket, inFlight[j].reward); err != nil {
						errs <- err
						return
					}
					inFlight = append(inFlight[:j], inFlight[j+1:]...)
				}
			}
			for _, a := range inFlight {
				if err := b.Tell(a.ticket, a.reward); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if best*10 < late*8 {
		t.Fatalf("best arm %d/%d late", best, late)
	}
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Policy != "lints" || s.Model != "gaussian" || s.Features != 5 || s.Pending != 0 || s.TotalPulls != workers*rounds || len(s.Arms[0].Theta) != 5 {
		t.Fatalf("stats %+v", s)
	}
}

func TestTicketErrorsNameTheProblemAndChangeNothing(t *testing.T) {
	lin := mustBandit(t, `{"arms": ["a", "b"], "policy": "lints", "features": 2, "seed": 1}`)
	ticket, _, err := lin.Ask([]float64{1, 0.5})
	if err != nil || ticket != 1 {
		t.Fatalf("ask: %d %v", ticket, err)
	}
	plain := mustBandit(t, `{"arms": ["a", "b"], "seed": 1}`)
	t2, _, err := plain.Ask(nil)
	if err != nil || t2 != 1 {
		t.Fatalf("ask: %d %v", t2, err)
	}
	if err := plain.Tell(t2, 1); err != nil {
		t.Fatal(err)
	}
	beforeLin, beforePlain := mustSave(t, lin), mustSave(t, plain)
	ask := func(b *Bandit, x []float64) error { _, _, err := b.Ask(x); return err }
	for i, c := range []struct {
		err    error
		target error
		needle string
	}{
		{ask(lin, nil), ErrInvalidArgument, `needs a context of 2 features with every ask, got none`},
		{ask(lin, []float64{1}), ErrInvalidArgument, "context: expected 2 features, got 1"},
		{ask(lin, []float64{1, math.NaN()}), ErrInvalidArgument, "context[1] must be finite"},
		{ask(lin, []float64{math.Inf(-1), 0}), ErrInvalidArgument, "context[0] must be finite"},
		{ask(lin, make([]float64, 5000)), ErrInvalidArgument, "more than the 1024 features"},
		{ask(plain, []float64{1}), ErrInvalidArgument, `policy "thompson" takes no context`},
		{lin.Tell(ticket, math.NaN()), ErrInvalidArgument, "got NaN"},
		{lin.Tell(99, 1), ErrNotFound, "unknown ticket 99: the asks so far returned tickets 1 to 1"},
		{lin.Tell(0, 1), ErrNotFound, "unknown ticket 0: tickets start at 1"},
		{plain.Tell(t2, 1), ErrInvalidState, "ticket 1 was already told"},
		{lin.Update("a", 1), ErrInvalidState, `policy "lints" is contextual`},
		{func() error { _, err := lin.Choose(); return err }(), ErrInvalidState, "use ask(context)"},
	} {
		var ge *Error
		if !errors.Is(c.err, c.target) || !errors.As(c.err, &ge) || !strings.Contains(ge.Msg, c.needle) {
			t.Errorf("check %d: got %v, want %v containing %q", i, c.err, c.target, c.needle)
		}
	}
	if mustSave(t, lin) != beforeLin || mustSave(t, plain) != beforePlain {
		t.Fatal("failed calls changed a bandit")
	}
	if err := lin.RemoveArm(lin.names[0]); err != nil {
		t.Fatal(err)
	}
	// The ticket was for arm a or b: either dropped with a, or still pending on b.
	err = lin.Tell(ticket, 0.5)
	if err != nil && !(errors.Is(err, ErrInvalidState) && strings.Contains(err.Error(), `was dropped when its arm "a" was removed`)) {
		t.Fatalf("tell after remove: %v", err)
	}
}

func TestExpiredAsksCountAsTheExpiredReward(t *testing.T) {
	zero := 0.0
	b, err := NewBanditConfig(BanditConfig{Arms: []string{"a"}, PendingTTL: 0.05, ExpiredReward: &zero})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ticket, arm, err := b.Ask(nil)
	if err != nil || arm != "a" {
		t.Fatal(arm, err)
	}
	time.Sleep(120 * time.Millisecond)
	err = b.Tell(ticket, 1)
	if !errors.Is(err, ErrInvalidState) || !strings.Contains(err.Error(), "ticket 1 expired after 0.05 s and counted as reward 0") {
		t.Fatalf("late tell: %v", err)
	}
	s, _ := b.Stats()
	if s.Pending != 0 || s.Expired != 1 || s.TotalPulls != 1 || s.Arms[0].Beta != 2 || s.ExpiredReward == nil {
		t.Fatalf("stats %+v", s)
	}
}

func TestPendingTicketsCrossSaveAndLoad(t *testing.T) {
	// One process asks, saves; another loads and tells (a PHP request pattern).
	a := mustBandit(t, `{"arms": ["x", "y", "z"], "policy": "exp3", "seed": 4}`)
	var tickets []uint64
	for i := 0; i < 5; i++ {
		ticket, _, err := a.Ask(nil)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, ticket)
	}
	saved := mustSave(t, a)
	if !strings.Contains(saved, `"version":3`) || !strings.Contains(saved, `"pending":[`) {
		t.Fatalf("saved %s", saved)
	}
	b, err := LoadBandit(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := len(tickets) - 1; i >= 0; i-- {
		if err := b.Tell(tickets[i], float64(i%2)); err != nil {
			t.Fatal(err)
		}
		if err := a.Tell(tickets[i], float64(i%2)); err != nil {
			t.Fatal(err)
		}
	}
	if next, _, _ := b.Ask(nil); next != 6 {
		t.Fatalf("next ticket %d", next)
	}
	sa, _ := a.StatsJSON()
	s, _ := b.Stats()
	if s.Pending != 1 || s.TotalPulls != 5 || s.Policy != "exp3" || s.Arms[0].Probability == nil || !strings.Contains(sa, `"pending":0`) {
		t.Fatalf("stats %+v / %s", s, sa)
	}
}

func TestTypedConfigCarriesEveryPolicyField(t *testing.T) {
	zero := 0.0
	for _, c := range []struct {
		cfg  BanditConfig
		want string
	}{
		{BanditConfig{Arms: []string{"a", "b"}, Policy: "ucb1", UcbC: &zero, Window: 10}, `"policy":"ucb1","ucb_c":0.0,"discount":1.0,"window":10`},
		{BanditConfig{Arms: []string{"a"}, Policy: "exp3", Gamma: 0.3}, `"policy":"exp3","gamma":0.3`},
		{BanditConfig{Arms: []string{"a"}, Policy: "lints", Features: 3, Lambda: 2, V: 0.25}, `"features":3,"lambda":2.0,"v":0.25`},
		{BanditConfig{Arms: []string{"a"}, PendingTTL: 30, ExpiredReward: &zero}, `"expired_reward":0.0`},
	} {
		b, err := NewBanditConfig(c.cfg)
		if err != nil {
			t.Fatalf("%+v: %v", c.cfg, err)
		}
		text, _ := b.StatsJSON()
		b.Close()
		if !strings.Contains(text, c.want) {
			t.Errorf("%+v: stats %s lack %s", c.cfg, text, c.want)
		}
	}
	if _, err := NewBanditConfig(BanditConfig{Arms: []string{"a"}, Policy: "lints"}); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "features") {
		t.Fatalf("lints without features: %v", err)
	}
}
