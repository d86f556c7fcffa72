// Command lints picks an LLM per request with a contextual bandit (linear Thompson sampling,
// "policy": "lints"): the context is the task type, the prompt length and the tenant's tier,
// and the best model depends on all three. Eight goroutines serve requests concurrently; each
// asks for a model, makes the (simulated) call, and tells the graded reward when it arrives,
// out of order. Calls that never answer expire and count as failures ("expired_reward": 0).
package main

import (
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand"
	"sync"
	"time"

	gaia "gaia.dev/gaia"
)

var (
	models = []string{"small", "medium", "large"}
	tasks  = []string{"chat", "code", "summary"}
	tiers  = []string{"free", "pro", "enterprise"}
)

// request is one incoming request: what the bandit sees of it.
type request struct {
	task, tier int
	tokens     float64 // prompt length
}

// context turns a request into the bandit's features: bias, task type one-hot, prompt length
// in thousands of tokens, tier one-hot (free is the baseline).
func (r request) context() []float64 {
	x := make([]float64, 7)
	x[0] = 1
	x[1+r.task] = 1
	x[4] = r.tokens / 1000
	if r.tier > 0 {
		x[4+r.tier] = 1
	}
	return x
}

// quality is the simulated judge's expected score of a model's answer, net of its price:
// large models write better code, small ones chat almost as well but lose track of long
// prompts, and the price weighs on the free tier far more than on enterprise.
func quality(r request, model int) float64 {
	base := [3][3]float64{ // task x model
		{0.72, 0.74, 0.76}, // chat: all fine
		{0.35, 0.60, 0.85}, // code: size matters
		{0.55, 0.70, 0.74}, // summary
	}[r.task][model]
	base -= 0.05 * float64(2-model) * r.tokens / 1000
	price := [3]float64{0.0, 0.1, 0.25}[model] * [3]float64{1.0, 0.4, 0.05}[r.tier]
	return base - price
}

func best(r request) int {
	b := 0
	for m := range models {
		if quality(r, m) > quality(r, b) {
			b = m
		}
	}
	return b
}

func main() {
	fmt.Printf("libgaia %s (ABI %d)\n", gaia.Version(), gaia.ABIVersion())
	seed := uint64(42)
	expired := 0.0
	b, err := gaia.NewBanditConfig(gaia.BanditConfig{
		Arms: models, Policy: "lints", Features: 7, V: 0.1, Seed: &seed,
		PendingTTL: 0.25, ExpiredReward: &expired, // no answer in 250 ms: a failed call
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	const workers, perWorker = 8, 400
	var mu sync.Mutex
	hits, late := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < perWorker; i++ {
				r := request{task: rng.Intn(3), tier: rng.Intn(3), tokens: 100 + 3900*rng.Float64()}
				ticket, model, err := b.Ask(r.context())
				if err != nil {
					log.Fatal(err)
				}
				m := map[string]int{"small": 0, "medium": 1, "large": 2}[model]
				if i >= perWorker*3/4 {
					mu.Lock()
					late++
					if m == best(r) {
						hits++
					}
					mu.Unlock()
				}
				if rng.Float64() < 0.01 {
					continue // the call hangs: never told, it expires
				}
				// The call takes a while; the judge's score arrives with it.
				go func(ticket uint64, score float64) {
					time.Sleep(time.Duration(rng.Intn(1000)) * time.Microsecond)
					if err := b.Tell(ticket, score); err != nil {
						log.Fatal(err)
					}
				}(ticket, math.Max(0, math.Min(1, quality(r, m)+0.1*rng.NormFloat64())))
				time.Sleep(200 * time.Microsecond)
			}
		}(w)
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // past the ttl: the hung calls expire

	s, err := b.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d requests from %d goroutines: %d rewards told, %d calls expired (counted as 0), %d pending\n",
		workers*perWorker, workers, s.TotalPulls-s.Expired, s.Expired, s.Pending)
	fmt.Printf("best model chosen in %.0f%% of the last quarter of requests\n", 100*float64(hits)/float64(late))
	fmt.Println("what it learned: expected score x . theta / the simulation's truth")
	for _, task := range []int{0, 1, 2} {
		for _, c := range []struct {
			tier   int
			tokens float64
		}{{0, 500}, {0, 3500}, {2, 500}} {
			r := request{task: task, tier: c.tier, tokens: c.tokens}
			x := r.context()
			fmt.Printf("  %-7s %-10s %4.0f tokens", tasks[task], tiers[c.tier], c.tokens)
			for m, a := range s.Arms {
				score := 0.0
				for k, v := range x {
					score += v * a.Theta[k]
				}
				mark := " "
				if m == best(r) {
					mark = "*"
				}
				fmt.Printf("  %s %.2f/%.2f%s", models[m], score, quality(r, m), mark)
			}
			fmt.Println()
		}
	}
	fmt.Println("  (* the best model for that request; a model it rarely needs to try stays less known)")

	if _, _, err := b.Ask([]float64{1, 0, 1}); errors.Is(err, gaia.ErrInvalidArgument) {
		fmt.Println("a context of the wrong length is refused:", err)
	}
}
