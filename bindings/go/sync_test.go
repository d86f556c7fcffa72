package gaia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The sync tests run against the real MariaDB and Solr 9 of scripts/services.sh; they are
// not optional. Each test works on its own table and core (go_<pid>_<n>), dropped and
// unloaded at the end.

const servicesHint = "the sync tests need the real MariaDB and Solr; from the repository root run\n" +
	"  bash scripts/install-services.sh   # once: MariaDB and the Solr launcher\n" +
	"  bash scripts/services.sh start all\n" +
	"  eval \"$(bash scripts/services.sh env)\"\n" +
	"or simply `make test-go`, which does all of it"

type syncEnv struct {
	dbURL, solrURL, cnf string
}

var (
	syncEnvOnce sync.Once
	syncEnvVal  syncEnv
	syncEnvErr  string
)

// needServices returns the servers' settings, or fails the test saying how to start them.
func needServices(t *testing.T) syncEnv {
	t.Helper()
	syncEnvOnce.Do(func() {
		e := syncEnv{os.Getenv("GAIA_MARIADB_URL"), os.Getenv("GAIA_SOLR_URL"), os.Getenv("GAIA_MARIADB_CLIENT_CNF")}
		var missing []string
		for name, v := range map[string]string{"GAIA_MARIADB_URL": e.dbURL, "GAIA_SOLR_URL": e.solrURL, "GAIA_MARIADB_CLIENT_CNF": e.cnf} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			syncEnvErr = strings.Join(missing, ", ") + " not set: " + servicesHint
			return
		}
		if out, err := exec.Command("mariadb", "--defaults-file="+e.cnf, "-N", "-B", "-e", "SELECT 1").CombinedOutput(); err != nil {
			syncEnvErr = fmt.Sprintf("MariaDB (%s) does not answer: %v %s\n%s", e.dbURL, err, out, servicesHint)
			return
		}
		if _, err := solrJSON(e.solrURL + "/admin/cores?action=STATUS&indexInfo=false&wt=json"); err != nil {
			syncEnvErr = fmt.Sprintf("Solr (%s) does not answer: %v\n%s", e.solrURL, err, servicesHint)
			return
		}
		syncEnvVal = e
	})
	if syncEnvErr != "" {
		t.Fatal(syncEnvErr)
	}
	return syncEnvVal
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func solrJSON(u string) (map[string]any, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET %s: %s: %v", u, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET %s: %s: %v", u, resp.Status, out["error"])
	}
	return out, nil
}

var syncSeq atomic.Int32

// syncFx is one test's table (<name>_items), core (<name>) and state folder.
type syncFx struct {
	t                    *testing.T
	env                  syncEnv
	name, table, core    string
	stateDir             string
	cleanupCoresAndTable sync.Once
}

func newSyncFx(t *testing.T) *syncFx {
	t.Helper()
	env := needServices(t)
	name := fmt.Sprintf("go_%d_%d", os.Getpid(), syncSeq.Add(1))
	fx := &syncFx{t: t, env: env, name: name, table: name + "_items", core: name, stateDir: t.TempDir()}
	t.Cleanup(fx.cleanup)
	fx.sql(fmt.Sprintf("CREATE TABLE `%s` (id BIGINT PRIMARY KEY, title VARCHAR(200), price DECIMAL(12,2), "+
		"deleted TINYINT NOT NULL DEFAULT 0, "+
		"updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), "+
		"KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4", fx.table))
	return fx
}

// cleanup drops the table and unloads the core and any build core left behind.
func (fx *syncFx) cleanup() {
	if _, err := fx.sqlErr(fmt.Sprintf("DROP TABLE IF EXISTS `%s`", fx.table)); err != nil {
		fx.t.Errorf("cleanup: %v", err)
	}
	for _, c := range fx.cores() {
		if _, err := solrJSON(fmt.Sprintf("%s/admin/cores?action=UNLOAD&core=%s&deleteInstanceDir=true&wt=json",
			fx.env.solrURL, url.QueryEscape(c))); err != nil {
			fx.t.Errorf("cleanup: unload %s: %v", c, err)
		}
	}
}

