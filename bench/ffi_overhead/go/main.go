// Command bench prints ns per Choose+Update round trip through the Go binding:
// `go <ns>` (by name, as services call it) and `go-index <ns>`.
package main

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	gaia "gaia.dev/gaia"
)

func main() {
	n := 1_000_000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	b, err := gaia.NewBandit(`{"arms": ["a", "b", "c"], "seed": 1}`)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	round := func(k int) {
		arm, err := b.Choose()
		if err != nil {
			log.Fatal(err)
		}
		if err := b.Update(arm, float64(k&1)); err != nil {
			log.Fatal(err)
		}
	}
	for k := 0; k < n/10; k++ {
		round(k)
	}
	start := time.Now()
	for k := 0; k < n; k++ {
		round(k)
	}
	fmt.Printf("go %.0f\n", float64(time.Since(start).Nanoseconds())/float64(n))
	start = time.Now()
	for k := 0; k < n; k++ {
		i, _ := b.ChooseIndex()
		_ = b.UpdateIndex(i, float64(k&1))
	}
	fmt.Printf("go-index %.0f\n", float64(time.Since(start).Nanoseconds())/float64(n))

	// mcts Ask + Tell round trip (repeated sampling: the engine's own work stays constant).
	m := n / 10
	s, err := gaia.NewMCTS(`{"algorithm": "repeated_sampling", "actions": ["a", "b"], "seed": 1}`)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	start = time.Now()
	for k := 0; k < m; k++ {
		ts, err := s.Ask(1)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := s.Tell(ts[0].ID, float64(k&7)/8, nil); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("go-mcts %.0f\n", float64(time.Since(start).Nanoseconds())/float64(m))
}
