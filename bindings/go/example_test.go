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