// cores lists the Solr cores of this test: its core and build cores (<core>_build_...).
func (fx *syncFx) cores() []string {
	st, err := solrJSON(fx.env.solrURL + "/admin/cores?action=STATUS&indexInfo=false&wt=json")
	if err != nil {
		fx.t.Errorf("core status: %v", err)
		return nil
	}
	var out []string
	for c := range st["status"].(map[string]any) {
		if c == fx.core || strings.HasPrefix(c, fx.core+"_") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func (fx *syncFx) sqlErr(q string) (string, error) {
	// UTC, as the mapping's source_time_zone (the default) says the DATETIMEs are.
	cmd := exec.Command("mariadb", "--defaults-file="+fx.env.cnf, "-N", "-B", "-e", "SET time_zone = '+00:00'; "+q)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mariadb: %s: %v: %s", q, err, out)
	}
	return string(out), nil
}

func (fx *syncFx) sql(q string) string {
	fx.t.Helper()
	out, err := fx.sqlErr(q)
	if err != nil {
		fx.t.Fatal(err)
	}
	return out
}

// fill inserts rows 1..n: "item <id>", price id/100.
func (fx *syncFx) fill(n int) {
	fx.t.Helper()
	fx.sql(fmt.Sprintf("INSERT INTO `%s` (id, title, price) SELECT seq, CONCAT('item ', seq), seq / 100 FROM seq_1_to_%d", fx.table, n))
}

// config is the test's configuration; tuning entries override the defaults here.
func (fx *syncFx) config(tuning map[string]any) map[string]any {
	tu := map[string]any{"chunk_rows": 500, "batch_docs": 200, "lag_ms": 200}
	for k, v := range tuning {
		tu[k] = v
	}
	return map[string]any{
		"mariadb_url": fx.env.dbURL,
		"solr_url":    fx.env.solrURL,
		"core":        fx.core,
		"state_dir":   fx.stateDir,
		"mapping": map[string]any{
			"table": fx.table, "primary_key": "id", "version_column": "updated_at",
			"fields": []any{
				map[string]any{"column": "title", "field": "title_t"},
				map[string]any{"column": "price", "field": "price_s", "type": "decimal", "double_field": "price_d"},
			},
			"soft_delete": map[string]any{"column": "deleted", "deleted_values": []any{1}},
		},
		"tuning": tu,
	}
}

func (fx *syncFx) open(cfg map[string]any) *Sync {
	fx.t.Helper()
	s, err := NewSyncFromValue(cfg)
	if err != nil {
		fx.t.Fatalf("NewSyncFromValue: %v", err)
	}
	fx.t.Cleanup(func() { _ = s.Close() })
	return s
}

// run is Run under a generous deadline, so a hung server fails the test instead of the suite.
func run(t *testing.T, s *Sync, mode SyncMode) *SyncReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := s.Run(ctx, mode)
	if err != nil {
		t.Fatalf("Run(%v): %v", mode, err)
	}
	return r
}

func (fx *syncFx) numFound(core string) int {
	fx.t.Helper()
	j, err := solrJSON(fmt.Sprintf("%s/%s/select?q=*:*&rows=0&wt=json", fx.env.solrURL, core))
	if err != nil {
		fx.t.Fatal(err)
	}
	return int(j["response"].(map[string]any)["numFound"].(float64))
}

type solrDoc struct {
	ID      string   `json:"id"`
	Title   *string  `json:"title_t"`
	PriceS  *string  `json:"price_s"`
	PriceD  *float64 `json:"price_d"`
	Version int64    `json:"gaia_version_l"`
}

