// Command study is the recipe for tuning an LLM call's temperature, top_p and max_tokens for
// answer quality under a latency budget (a named constraint), with four goroutines
// evaluating trials concurrently (the constant liar keeps their proposals apart).
//
// The model call is simulated (callLLM) so the example runs offline; put your client in its
// place and report the grader's score (or user feedback) as the quality.
package main

import (
	"fmt"
	"log"
	"math"
	"math/rand"
	"sync"

	gaia "gaia.dev/gaia"
)

const latencyBudgetMs = 1200.0

// callLLM stands in for calling the model and grading the answer: quality peaks near
// temperature 0.6 and top_p 0.9 and grows with max_tokens; latency grows with max_tokens.
func callLLM(p map[string]any, rng *rand.Rand) (quality, latencyMs float64) {
	t, topP, tokens := p["temperature"].(float64), p["top_p"].(float64), p["max_tokens"].(float64)
	quality = 1 - (t-0.6)*(t-0.6) - 2*(topP-0.9)*(topP-0.9) - 0.15*math.Exp(-tokens/300) +
		(rng.Float64()-0.5)*0.02
	latencyMs = 150 + tokens*1.4*(1+t*0.1)
	return quality, latencyMs
}

func main() {
	s, err := gaia.NewStudy(`{"space": {"params": [
		{"name": "temperature", "type": "float", "low": 0.0, "high": 1.5},
		{"name": "top_p", "type": "float", "low": 0.5, "high": 1.0},
		{"name": "max_tokens", "type": "int", "low": 64, "high": 2048, "log": true}]},
		"direction": "maximize", "constraints": ["latency_over_budget_ms"],
		"sampler": {"type": "tpe"}, "seed": 42}`)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < 20; i++ {
				id, p, err := s.Ask()
				if err != nil {
					log.Fatal(err)
				}
				q, ms := callLLM(p, rng)
				over := map[string]float64{"latency_over_budget_ms": ms - latencyBudgetMs}
				if err := s.TellConstraints(id, q, gaia.TrialComplete, over); err != nil {
					log.Fatal(err)
				}
			}
		}(w)
	}
	wg.Wait()
	best, err := s.Best()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("best feasible of 80 trials from 4 goroutines: quality %.4f at %.0f ms with %v\n",
		*best.Value, best.Constraints["latency_over_budget_ms"]+latencyBudgetMs, best.Params)
	imp, err := s.Importance()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("what mattered:")
	for _, p := range imp {
		fmt.Printf(" %s %.0f%%", p.Param, 100*p.Importance)
	}
	fmt.Println()
}
