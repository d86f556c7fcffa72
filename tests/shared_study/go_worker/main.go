// Command go_worker is the Go worker of the shared-study stress test
// (tests/shared_study/run.sh), over the cgo binding gaia.dev/gaia:
//
//	go_worker run  CONFIG TRIALS OUTFILE  TRIALS x (ask -> objective -> tell complete),
//	                                      appending "id value" per told trial to OUTFILE
//	go_worker hang CONFIG                 asks one trial, prints its id, sleeps forever
//	                                      (the kill test: run.sh sends it SIGKILL)
//
// CONFIG is the study config as JSON (starting with '{') or the path of a file holding it.
// On any error: the message on stderr and exit status 1.
//
// The objective, identical in the C, Go and PHP workers and in run.sh's SQL check:
//
//	f = (x - 1.25)^2 + 0.5 * (y - 7)^2 + 0.25 * index(c in ["a", "b", "c"])
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	gaia "gaia.dev/gaia"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go worker %d: %s\n", os.Getpid(), fmt.Sprintf(format, args...))
	os.Exit(1)
}

func readConfig(arg string) string {
	if strings.HasPrefix(arg, "{") {
		return arg
	}
	text, err := os.ReadFile(arg)
	if err != nil {
		fail("cannot read config: %v", err)
	}
	return string(text)
}

// objective computes f from the parameters; the explicit float64 conversions keep the
// compiler from fusing a multiply and an add (which would change the last bit on some CPUs).
func objective(p map[string]any) (float64, error) {
	x, ok := p["x"].(float64)
	if !ok {
		return 0, fmt.Errorf("parameter x is missing or not a number in %v", p)
	}
	y, ok := p["y"].(float64)
	if !ok || y != float64(int64(y)) {
		return 0, fmt.Errorf("parameter y is missing or not an integer in %v", p)
	}
	c, ok := p["c"].(string)
	if !ok {
		return 0, fmt.Errorf("parameter c is missing or not a string in %v", p)
	}
	index := map[string]float64{"a": 0, "b": 1, "c": 2}
	ci, ok := index[c]
	if !ok {
		return 0, fmt.Errorf("parameter c has an unknown choice %q", c)
	}
	dx, dy := x-1.25, y-7
	a := float64(dx * dx)
	b := float64(float64(0.5*dy) * dy)
	return float64(a+b) + float64(0.25*ci), nil
}

func main() {
	args := os.Args[1:]
	if len(args) < 2 || !(args[0] == "run" && len(args) == 4 || args[0] == "hang" && len(args) == 2) {
		fmt.Fprintf(os.Stderr, "usage: %s run CONFIG TRIALS OUTFILE | hang CONFIG\n", os.Args[0])
		os.Exit(2)
	}
	study, err := gaia.NewStudy(readConfig(args[1]))
	if err != nil {
		fail("NewStudy: %v", err)
	}

	if args[0] == "hang" {
		id, _, err := study.Ask()
		if err != nil {
			fail("Ask: %v", err)
		}
		fmt.Println(id) // os.Stdout is unbuffered
		for {
			time.Sleep(time.Hour) // heartbeats go on in libgaia's thread until the SIGKILL
		}
	}

	trials, err := strconv.Atoi(args[2])
	if err != nil || trials <= 0 {
		fail("TRIALS must be a positive integer, not %q", args[2])
	}
	out, err := os.OpenFile(args[3], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fail("%v", err)
	}
	start := time.Now()
	for i := 0; i < trials; i++ {
		id, params, err := study.Ask()
		if err != nil {
			fail("Ask: %v", err)
		}
		value, err := objective(params)
		if err != nil {
			fail("trial %d: %v", id, err)
		}
		if err := study.Tell(id, value, gaia.TrialComplete); err != nil {
			fail("Tell(%d): %v", id, err)
		}
		// One unbuffered write per told trial: a later crash cannot lose this line.
		line := strconv.FormatUint(id, 10) + " " + strconv.FormatFloat(value, 'g', 17, 64) + "\n"
		if _, err := out.WriteString(line); err != nil {
			fail("%v", err)
		}
	}
	elapsed := time.Since(start).Seconds()
	if err := out.Close(); err != nil {
		fail("%v", err)
	}
	if err := study.Close(); err != nil {
		fail("Close: %v", err)
	}
	fmt.Printf("go worker %d: %d trials in %.2f s (%.1f trials/s)\n", os.Getpid(), trials, elapsed,
		float64(trials)/elapsed)
}
