// Command bandit picks an LLM per request with a Thompson-sampling bandit while eight
// goroutines make (simulated) model calls concurrently, then prints what it learned.
package main

import (
	"errors"
	"fmt"
	"log"
	"math/rand"
	"sync"
	"time"

	gaia "gaia.dev/gaia"
)

// callModel stands in for an LLM call graded by a judge: slower models answer better here.
func callModel(rng *rand.Rand, model string) float64 {
	quality := map[string]float64{"small": 0.35, "medium": 0.6, "large": 0.75}[model]
	time.Sleep(time.Duration(rng.Intn(300)) * time.Microsecond)
	if rng.Float64() < quality {
		return 1
	}
	return 0
}

func main() {
	fmt.Printf("libgaia %s (ABI %d)\n", gaia.Version(), gaia.ABIVersion())
	b, err := gaia.NewBandit(`{"arms": ["small", "medium", "large"], "seed": 42}`)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < 60; i++ {
				model, err := b.Choose()
				if err != nil {
					log.Fatal(err)
				}
				if err := b.Update(model, callModel(rng, model)); err != nil {
					log.Fatal(err)
				}
			}
		}(w)
	}
	wg.Wait()

	if err := b.Update("huge", 1); errors.Is(err, gaia.ErrNotFound) {
		fmt.Println("unknown arm refused:", err)
	}
	s, err := b.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d rewards from 8 goroutines\n", s.TotalPulls)
	for _, a := range s.Arms {
		fmt.Printf("  %-6s chosen %3d times, posterior mean %.3f\n", a.Name, a.Chosen, a.Mean)
	}
}
