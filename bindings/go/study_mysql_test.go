package gaia

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStudySharedThroughMariaDB: goroutines with their own handles work on one study in the
// MariaDB of scripts/services.sh; numbers are unique and every tell lands.
func TestStudySharedThroughMariaDB(t *testing.T) {
	url := os.Getenv("GAIA_MARIADB_URL")
	if url == "" {
		t.Fatal("GAIA_MARIADB_URL not set: " + servicesHint)
	}
	name := fmt.Sprintf("go-%d-%d", os.Getpid(), time.Now().UnixNano())
	config := fmt.Sprintf(`{"name": %q, "storage": %q, "space": {"params": [
		{"name": "x", "type": "float", "low": -5, "high": 5}]}, "sampler": {"type": "tpe"}}`, name, url)
	const workers, per = 4, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	told := map[uint64]float64{}
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := NewStudy(config)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < per; i++ {
				id, p, err := s.Ask()
				if err != nil {
					errs <- err
					return
				}
				x := p["x"].(float64)
				v := (x - 1) * (x - 1)
				if err := s.Tell(id, v, TrialComplete); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if _, dup := told[id]; dup {
					errs <- fmt.Errorf("trial %d handed out twice", id)
				}
				told[id] = v
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A fresh handle opens the study by name alone and sees every value told.
	s, err := NewStudy(fmt.Sprintf(`{"name": %q, "storage": %q}`, name, url))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	trials, err := s.Trials()
	if err != nil || len(trials) != workers*per {
		t.Fatalf("%d trials, %v", len(trials), err)
	}
	for _, tr := range trials {
		if tr.State != "complete" || tr.Value == nil || *tr.Value != told[tr.ID] {
			t.Fatalf("trial %+v, told %v", tr, told[tr.ID])
		}
	}
	// The same tell again succeeds; a different one is ErrInvalidState.
	if err := s.Tell(0, told[0], TrialComplete); err != nil {
		t.Fatalf("repeated tell: %v", err)
	}
	if err := s.Tell(0, told[0]+1, TrialComplete); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("different tell: %v", err)
	}
	wrong := strings.Replace(url, ":gaia-pass@", ":not-the-password@", 1)
	_, err = NewStudy(fmt.Sprintf(`{"name": %q, "storage": %q}`, name, wrong))
	if !errors.Is(err, ErrIO) || strings.Contains(err.Error(), "not-the-password") || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("wrong password: %v", err)
	}
}
