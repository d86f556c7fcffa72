// Command mcts runs an AB-MCTS search in which goroutines make (simulated) LLM calls
// concurrently: a dispatcher asks the search for expansions, four workers "call the model"
// (a first answer from the root, or a refinement of an answer), grade the new answer and
// tell the search. Two models are available; the search learns which one to use and
// whether to ask for a new answer or refine a promising one.
package main

import (
	"fmt"
	"log"
	"math"
	"math/rand"
	"sync"
	"time"

	gaia "gaia.dev/gaia"
)

// answer is what the simulated model returns: hidden quality cap and the graded score.
type answer struct{ cap, score float64 }

// callModel simulates an LLM call: "large" answers are better on average but refine more
// slowly; a refinement moves the score towards the answer's cap.
func callModel(model string, parent *answer, rng *rand.Rand) answer {
	time.Sleep(time.Duration(1+rng.Intn(3)) * time.Millisecond)
	k, r := 3.0, 0.15
	if model == "large" {
		k, r = 2.0, 0.3
	}
	if parent == nil {
		c := math.Pow(rng.Float64(), k)
		return answer{c, c * (0.3 + 0.5*rng.Float64())}
	}
	s := parent.score + r*(parent.cap-parent.score) + 0.05*rng.NormFloat64()
	return answer{parent.cap, math.Max(0, math.Min(parent.cap, s))}
}

func main() {
	search, err := gaia.NewMCTS(`{"actions": ["small", "large"], "seed": 7}`)
	if err != nil {
		log.Fatal(err)
	}
	defer search.Close()

	var mu sync.Mutex
	answers := map[uint32]answer{} // node id -> the answer behind it
	jobs := make(chan gaia.MCTSTrial)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for t := range jobs {
				mu.Lock()
				parent, ok := answers[t.Node]
				mu.Unlock()
				var p *answer
				if ok {
					p = &parent
				}
				a := callModel(t.Action, p, rng)
				node, err := search.Tell(t.ID, a.score, []byte(fmt.Sprintf("%s answer (worker %d)", t.Action, w)))
				if err != nil {
					log.Fatal(err)
				}
				mu.Lock()
				answers[node] = a
				mu.Unlock()
			}
		}(w)
	}
	for sent := 0; sent < 200; {
		trials, err := search.Ask(4)
		if err != nil {
			log.Fatal(err)
		}
		for _, t := range trials {
			jobs <- t
			sent++
		}
	}
	close(jobs)
	wg.Wait()

	top, err := search.TopK(1)
	if err != nil {
		log.Fatal(err)
	}
	text, _ := search.Payload(top[0].ID)
	n, _ := search.NodeCount()
	root, _ := search.Node(0)
	fmt.Printf("%d answers (root width %d); best score %.3f at depth %d: %q\n",
		n-1, root.Children, *top[0].Score, top[0].Depth, text)
}
