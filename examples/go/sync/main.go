// Command sync keeps a Solr core equal to a MariaDB table with libgaia's sync engine: it
// creates a small products table, rebuilds the core from it while a goroutine prints the
// run's progress every 200 ms, changes a few rows (an update, an insert, a soft delete),
// applies them with an incremental pass, and checks that Solr holds exactly the live rows.
// Ctrl-C cancels a run cleanly through its context (the next run resumes).
//
// It needs the MariaDB and Solr of scripts/services.sh. From the repository root:
//
//	bash scripts/services.sh start all
//	eval "$(bash scripts/services.sh env)"
//	cd examples/go && go run ./sync
//
// The table and the core (go_sync_demo) are dropped at the end; -keep leaves them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"time"

	gaia "gaia.dev/gaia"
)

const (
	name = "go_sync_demo" // the table and the core
	rows = 10000
)

// sql runs statements through the mariadb client (UTC session, as the mapping assumes).
func sql(cnf, q string) (string, error) {
	out, err := exec.Command("mariadb", "--defaults-file="+cnf, "-N", "-B", "-e", "SET time_zone = '+00:00'; "+q).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mariadb: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func solrCount(solrURL string) (int, error) {
	resp, err := http.Get(solrURL + "/" + name + "/select?q=*:*&rows=0&wt=json")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var j struct {
		Response struct {
			NumFound int `json:"numFound"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return 0, fmt.Errorf("%s: %v", resp.Status, err)
	}
	return j.Response.NumFound, nil
}

func show(p gaia.SyncProgress) string {
	s := fmt.Sprintf("%-11s %6d rows read, %6d docs written, %5d deleted, %8.0f rows/s",
		p.Phase, p.RowsRead, p.DocsWritten, p.DocsDeleted, p.RowsPerSecond)
	if p.RowsTotal != nil {
		s += fmt.Sprintf(" (of %d)", *p.RowsTotal)
	}
	if p.ETASeconds != nil {
		s += fmt.Sprintf(", eta %.1f s", *p.ETASeconds)
	}
	return s
}

// runWithProgress runs one sync and prints its progress every 200 ms from a goroutine
// (Progress is safe to call while Run blocks).
func runWithProgress(ctx context.Context, s *gaia.Sync, mode gaia.SyncMode) (*gaia.SyncReport, error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if p, err := s.Progress(); err == nil {
					fmt.Println("  " + show(p))
				}
			}
		}
	}()
	r, err := s.Run(ctx, mode)
	close(done)
	wg.Wait()
	if p, perr := s.Progress(); perr == nil {
		fmt.Println("  " + show(p))
	}
	return r, err
}

func printReport(r *gaia.SyncReport) {
	fmt.Printf("  report: mode %s, %d rows read, %d docs written, %d deleted, %d dead-lettered, %d chunks, swapped %v, %.2f s (%.0f rows/s)\n",
		r.Mode, r.RowsRead, r.DocsWritten, r.DocsDeleted, r.DeadLettered, r.Chunks, r.Swapped, r.ElapsedSeconds, r.RowsPerSecond)
	if r.UpToUs != nil {
		fmt.Printf("  changes up to %s are in the index\n", time.UnixMicro(*r.UpToUs).UTC().Format(time.RFC3339Nano))
	}
}

func main() {
	log.SetFlags(0)
	keep := flag.Bool("keep", false, "keep the table and the core")
	flag.Parse()
	if err := run(*keep); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(keep bool) error {
	dbURL, solrURL, cnf := os.Getenv("GAIA_MARIADB_URL"), os.Getenv("GAIA_SOLR_URL"), os.Getenv("GAIA_MARIADB_CLIENT_CNF")
	if dbURL == "" || solrURL == "" || cnf == "" {
		return fmt.Errorf("GAIA_MARIADB_URL, GAIA_SOLR_URL and GAIA_MARIADB_CLIENT_CNF are not set; from the repository root run\n" +
			"  bash scripts/services.sh start all && eval \"$(bash scripts/services.sh env)\"")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	stateDir, err := os.MkdirTemp("", "gaia-sync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	if !keep {
		defer func() {
			_, _ = sql(cnf, "DROP TABLE IF EXISTS "+name)
			if resp, err := http.Get(solrURL + "/admin/cores?action=UNLOAD&core=" + name + "&deleteInstanceDir=true&wt=json"); err == nil {
				resp.Body.Close()
			}
		}()
	}
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + name,
		"CREATE TABLE " + name + " (id BIGINT PRIMARY KEY, title VARCHAR(200), price DECIMAL(12,2), " +
			"deleted TINYINT NOT NULL DEFAULT 0, " +
			"updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), " +
			"KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4",
		fmt.Sprintf("INSERT INTO %s (id, title, price) SELECT seq, CONCAT('product ', seq), seq / 100 FROM seq_1_to_%d", name, rows),
		"UPDATE " + name + " SET title = '東京 tea set 🍵', price = 12.30 WHERE id = 1",
	} {
		if _, err := sql(cnf, q); err != nil {
			return err
		}
	}
	fmt.Printf("table %s: %d rows\n", name, rows)
	// The rebuild covers changes older than lag_ms; rows written within it are read again
	// by the next incremental pass. Waiting out the lag keeps that pass down to the changes.
	time.Sleep(300 * time.Millisecond)

	s, err := gaia.NewSyncFromValue(map[string]any{
		"mariadb_url": dbURL,
		"solr_url":    solrURL,
		"core":        name,
		"state_dir":   stateDir,
		"mapping": map[string]any{
			"table": name, "primary_key": "id", "version_column": "updated_at",
			"fields": []any{
				map[string]any{"column": "title", "field": "title_t"},
				map[string]any{"column": "price", "field": "price_s", "type": "decimal", "double_field": "price_d"},
			},
			"soft_delete": map[string]any{"column": "deleted", "deleted_values": []any{1}},
		},
		// Small chunks and one writer, so that the progress has something to show.
		"tuning": map[string]any{"chunk_rows": 500, "batch_docs": 100, "writers": 1, "lag_ms": 200},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		return fmt.Errorf("check: %w", err)
	}

	fmt.Println("\nfull rebuild:")
	r, err := runWithProgress(ctx, s, gaia.ModeFull)
	if err != nil {
		return fmt.Errorf("full rebuild: %w", err)
	}
	printReport(r)

	for _, q := range []string{
		"UPDATE " + name + " SET title = 'renamed ✓', price = 42.42 WHERE id IN (2, 3)",
		"INSERT INTO " + name + " (id, title, price) VALUES (100001, 'new product 新', 9.99)",
		"UPDATE " + name + " SET deleted = 1 WHERE id = 4",
	} {
		if _, err := sql(cnf, q); err != nil {
			return err
		}
	}
	fmt.Println("\nchanged 2 rows, inserted 1, soft-deleted 1; incremental pass:")
	// A pass sees changes older than lag_ms (200 ms here), and stops below the oldest
	// transaction open on the server: repeat until it covers the changes just made.
	text, err := sql(cnf, "SELECT UTC_TIMESTAMP(6)")
	if err != nil {
		return err
	}
	now, err := time.Parse("2006-01-02 15:04:05.999999", text)
	if err != nil {
		return err
	}
	for pass := 1; ; pass++ {
		time.Sleep(300 * time.Millisecond)
		r, err = runWithProgress(ctx, s, gaia.ModeIncremental)
		if err != nil {
			return fmt.Errorf("incremental pass: %w", err)
		}
		printReport(r)
		if r.UpToUs != nil && *r.UpToUs >= now.UnixMicro() {
			break
		}
		if pass == 50 {
			return fmt.Errorf("the incremental passes do not reach the changes (a long transaction open on the server?)")
		}
	}

	live, err := solrCount(solrURL)
	if err != nil {
		return err
	}
	want, err := sql(cnf, "SELECT COUNT(*) FROM "+name+" WHERE deleted = 0")
	if err != nil {
		return err
	}
	if fmt.Sprint(live) != want {
		return fmt.Errorf("Solr holds %d documents, the table %s live rows", live, want)
	}
	m, err := s.Metrics()
	if err != nil {
		return err
	}
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "gaia_sync_runs_ok_total") || strings.HasPrefix(line, "gaia_sync_docs_written") {
			fmt.Println("  metric " + line)
		}
	}
	fmt.Printf("\nSolr core %s holds %d documents, one per live row\n", name, live)
	return nil
}
