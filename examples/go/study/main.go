// Command study tunes an LLM call's temperature, top_p and max_tokens with a TPE study while
// four goroutines evaluate trials concurrently (the constant liar keeps them apart).
package main

import (
	"fmt"
	"log"
	"math"
	"sync"

	gaia "gaia.dev/gaia"
)

// quality stands in for calling the model and grading the answer.
func quality(p map[string]any) float64 {
	t, topP, tokens := p["temperature"].(float64), p["top_p"].(float64), p["max_tokens"].(float64)
	return 1 - (t-0.6)*(t-0.6) - 2*(topP-0.9)*(topP-0.9) - 0.05*math.Abs(math.Log(tokens/512))
}

func main() {
	s, err := gaia.NewStudy(`{"space": {"params": [
		{"name": "temperature", "type": "float", "low": 0.0, "high": 1.5},
		{"name": "top_p", "type": "float", "low": 0.5, "high": 1.0},
		{"name": "max_tokens", "type": "int", "low": 64, "high": 2048, "log": true}]},
		"direction": "maximize", "sampler": {"type": "tpe"}, "seed": 42}`)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id, p, err := s.Ask()
				if err != nil {
					log.Fatal(err)
				}
				if err := s.Tell(id, quality(p), gaia.TrialComplete); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	best, err := s.Best()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("best of 80 trials from 4 goroutines: quality %.4f with %v\n", *best.Value, best.Params)
}
