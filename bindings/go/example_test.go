package gaia_test

import (
	"errors"
	"fmt"

	gaia "gaia.dev/gaia"
)

// Choose among models, learn from the outcome, and keep the state between requests.
func ExampleBandit() {
	b, err := gaia.NewBandit(`{"arms": ["small", "large"], "seed": 42}`)
	if err != nil {
		panic(err)
	}
	defer b.Close()

	for i := 0; i < 200; i++ {
		model, _ := b.Choose()
		reward := 0.0
		if model == "large" {
			reward = 1 // pretend the large model always answers well
		}
		_ = b.Update(model, reward)
	}
	saved, _ := b.Save()
	restored, _ := gaia.LoadBandit(saved)
	defer restored.Close()
	s, _ := restored.Stats()
	fmt.Println(s.TotalPulls, s.Arms[1].Name, s.Arms[1].Chosen > 150)
	// Output: 200 large true
}

// Errors carry the library's status code and match sentinels with errors.Is.
func ExampleError() {
	b, _ := gaia.NewBandit(`{"arms": ["a", "b"]}`)
	defer b.Close()
	err := b.Update("zzz", 1)
	fmt.Println(errors.Is(err, gaia.ErrNotFound))
	fmt.Println(err)
	// Output:
	// true
	// gaia: unknown arm "zzz" (arms: a, b)
}

// Pick a model per request from its context, and learn from rewards that arrive later: the
// ticket from Ask is told when the (slow) call has been graded, from any goroutine.
func ExampleBandit_Ask() {
	b, err := gaia.NewBandit(`{"arms": ["small", "large"], "policy": "lints", "features": 2,
		"v": 0.3, "seed": 7, "pending_ttl_s": 600}`)
	if err != nil {
		panic(err)
	}
	defer b.Close()

	for i := 0; i < 300; i++ {
		code := float64(i % 2) // context: bias, "is a coding task"
		ticket, model, _ := b.Ask([]float64{1, code})
		// The large model is worth its price on coding tasks only.
		reward := map[string]float64{"small": 0.7 - 0.5*code, "large": 0.5 + 0.3*code}[model]
		_ = b.Tell(ticket, reward)
	}
	_, chat, _ := b.Ask([]float64{1, 0})
	_, coding, _ := b.Ask([]float64{1, 1})
	s, _ := b.Stats()
	fmt.Println(chat, coding, s.Pending)
	err = b.Tell(999, 1)
	fmt.Println(errors.Is(err, gaia.ErrNotFound), err)
	// Output:
	// small large 2
	// true gaia: unknown ticket 999: the asks so far returned tickets 1 to 302
}