// docs reads every document of the live core.
func (fx *syncFx) docs() map[string]solrDoc {
	fx.t.Helper()
	u := fmt.Sprintf("%s/%s/select?q=*:*&rows=1000000&fl=id,title_t,price_s,price_d,gaia_version_l&wt=json", fx.env.solrURL, fx.core)
	resp, err := httpClient.Get(u)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	var j struct {
		Response struct {
			NumFound int       `json:"numFound"`
			Docs     []solrDoc `json:"docs"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil || resp.StatusCode != http.StatusOK {
		fx.t.Fatalf("GET %s: %s %v", u, resp.Status, err)
	}
	out := make(map[string]solrDoc, len(j.Response.Docs))
	for _, d := range j.Response.Docs {
		out[d.ID] = d
	}
	if len(out) != j.Response.NumFound {
		fx.t.Fatalf("read %d documents, numFound %d", len(out), j.Response.NumFound)
	}
	return out
}

type rowView struct{ title, price string } // price "" for NULL

// assertIndexEqualsTable: the live core holds exactly the rows not soft-deleted, with
// their title and exact price, and the documents' versions.
func (fx *syncFx) assertIndexEqualsTable() map[string]solrDoc {
	fx.t.Helper()
	want := map[string]rowView{}
	out := fx.sql(fmt.Sprintf("SELECT id, title, CAST(price AS CHAR) FROM `%s` WHERE deleted = 0 ORDER BY id", fx.table))
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if f[2] == "NULL" {
			f[2] = ""
		}
		want[f[0]] = rowView{f[1], f[2]}
	}
	docs := fx.docs()
	got := make(map[string]rowView, len(docs))
	for id, d := range docs {
		var v rowView
		if d.Title != nil {
			v.title = *d.Title
		}
		if d.PriceS != nil {
			v.price = *d.PriceS
			if p, _ := strconv.ParseFloat(v.price, 64); d.PriceD == nil || *d.PriceD != p {
				fx.t.Errorf("doc %s: price_d %v for price_s %s", id, d.PriceD, v.price)
			}
		}
		if d.Version < 1_600_000_000_000_000 {
			fx.t.Errorf("doc %s: gaia_version_l %d is not a version", id, d.Version)
		}
		got[id] = v
	}
	if !reflect.DeepEqual(want, got) {
		var diff []string
		for id, w := range want {
			if g, ok := got[id]; !ok {
				diff = append(diff, "missing "+id)
			} else if g != w {
				diff = append(diff, fmt.Sprintf("%s: index %+v, table %+v", id, g, w))
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				diff = append(diff, "extra "+id)
			}
		}
		sort.Strings(diff)
		fx.t.Fatalf("index != table (%d vs %d rows): %s", len(got), len(want), strings.Join(diff[:min(len(diff), 10)], "; "))
	}
	return docs
}

// serverMicros is MariaDB's clock, in UTC microseconds since the epoch.
func (fx *syncFx) serverMicros() int64 {
	fx.t.Helper()
	out := strings.TrimSpace(fx.sql("SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)"))
	v, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		fx.t.Fatal(err)
	}
	return v
}

// incremental runs incremental passes until one covers every write made so far, adding up
// their counters: a pass sees only changes older than lag_ms and stops below the oldest
// transaction open on the server (other test suites open short ones), so one pass may
// legitimately stop early.
func (fx *syncFx) incremental(s *Sync) SyncReport {
	fx.t.Helper()
	now := fx.serverMicros()
	var total SyncReport
	for i := 0; i < 100; i++ {
		time.Sleep(300 * time.Millisecond)
		r := run(fx.t, s, ModeIncremental)
		if r.Mode != ModeIncremental || r.Swapped || r.UpToUs == nil {
			fx.t.Fatalf("incremental report %+v", r)
		}
		rows, written, deleted := total.RowsRead+r.RowsRead, total.DocsWritten+r.DocsWritten, total.DocsDeleted+r.DocsDeleted
		total = *r
		total.RowsRead, total.DocsWritten, total.DocsDeleted = rows, written, deleted
		if *r.UpToUs >= now {
			return total
		}
	}
	fx.t.Fatalf("100 incremental passes did not reach the server time %d (an open transaction?)", now)
	return total
}

// waitRows polls Progress until the run has read rows (or ended), then calls then.
func waitRows(s *Sync, runDone <-chan struct{}, then func()) {
	for {
		select {
		case <-runDone:
			return
		default:
		}
		if p, err := s.Progress(); err == nil && p.Phase.Running() && p.RowsRead > 0 {
			then()
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func gaiaCode(err error) Status {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// (a) A full rebuild: the report's counts, Solr's count, exact values (emoji, CJK, DECIMAL).
func TestSyncFullRun(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(1200)
	const title = "東京 👩‍💻 Ünïcödé 🚀 中文検索"
	fx.sql(fmt.Sprintf("INSERT INTO `%s` (id, title, price, deleted) VALUES (5000, '%s', 12.30, 0), (5001, 'gone', 1, 1), (5002, 'no price', NULL, 0)",
		fx.table, title))
	s := fx.open(fx.config(nil))
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r := run(t, s, ModeFull)
	if r.Mode != ModeFull || r.Core != fx.core || !r.Swapped || r.BuildCore == nil || !strings.HasPrefix(*r.BuildCore, fx.core+"_") {
		t.Fatalf("report %+v", r)
	}
	// 1203 rows read, the soft-deleted one not written.
	if r.RowsRead != 1203 || r.DocsWritten != 1202 || r.VerifiedCount == nil || *r.VerifiedCount != 1202 ||
		r.DocsDeleted != 0 || r.DeadLettered != 0 || r.Chunks < 3 || r.ResumedFromChunk != nil || r.UpToUs == nil {
		t.Fatalf("report %+v", r)
	}
	if r.ElapsedSeconds <= 0 || r.RowsPerSecond <= 0 || filepath.Dir(r.CheckpointFile) != fx.stateDir || filepath.Dir(r.DeadLetterFile) != fx.stateDir {
		t.Fatalf("report %+v", r)
	}
	if n := fx.numFound(fx.core); n != 1202 {
		t.Fatalf("numFound %d, want 1202", n)
	}
	docs := fx.assertIndexEqualsTable()
	d := docs["5000"]
	if d.Title == nil || *d.Title != title || d.PriceS == nil || *d.PriceS != "12.30" || d.PriceD == nil || *d.PriceD != 12.3 {
		t.Fatalf("doc 5000: %+v", d)
	}
	if d := docs["5002"]; d.PriceS != nil || d.PriceD != nil || *d.Title != "no price" {
		t.Fatalf("doc 5002: %+v", d)
	}
	if _, ok := docs["5001"]; ok {
		t.Fatal("a soft-deleted row is indexed")
	}
	// Full-text search finds the CJK row; no build core is left behind.
	j, err := solrJSON(fmt.Sprintf("%s/%s/select?q=%s&wt=json", fx.env.solrURL, fx.core, url.QueryEscape("title_t:東京")))
	if err != nil || j["response"].(map[string]any)["numFound"].(float64) != 1 {
		t.Fatalf("search: %v %v", j["response"], err)
	}
	if c := fx.cores(); !reflect.DeepEqual(c, []string{fx.core}) {
		t.Fatalf("cores %v", c)
	}
	p, err := s.Progress()
	if err != nil || p.Phase != SyncPhaseDone || p.RowsRead != 1203 || p.DocsWritten != 1202 {
		t.Fatalf("progress %+v %v", p, err)
	}
}

// Three handles (as three hosts: three state folders) share one rebuild through chunk leases.
func TestSyncSharedRebuild(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(3000)
	t.Cleanup(func() {
		// The tables exist once a shared run started; a failed one may not have got that far.
		_, _ = fx.sqlErr(fmt.Sprintf("DELETE FROM gaia_sync_chunk WHERE core = '%s'; DELETE FROM gaia_sync_rebuild WHERE core = '%s'", fx.core, fx.core))
	})
	reports := make([]*SyncReport, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range reports {
		cfg := fx.config(map[string]any{"chunk_rows": 200, "batch_docs": 100, "writers": 1, "shared_rebuild": true, "lease_ms": 2000})
		cfg["state_dir"] = filepath.Join(fx.stateDir, fmt.Sprintf("worker%d", i))
		s := fx.open(cfg)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			reports[i], errs[i] = s.Run(ctx, ModeFull)
		}(i)
	}
	wg.Wait()
	finished, here := 0, uint64(0)
	for i, r := range reports {
		if errs[i] != nil || r.Shared == nil {
			t.Fatalf("worker %d: %v %+v", i, errs[i], r)
		}
		sh := r.Shared
		if sh.Generation != reports[0].Shared.Generation || sh.ChunksTotal != 16 || sh.Worker == "" {
			t.Fatalf("worker %d: %+v", i, sh)
		}
		if sh.FinishedHere {
			finished++
			if !r.Swapped || r.VerifiedCount == nil || *r.VerifiedCount != 3000 {
				t.Fatalf("finisher's report %+v", r)
			}
		}
		here += sh.ChunksHere
	}
	if finished != 1 || here != 16 {
		t.Fatalf("finishers %d, chunks done %d of 16", finished, here)
	}
	fx.assertIndexEqualsTable()
	if c := fx.cores(); !reflect.DeepEqual(c, []string{fx.core}) {
		t.Fatalf("cores %v", c)
	}
}

// (b) Updates, inserts and a soft delete reach the index through incremental passes.
func TestSyncIncremental(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(300)
	time.Sleep(300 * time.Millisecond) // past the lag: the rebuild covers every row
	s := fx.open(fx.config(nil))
	if _, err := s.Run(context.Background(), ModeIncremental); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("incremental before any full run: %v", err)
	}
	if r := run(t, s, ModeAuto); r.Mode != ModeFull || r.DocsWritten != 300 {
		t.Fatalf("auto without checkpoint: %+v", r)
	}
	before := fx.assertIndexEqualsTable()

	fx.sql(fmt.Sprintf("UPDATE `%s` SET title = 'renamed ✓ 改名', price = 42.42 WHERE id IN (5, 6, 7)", fx.table))
	fx.sql(fmt.Sprintf("INSERT INTO `%s` (id, title, price) VALUES (1001, 'new 新 🆕', 9.99), (1002, 'new two', 0.01)", fx.table))
	fx.sql(fmt.Sprintf("UPDATE `%s` SET deleted = 1 WHERE id = 8", fx.table))
	r := fx.incremental(s)
	// Exactly the changed rows: 3 updates and 2 inserts written, 1 soft delete deleted.
	if r.RowsRead != 6 || r.DocsWritten != 5 || r.DocsDeleted != 1 || r.DeadLettered != 0 {
		t.Fatalf("incremental: %+v", r)
	}
	after := fx.assertIndexEqualsTable()
	if len(after) != 301 {
		t.Fatalf("%d documents, want 301", len(after))
	}
	if _, ok := after["8"]; ok {
		t.Fatal("the soft-deleted row is still indexed")
	}
	if d := after["5"]; *d.Title != "renamed ✓ 改名" || *d.PriceS != "42.42" || d.Version <= before["5"].Version {
		t.Fatalf("doc 5 %+v (version before %d)", d, before["5"].Version)
	}
	if d := after["1001"]; *d.Title != "new 新 🆕" || *d.PriceS != "9.99" {
		t.Fatalf("doc 1001 %+v", d)
	}
	if a, b := after["100"], before["100"]; !reflect.DeepEqual(a, b) || a.Title == nil || *a.Title != "item 100" {
		t.Fatalf("an unchanged document changed: %+v -> %+v", b, a)
	}
	// A pass with nothing new changes nothing; Auto is incremental now.
	time.Sleep(300 * time.Millisecond)
	if r := run(t, s, ModeAuto); r.Mode != ModeIncremental {
		t.Fatalf("auto with a checkpoint: %+v", r)
	}
	fx.assertIndexEqualsTable()
}

// bigSync is a table of 20,000 rows and a Sync that writes them slowly enough to watch:
// chunks of 500 rows, batches of 100 documents, one writer.
func bigSync(t *testing.T) (*syncFx, *Sync) {
	fx := newSyncFx(t)
	fx.fill(20000)
	return fx, fx.open(fx.config(map[string]any{"chunk_rows": 500, "batch_docs": 100, "writers": 1}))
}

// (c) Progress from another goroutine during a run, and the metrics.
func TestSyncProgressDuringRun(t *testing.T) {
	fx, s := bigSync(t)
	if p, err := s.Progress(); err != nil || p.Phase != SyncPhaseIdle || p.RowsRead != 0 {
		t.Fatalf("progress before any run: %+v %v", p, err)
	}
	done := make(chan struct{})
	var samples []SyncProgress
	var metricsSeen string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			p, err := s.Progress()
			if err != nil {
				t.Error(err)
				return
			}
			samples = append(samples, p)
			if metricsSeen == "" && p.RowsRead > 0 {
				if metricsSeen, err = s.Metrics(); err != nil {
					t.Error(err)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	r := run(t, s, ModeFull)
	close(done)
	wg.Wait()

	running, grew := 0, 0
	var last uint64
	for _, p := range samples {
		if !p.Phase.Running() {
			continue
		}
		running++
		if p.RowsRead < last {
			t.Fatalf("rows_read went back from %d to %d", last, p.RowsRead)
		}
		if p.RowsRead > last {
			grew++
		}
		last = p.RowsRead
		if p.Phase == SyncPhaseBuilding && p.RowsTotal != nil && *p.RowsTotal != 20000 {
			t.Fatalf("rows_total %d, want 20000", *p.RowsTotal)
		}
		if p.DocsWritten > p.RowsRead {
			t.Fatalf("progress %+v", p)
		}
	}
	if running == 0 || grew < 3 || last == 0 {
		t.Fatalf("%d samples, %d of a running phase, rows_read grew %d times up to %d", len(samples), running, grew, last)
	}
	if !strings.Contains(metricsSeen, fmt.Sprintf("gaia_sync_rows_read{core=%q} ", fx.core)) {
		t.Fatalf("metrics during the run:\n%s", metricsSeen)
	}

	p, err := s.Progress()
	if err != nil || p.Phase != SyncPhaseDone || p.RowsTotal == nil || *p.RowsTotal != 20000 {
		t.Fatalf("progress after the run: %+v %v", p, err)
	}
	if p.RowsRead != r.RowsRead || p.DocsWritten != r.DocsWritten || p.DocsDeleted != r.DocsDeleted ||
		p.DeadLettered != r.DeadLettered || p.Retries != r.Retries || p.RowsRead != 20000 || p.DocsWritten != 20000 || p.BytesSent == 0 {
		t.Fatalf("progress %+v != report %+v", p, r)
	}
	m, err := s.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		fmt.Sprintf("gaia_sync_docs_written{core=%q} %d\n", fx.core, r.DocsWritten),
		fmt.Sprintf("gaia_sync_rows_read{core=%q} %d\n", fx.core, r.RowsRead),
		fmt.Sprintf("gaia_sync_runs_ok_total{core=%q} 1\n", fx.core),
		fmt.Sprintf("gaia_sync_phase{core=%q,phase=\"done\"} 1\n", fx.core),
	} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %q:\n%s", line, m)
		}
	}
	if n := fx.numFound(fx.core); n != 20000 {
		t.Fatalf("numFound %d", n)
	}
}

// (d) A context cancelled or past its deadline stops a run; the next full run completes.
func TestSyncContextCancellation(t *testing.T) {
	fx, s := bigSync(t)

	// Cancelled once rows are read: context.Canceled and ErrCancelled both match.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go waitRows(s, runDone, cancel)
	r, err := s.Run(ctx, ModeFull)
	close(runDone)
	if r != nil || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) || gaiaCode(err) != StatusCancelled {
		t.Fatalf("cancelled run: %+v, %v", r, err)
	}
	if !strings.Contains(err.Error(), "context canceled") || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("message %q", err)
	}
	if p, _ := s.Progress(); p.Phase != SyncPhaseCancelled || p.RowsRead == 0 || p.RowsRead >= 20000 {
		t.Fatalf("progress after the cancel: %+v", p)
	}

	// The next full run resumes from the checkpoint and completes.
	start := time.Now()
	r = run(t, s, ModeFull)
	took := time.Since(start)
	if !r.Swapped || r.ResumedFromChunk == nil || *r.ResumedFromChunk == 0 || r.VerifiedCount == nil || *r.VerifiedCount != 20000 {
		t.Fatalf("resumed run: %+v", r)
	}
	fx.assertIndexEqualsTable()

	// A deadline early in a (fresh, so longer) rebuild: DeadlineExceeded. The live core is
	// untouched by a rebuild that did not finish.
	dctx, dcancel := context.WithTimeout(context.Background(), max(took/8, 20*time.Millisecond))
	defer dcancel()
	r, err = s.Run(dctx, ModeFull)
	if r != nil || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("run past its deadline: %+v, %v", r, err)
	}
	if p, _ := s.Progress(); p.Phase != SyncPhaseCancelled || p.RowsRead >= 20000 {
		t.Fatalf("progress after the deadline: %+v", p)
	}
	if n := fx.numFound(fx.core); n != 20000 {
		t.Fatalf("the live core holds %d documents after a cancelled rebuild", n)
	}

	// Cancel (no context involved): ErrCancelled, not a context error.
	runDone = make(chan struct{})
	go waitRows(s, runDone, func() {
		if err := s.Cancel(); err != nil {
			t.Error(err)
		}
	})
	r, err = s.Run(context.Background(), ModeFull)
	close(runDone)
	if r != nil || !errors.Is(err, ErrCancelled) || errors.Is(err, context.Canceled) {
		t.Fatalf("Cancel: %+v, %v", r, err)
	}

	// Then a full run completes, the index is complete and no build core is left.
	r = run(t, s, ModeFull)
	if !r.Swapped || *r.VerifiedCount != 20000 {
		t.Fatalf("final run: %+v", r)
	}
	fx.assertIndexEqualsTable()
	if c := fx.cores(); !reflect.DeepEqual(c, []string{fx.core}) {
		t.Fatalf("cores %v", c)
	}
	if p, _ := s.Progress(); p.Phase != SyncPhaseDone {
		t.Fatalf("progress %+v", p)
	}
}

// (e) Two concurrent runs on one handle: the second gets ErrInvalidState, the first
// completes undisturbed.
func TestSyncConcurrentRuns(t *testing.T) {
	fx, s := bigSync(t)
	type result struct {
		r   *SyncReport
		err error
	}
	first := make(chan result, 1)
	go func() {
		r, err := s.Run(context.Background(), ModeFull)
		first <- result{r, err}
	}()
	for {
		p, err := s.Progress()
		if err != nil {
			t.Fatal(err)
		}
		if p.Phase.Running() {
			break
		}
		if p.Phase != SyncPhaseIdle {
			t.Fatalf("the first run ended early: %+v", p)
		}
		time.Sleep(time.Millisecond)
	}
	for _, mode := range []SyncMode{ModeFull, ModeIncremental} {
		r, err := s.Run(context.Background(), mode)
		if r != nil || !errors.Is(err, ErrInvalidState) || gaiaCode(err) != 12 || !strings.Contains(err.Error(), "already in progress") {
			t.Fatalf("second concurrent run: %+v, %v", r, err)
		}
		// Check, Progress and Metrics work during the run.
		if err := s.Check(context.Background()); err != nil {
			t.Fatalf("Check during a run: %v", err)
		}
	}
	res := <-first
	if res.err != nil || res.r.DocsWritten != 20000 || !res.r.Swapped {
		t.Fatalf("first run: %+v, %v", res.r, res.err)
	}
	if n := fx.numFound(fx.core); n != 20000 {
		t.Fatalf("numFound %d", n)
	}
}

// Close during a run cancels it and waits for it; the handle is then closed.
func TestSyncCloseDuringRun(t *testing.T) {
	_, s := bigSync(t)
	runDone := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), ModeFull)
		result <- err
		close(runDone)
	}()
	waitRows(s, runDone, func() {})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-result; !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("run under Close: %v", err)
	}
	if _, err := s.Progress(); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("Progress after Close: %v", err)
	}
}

// (f) Bad input: each failure carries its code and names what is wrong.
func TestSyncBadInput(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(10)
	ctx := context.Background()
	expect := func(what string, err error, code Status, needles ...string) {
		t.Helper()
		if gaiaCode(err) != code {
			t.Errorf("%s: %v (code %d), want code %d", what, err, gaiaCode(err), code)
			return
		}
		for _, n := range needles {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%s: %q does not name %q", what, err, n)
			}
		}
	}
	fields := func(cfg map[string]any) []any { return cfg["mapping"].(map[string]any)["fields"].([]any) }

	_, err := NewSync(`{"mariadb_url": "mysql://x@127.0.0.1/db", "solr_url": `)
	expect("malformed JSON", err, StatusInvalidJSON, "sync config")

	// Unknown keys and unknown type names are refused by the JSON decoder (code 7),
	// which names them.
	cfg := fx.config(nil)
	cfg["mapping"].(map[string]any)["colour"] = "red"
	_, err = NewSyncFromValue(cfg)
	expect("unknown mapping field", err, StatusInvalidJSON, "unknown field `colour`")
	cfg = fx.config(nil)
	fields(cfg)[1].(map[string]any)["type"] = "money"
	_, err = NewSyncFromValue(cfg)
	expect("unknown field type", err, StatusInvalidJSON, "`money`", "decimal")
	cfg = fx.config(map[string]any{"chunk_rows": "many"})
	_, err = NewSyncFromValue(cfg)
	expect("wrong JSON type", err, StatusInvalidJSON, "invalid type")

	// Values out of their domain: code 8 naming the field.
	cfg = fx.config(map[string]any{"chunk_rows": 0})
	_, err = NewSyncFromValue(cfg)
	expect("chunk_rows 0", err, StatusInvalidConfig, "tuning.chunk_rows")
	cfg = fx.config(nil)
	cfg["mapping"].(map[string]any)["table"] = "items; DROP TABLE x"
	_, err = NewSyncFromValue(cfg)
	expect("table name", err, StatusInvalidConfig, "mapping.table")
	cfg = fx.config(nil)
	cfg["solr_url"] = "ftp://127.0.0.1/solr"
	_, err = NewSyncFromValue(cfg)
	expect("solr_url", err, StatusInvalidConfig, "solr_url")

	// Against the live schemas (Check and Run, before any write): a type that does not fit
	// the column, a column missing from the table, a Solr field the schema lacks.
	cfg = fx.config(nil)
	fields(cfg)[0].(map[string]any)["type"] = "decimal"
	fields(cfg)[0].(map[string]any)["double_field"] = "title_d"
	s := fx.open(cfg)
	expect("bad type: Check", s.Check(ctx), StatusInvalidConfig, "mapping.fields[0]", `column "title"`, "Decimal")
	_, err = s.Run(ctx, ModeFull)
	expect("bad type: Run", err, StatusInvalidConfig, "mapping.fields[0]", `column "title"`)

	cfg = fx.config(nil)
	fields(cfg)[1].(map[string]any)["column"] = "cost"
	s = fx.open(cfg)
	expect("missing column: Check", s.Check(ctx), StatusInvalidConfig, "mapping.fields[1].column", `"cost"`, "no such column")
	_, err = s.Run(ctx, ModeFull)
	expect("missing column: Run", err, StatusInvalidConfig, `"cost"`, "no such column")

	cfg = fx.config(nil)
	fields(cfg)[0].(map[string]any)["field"] = "title_unknown"
	s = fx.open(cfg)
	_, err = s.Run(ctx, ModeFull)
	expect("unknown Solr field", err, StatusInvalidConfig, `"title_unknown"`)
	if p, _ := s.Progress(); p.Phase != SyncPhaseFailed || p.DocsWritten != 0 {
		t.Errorf("progress after a refused run: %+v", p)
	}

	s = fx.open(fx.config(nil))
	_, err = s.Run(ctx, SyncMode(7))
	expect("invalid mode", err, StatusInvalidArgument, "mode 7")

	// Nothing was written by any of these: no core, no checkpoint.
	if c := fx.cores(); len(c) != 0 {
		t.Errorf("cores left: %v", c)
	}
	if ents, _ := os.ReadDir(fx.stateDir); len(ents) != 0 {
		t.Errorf("state folder holds %v", ents)
	}

	text, _ := json.Marshal(fx.config(nil))
	_, err = NewSync(strings.Replace(string(text), `"title_t"`, "\"title\xff_t\"", 1))
	expect("invalid UTF-8", err, StatusInvalidUTF8, "UTF-8")
	_, err = NewSync(strings.Replace(string(text), "title_t", "title\x00_t", 1))
	expect("NUL byte", err, StatusInvalidArgument, "NUL")
	cfg = fx.config(map[string]any{"lag_ms": math.NaN()})
	_, err = NewSyncFromValue(cfg)
	expect("NaN", err, StatusInvalidArgument, "sync config")
	_, err = NewSyncFromValue(map[string]any{"core": make(chan int)})
	expect("unencodable value", err, StatusInvalidJSON, "sync config")
}

// (f) An unreachable Solr: code 15 from Check and Run, and nothing is written.
func TestSyncUnreachableSolr(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(10)
	cfg := fx.config(map[string]any{"max_retries": 1, "retry_base_ms": 10, "http_timeout_ms": 2000})
	cfg["solr_url"] = "http://127.0.0.1:9/solr"
	s := fx.open(cfg)
	err := s.Check(context.Background())
	if !errors.Is(err, ErrIO) || !strings.Contains(err.Error(), "127.0.0.1:9") {
		t.Fatalf("Check: %v", err)
	}
	r, err := s.Run(context.Background(), ModeFull)
	if r != nil || !errors.Is(err, ErrIO) || gaiaCode(err) != 15 || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Run: %+v, %v", r, err)
	}
	if p, _ := s.Progress(); p.Phase != SyncPhaseFailed || p.DocsWritten != 0 || p.BytesSent != 0 {
		t.Fatalf("progress %+v", p)
	}
	if ents, _ := os.ReadDir(fx.stateDir); len(ents) != 0 {
		t.Errorf("state folder holds %v", ents)
	}
	if c := fx.cores(); len(c) != 0 {
		t.Errorf("cores on the real Solr: %v", c)
	}
}

// An already-cancelled context starts nothing; every call after Close is ErrInvalidHandle.
func TestSyncDoneContextAndClose(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(10)
	s := fx.open(fx.config(nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := s.Run(ctx, ModeFull); r != nil || err != context.Canceled {
		t.Fatalf("Run with a done context: %+v, %v", r, err)
	}
	if err := s.Check(ctx); err != context.Canceled {
		t.Fatalf("Check with a done context: %v", err)
	}
	if p, err := s.Progress(); err != nil || p.Phase != SyncPhaseIdle {
		t.Fatalf("a run started: %+v %v", p, err)
	}
	if c := fx.cores(); len(c) != 0 {
		t.Fatalf("cores %v", c)
	}
	if err := s.Cancel(); err != nil { // no run: no effect
		t.Fatal(err)
	}
	if r := run(t, s, ModeFull); r.DocsWritten != 10 {
		t.Fatalf("report %+v", r)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, errRun := s.Run(context.Background(), ModeFull)
	_, errProgress := s.Progress()
	_, errMetrics := s.Metrics()
	for name, err := range map[string]error{
		"Run": errRun, "Check": s.Check(context.Background()), "Progress": errProgress,
		"Metrics": errMetrics, "Cancel": s.Cancel(),
	} {
		if !errors.Is(err, ErrInvalidHandle) || err.Error() != "gaia: sync is closed" {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// (g) Change data capture: a full rebuild first (no GTID position yet), then following the
// binlog; an insert, an update and a hard DELETE (no tombstone table) reach the live core
// within seconds, and cancelling the context ends the follow with a report and no error.
func TestSyncCDC(t *testing.T) {
	fx := newSyncFx(t)
	fx.fill(50)
	cfg := fx.config(nil)
	// Hard deletes come from the binlog: no tombstone tables (this fixture has none anyway).
	delete(cfg["mapping"].(map[string]any), "tombstones")
	s := fx.open(cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		r   *SyncReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := s.Run(ctx, ModeCDC)
		done <- result{r, err}
	}()
	// waitFor polls ok every 100 ms for at most limit; the follower ending early fails the
	// test with its report and error.
	waitFor := func(limit time.Duration, what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			select {
			case res := <-done:
				p, _ := s.Progress()
				t.Fatalf("Run(ModeCDC) ended while waiting for %s: report %+v, error %v, progress %+v", what, res.r, res.err, p)
			default:
			}
			if ok() {
				return
			}
			if time.Now().After(deadline) {
				p, err := s.Progress()
				t.Fatalf("no %s after %v: progress %+v (%v), %d documents in %s", what, limit, p, err, fx.numFound(fx.core), fx.core)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The initial full rebuild, then following.
	waitFor(60*time.Second, "phase "+string(SyncPhaseFollowing)+" with the 50 rows indexed", func() bool {
		p, err := s.Progress()
		if err != nil {
			t.Fatalf("Progress: %v", err)
		}
		return p.Phase == SyncPhaseFollowing && fx.numFound(fx.core) == 50
	})
	before := fx.assertIndexEqualsTable()

	// An insert, an update and a hard delete, each its own transaction.
	fx.sql(fmt.Sprintf("INSERT INTO `%s` (id, title, price) VALUES (1001, 'cdc new 新 🆕', 9.99)", fx.table))
	fx.sql(fmt.Sprintf("UPDATE `%s` SET title = 'cdc renamed ✓', price = 42.42 WHERE id = 5", fx.table))
	fx.sql(fmt.Sprintf("DELETE FROM `%s` WHERE id = 9", fx.table))
	var last map[string]solrDoc
	waitFor(20*time.Second, "insert, update and hard delete in the index", func() bool {
		last = fx.docs()
		_, gone := last["9"]
		d5, d1001 := last["5"], last["1001"]
		return !gone && d5.Title != nil && *d5.Title == "cdc renamed ✓" && d1001.Title != nil
	})
	after := fx.assertIndexEqualsTable()
	if len(after) != 50 {
		t.Fatalf("%d documents after the changes, want 50 (50 + 1 inserted - 1 deleted)", len(after))
	}
	if d := after["5"]; d.PriceS == nil || *d.PriceS != "42.42" || d.Version <= before["5"].Version {
		t.Fatalf("updated doc 5: %+v (version before %d)", d, before["5"].Version)
	}
	if d := after["1001"]; *d.Title != "cdc new 新 🆕" || d.PriceS == nil || *d.PriceS != "9.99" {
		t.Fatalf("inserted doc 1001: %+v", d)
	}
	if a, b := after["20"], before["20"]; !reflect.DeepEqual(a, b) {
		t.Fatalf("an unchanged document changed: %+v -> %+v", b, a)
	}
	if p, err := s.Progress(); err != nil || p.Phase != SyncPhaseFollowing {
		t.Fatalf("progress while following: %+v %v", p, err)
	}

	// Cancelling the context ends the follow: a report, no error.
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		p, _ := s.Progress()
		t.Fatalf("Run(ModeCDC) did not return within 30 s of the cancel: progress %+v", p)
	}
	if res.err != nil || res.r == nil {
		t.Fatalf("Run(ModeCDC) after the cancel: report %+v, error %v (want a report and no error)", res.r, res.err)
	}
	r := res.r
	t.Logf("CDC report: %+v", *r)
	if r.Mode != ModeCDC || r.Core != fx.core || !r.Swapped || r.DocsWritten < 1 || r.DocsDeleted < 1 {
		t.Fatalf("CDC report %+v: want mode cdc, core %s, swapped (the initial rebuild), docs_written >= 1, docs_deleted >= 1",
			r, fx.core)
	}
	if p, err := s.Progress(); err != nil || p.Phase != SyncPhaseDone {
		t.Fatalf("progress after the follow ended: %+v %v", p, err)
	}
	fx.assertIndexEqualsTable()

	// Reconciliation agrees: nothing differs, nothing is repaired.
	rr, err := s.Run(context.Background(), ModeReconcile)
	if err != nil || rr.Mode != ModeReconcile || rr.Differences == nil || rr.Differences.Total() != 0 ||
		rr.Differences.RowsChecked == 0 {
		t.Fatalf("reconcile after following: %+v %v", rr, err)
	}
}
