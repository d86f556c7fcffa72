package gaia

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// modelDir is the all-MiniLM-L6-v2 folder: $GAIA_MODEL_DIR, or target/models at the
// repository root. A missing model fails the test: the infer tests are not optional.
func modelDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GAIA_MODEL_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "target", "models", "all-MiniLM-L6-v2")
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatalf("the sentence-embedding model is missing: %v\n"+
			"put sentence-transformers/all-MiniLM-L6-v2 (config.json, tokenizer.json, "+
			"model.safetensors, ...) in %s or point GAIA_MODEL_DIR at it", err, dir)
	}
	return dir
}

func mustEmbedder(t testing.TB, opts *EmbedderOptions) *Embedder {
	t.Helper()
	e, err := OpenEmbedder(modelDir(t), opts)
	if err != nil {
		t.Fatalf("OpenEmbedder: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func norm(a []float32) float64 {
	var s float64
	for _, x := range a {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

type inferVectors struct {
	Dim          int  `json:"dim"`
	MaxSeqLength int  `json:"max_seq_length"`
	Normalized   bool `json:"normalized"`
	Items        []struct {
		Name      string    `json:"name"`
		Text      string    `json:"text"`
		NTokens   int       `json:"n_tokens"`
		TokenIDs  []uint32  `json:"token_ids"`
		Embedding []float32 `json:"embedding"`
		Pooled    []float32 `json:"pooled"`
	} `json:"items"`
}

// TestInferSharedVectors replays tests/vectors/infer_minilm.json (sentence-transformers'
// own output): the same token ids, token counts and embeddings as every front end.
func TestInferSharedVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "infer_minilm.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v inferVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Dim != 384 || len(v.Items) < 50 {
		t.Fatalf("dim %d, %d items", v.Dim, len(v.Items))
	}
	e := mustEmbedder(t, nil)
	if e.Dim() != v.Dim {
		t.Fatalf("Dim() = %d, want %d", e.Dim(), v.Dim)
	}
	info, err := e.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Dim != 384 || info.MaxLength != v.MaxSeqLength || info.Pooling != "mean" || !info.Normalizes ||
		info.Layers != 6 || info.VocabSize != 30522 || info.Threads != 1 || len(info.WeightsSHA256) != 64 {
		t.Fatalf("info %+v", info)
	}

	texts := make([]string, len(v.Items))
	for i, it := range v.Items {
		texts[i] = it.Text
		ids, err := e.Tokenize(it.Text)
		if err != nil || !reflect.DeepEqual(ids, it.TokenIDs) {
			t.Errorf("%s: Tokenize = %v (%v)\nwant %v", it.Name, ids, err, it.TokenIDs)
		}
		n, err := e.CountTokens([]string{it.Text})
		if err != nil || len(n) != 1 || n[0] != it.NTokens {
			t.Errorf("%s: CountTokens = %v (%v), want %d", it.Name, n, err, it.NTokens)
		}
		vec, err := e.Embed([]string{it.Text}, true)
		if err != nil {
			t.Fatalf("%s: %v", it.Name, err)
		}
		if c := cosine(vec[0], it.Embedding); c < 0.9999 || math.Abs(norm(vec[0])-1) > 1e-5 {
			t.Errorf("%s: cosine %.7f with sentence-transformers, norm %.7f", it.Name, c, norm(vec[0]))
		}
		raw, err := e.Embed([]string{it.Text}, false)
		if err != nil {
			t.Fatalf("%s: %v", it.Name, err)
		}
		if c, r := cosine(raw[0], it.Pooled), norm(raw[0])/norm(it.Pooled); c < 0.9999 || math.Abs(r-1) > 1e-3 {
			t.Errorf("%s: unnormalised: cosine %.7f with the pooled vector, norm ratio %.5f", it.Name, c, r)
		}
	}

	counts, err := e.CountTokens(texts)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := e.Embed(texts, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(batch), len(texts))
	}
	for i, it := range v.Items {
		if counts[i] != it.NTokens {
			t.Errorf("%s: batch CountTokens %d, want %d", it.Name, counts[i], it.NTokens)
		}
		single, _ := e.Embed([]string{it.Text}, true)
		if c := cosine(batch[i], single[0]); c < 0.99999 || len(batch[i]) != 384 {
			t.Errorf("%s: batch vs single cosine %.8f", it.Name, c)
		}
	}
}

// TestEmbedConcurrently: many goroutines on one Embedder get what sequential calls get.
func TestEmbedConcurrently(t *testing.T) {
	e := mustEmbedder(t, nil)
	batches := [][]string{
		{"The cat sat on the mat."},
		{"How do I reset my password?", "Réinitialiser le mot de passe", "パスワードを忘れました"},
		{"", "a\x00b", strings.Repeat("long text ", 300)},
		{"Shipping to Canada takes a week.", "Refunds within 30 days."},
	}
	want := make([][][]float32, len(batches))
	wantTokens := make([][]int, len(batches))
	for i, b := range batches {
		var err error
		if want[i], err = e.Embed(b, true); err != nil {
			t.Fatal(err)
		}
		if wantTokens[i], err = e.CountTokens(b); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				i := (g + r) % len(batches)
				got, err := e.Embed(batches[i], true)
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d: batch %d differs from the sequential result", g, i)
				}
				n, err := e.CountTokens(batches[i])
				if err != nil || !reflect.DeepEqual(n, wantTokens[i]) {
					t.Errorf("goroutine %d: counts %v (%v), want %v", g, n, err, wantTokens[i])
				}
				// A failure on one goroutine carries its own message, whatever thread ran it.
				_, err = e.Embed([]string{"ok", "ok", "bad\xff" + fmt.Sprint(g)}, true)
				if !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "text 2") {
					t.Errorf("goroutine %d: %v", g, err)
				}
			}
		}(g)
	}
	wg.Wait()
}

// TestEmbedderCloseWhileInUse: Close waits for calls in flight; later calls fail cleanly.
func TestEmbedderCloseWhileInUse(t *testing.T) {
	e, err := OpenEmbedder(modelDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg, started sync.WaitGroup
	var mu sync.Mutex
	ok, closed := 0, 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		started.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				v, err := e.Embed([]string{fmt.Sprintf("close me %d %d", g, i)}, true)
				if i == 0 {
					started.Done()
				}
				mu.Lock()
				if err == nil {
					ok++
				} else {
					closed++
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, ErrInvalidHandle) {
					t.Errorf("Embed during Close: %v", err)
				}
				if err == nil && len(v[0]) != 384 {
					t.Errorf("vector of %d floats", len(v[0]))
				}
			}
		}(g)
	}
	started.Wait() // every goroutine has embedded once; Close now races with the rest
	_ = e.Close()
	wg.Wait()
	if ok < 4 || closed == 0 {
		t.Logf("%d embeds succeeded, %d found the embedder closed", ok, closed)
	}
	if _, err := e.Embed([]string{"x"}, true); !errors.Is(err, ErrInvalidHandle) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestEmbedderBadInput(t *testing.T) {
	e := mustEmbedder(t, nil)
	type check struct {
		err    error
		target error
		needle string
	}
	_, embedErr := e.Embed([]string{"fine", "bad \xff\xfe byte"}, true)
	_, countErr := e.CountTokens([]string{"fine", "fine", "\xc3"})
	_, tokErr := e.Tokenize("x\x80")
	_, emptyErr := e.Embed(nil, true)
	_, missingErr := OpenEmbedder(filepath.Join(t.TempDir(), "no-such-model"), nil)
	_, threadsErr := OpenEmbedder(modelDir(t), &EmbedderOptions{Threads: 999})
	_, batchErr := OpenEmbedder(modelDir(t), &EmbedderOptions{MaxTokensPerBatch: 8})
	_, lengthErr := OpenEmbedder(modelDir(t), &EmbedderOptions{MaxLength: 100000})
	_, negErr := OpenEmbedder(modelDir(t), &EmbedderOptions{Threads: -1})
	_, nulErr := OpenEmbedder("a\x00b", nil)
	for i, c := range []check{
		{embedErr, ErrInvalidUTF8, "text 1 is not valid UTF-8 (invalid byte at offset 4)"},
		{countErr, ErrInvalidUTF8, "text 2"},
		{tokErr, ErrInvalidUTF8, "text 0"},
		{emptyErr, ErrInvalidArgument, "no texts"},
		{missingErr, ErrNotFound, "no-such-model"},
		{threadsErr, ErrInvalidConfig, "threads: 999 is outside 1..=256"},
		{batchErr, ErrInvalidConfig, "max_tokens_per_batch"},
		{lengthErr, ErrInvalidConfig, "max_length"},
		{negErr, ErrInvalidJSON, "-1"},
		{nulErr, ErrInvalidArgument, "NUL"},
	} {
		var ge *Error
		if !errors.Is(c.err, c.target) || !errors.As(c.err, &ge) || !strings.Contains(ge.Msg, c.needle) {
			t.Errorf("check %d: got %v, want %v containing %q", i, c.err, c.target, c.needle)
		}
	}

	// A buffer too small: an error naming the size needed, and the buffer untouched.
	buf := make([]float32, 2*384-1)
	for i := range buf {
		buf[i] = 42
	}
	err := e.EmbedInto([]string{"one", "two"}, true, buf)
	if !errors.Is(err, ErrBufferTooSmall) || !strings.Contains(err.Error(), "768") {
		t.Errorf("EmbedInto with %d floats: %v, want ErrBufferTooSmall naming 768", len(buf), err)
	}
	if err := e.EmbedInto([]string{"one"}, true, nil); !errors.Is(err, ErrBufferTooSmall) {
		t.Errorf("EmbedInto with no buffer: %v, want ErrBufferTooSmall", err)
	}
	for i, x := range buf {
		if x != 42 {
			t.Fatalf("a failed EmbedInto wrote out[%d] = %v", i, x)
		}
	}
	// A buffer larger than needed: the rows land at the front, the rest is untouched.
	if err := e.EmbedInto([]string{"one"}, true, buf); err != nil {
		t.Fatal(err)
	}
	if math.Abs(norm(buf[:384])-1) > 1e-5 || buf[384] != 42 {
		t.Fatalf("EmbedInto wrote norm %v, out[384] = %v", norm(buf[:384]), buf[384])
	}

	// Binary-safe texts: NUL bytes are text like any other byte.
	ids, err := e.Tokenize("abc\x00def")
	if err != nil || len(ids) < 3 {
		t.Fatalf("Tokenize with a NUL: %v %v", ids, err)
	}
	if ids, err := e.Tokenize(""); err != nil || !reflect.DeepEqual(ids, []uint32{101, 102}) {
		t.Fatalf("Tokenize(\"\") = %v, %v", ids, err)
	}
	if n, err := e.CountTokens(nil); err != nil || len(n) != 0 {
		t.Fatalf("CountTokens(nil) = %v, %v", n, err)
	}
	// Long texts: Tokenize grows its buffer; ids stop at the max length.
	long := strings.Repeat("tokens ", 1000)
	if ids, err := e.Tokenize(long); err != nil || len(ids) != 256 || ids[255] != 102 {
		t.Fatalf("Tokenize(long) = %d ids, %v", len(ids), err)
	}
	if ids, err := e.Tokenize(strings.Repeat("日本", 200)); err != nil || len(ids) != 256 {
		t.Fatalf("Tokenize(kanji) = %d ids, %v", len(ids), err)
	}

	// Options that are accepted: a small max length truncates.
	short := mustEmbedder(t, &EmbedderOptions{Threads: 2, MaxTokensPerBatch: 1024, MaxLength: 16, NoCache: true})
	if info, err := short.Info(); err != nil || info.MaxLength != 16 || info.Threads != 2 {
		t.Fatalf("info %+v %v", info, err)
	}
	if ids, err := short.Tokenize(long); err != nil || len(ids) != 16 {
		t.Fatalf("MaxLength 16: %d ids, %v", len(ids), err)
	}

	// After Close: errors, not crashes, and Close is idempotent.
	closed := mustEmbedder(t, nil)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	_, e1 := closed.Embed([]string{"x"}, true)
	_, e2 := closed.Tokenize("x")
	_, e3 := closed.CountTokens([]string{"x"})
	_, e4 := closed.Info()
	e5 := closed.EmbedInto([]string{"x"}, true, make([]float32, 384))
	for i, err := range []error{e1, e2, e3, e4, e5} {
		if !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("call %d after Close: %v", i, err)
		}
	}
	if closed.Dim() != 384 {
		t.Errorf("Dim after Close: %d", closed.Dim())
	}
}

func TestSimilarity(t *testing.T) {
	a := [][]float32{{1, 0}, {1, 1}}
	b := [][]float32{{2, 0}, {0, 3}, {-1, 0}}
	cos, err := Similarity(a, b, MetricCosine)
	if err != nil {
		t.Fatal(err)
	}
	s := float32(math.Sqrt(0.5))
	want := [][]float32{{1, 0, -1}, {s, s, -s}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(float64(cos[i][j]-want[i][j])) > 1e-6 {
				t.Fatalf("cosine %v, want %v", cos, want)
			}
		}
	}
	dot, err := Similarity(a, b, MetricDot)
	if err != nil || !reflect.DeepEqual(dot, [][]float32{{2, 0, -1}, {2, 3, -1}}) {
		t.Fatalf("dot %v %v", dot, err)
	}
	flat, err := SimilarityFlat([]float32{1, 0, 1, 1}, []float32{2, 0, 0, 3, -1, 0}, 2, MetricDot)
	if err != nil || !reflect.DeepEqual(flat, []float32{2, 0, -1, 2, 3, -1}) {
		t.Fatalf("flat %v %v", flat, err)
	}
	if out, err := Similarity(nil, b, MetricCosine); err != nil || len(out) != 0 {
		t.Fatalf("no rows: %v %v", out, err)
	}
	if MetricCosine.String() != "cosine" || MetricDot.String() != "dot" {
		t.Fatal(MetricCosine, MetricDot)
	}
	for i, err := range []error{
		func() error { _, err := Similarity(a, [][]float32{{1, 2, 3}}, MetricDot); return err }(),
		func() error { _, err := Similarity(a, [][]float32{{float32(math.NaN()), 1}}, MetricDot); return err }(),
		func() error { _, err := Similarity(a, b, Metric(7)); return err }(),
		func() error { _, err := SimilarityFlat([]float32{1, 2, 3}, []float32{1, 2}, 2, MetricDot); return err }(),
		func() error { _, err := SimilarityFlat(nil, nil, 0, MetricDot); return err }(),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("case %d: %v, want ErrInvalidArgument", i, err)
		}
	}
}

func randomVectors(rng *rand.Rand, n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(rng.NormFloat64())
		}
	}
	return out
}

func mustIndex(t *testing.T, opts IndexOptions) *Index {
	t.Helper()
	x, err := NewIndex(opts)
	if err != nil {
		t.Fatalf("NewIndex(%+v): %v", opts, err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func TestIndexRoundTrip(t *testing.T) {
	const dim, n = 16, 200
	rng := rand.New(rand.NewSource(7))
	vecs := randomVectors(rng, n, dim)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(1000 + 3*i)
	}
	noRescore := false
	for _, opts := range []IndexOptions{
		{Dim: dim},
		{Dim: dim, Metric: "dot", Storage: "f32"},
		{Dim: dim, Storage: "f16"},
		{Dim: dim, Storage: "int8"},
		{Dim: dim, Storage: "int8", Rescore: &noRescore, Oversample: 2},
	} {
		name := fmt.Sprintf("%s-%s-%v", opts.Metric, opts.Storage, opts.Rescore != nil)
		x := mustIndex(t, opts)
		if x.Dim() != dim || x.Len() != 0 {
			t.Fatalf("%s: dim %d len %d", name, x.Dim(), x.Len())
		}
		if hits, err := x.Search(vecs[0], 3); err != nil || len(hits) != 0 {
			t.Fatalf("%s: search of an empty index: %v %v", name, hits, err)
		}
		if err := x.Add(ids, vecs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if x.Len() != n {
			t.Fatalf("%s: Len %d", name, x.Len())
		}
		if opts.Metric == "dot" {
			continue // a stored vector need not be its own best match by dot product
		}
		for i := 0; i < n; i += 17 {
			hits, err := x.Search(vecs[i], 5)
			if err != nil || len(hits) != 5 || hits[0].ID != ids[i] {
				t.Fatalf("%s: top-5 of vector %d: %v %v", name, i, hits, err)
			}
			if opts.Rescore == nil && math.Abs(float64(hits[0].Score)-1) > 1e-5 {
				t.Fatalf("%s: self score %v", name, hits[0].Score)
			}
			for j := 1; j < len(hits); j++ {
				if hits[j].Score > hits[j-1].Score {
					t.Fatalf("%s: hits not best first: %v", name, hits)
				}
			}
		}
		batch, err := x.SearchBatch([][]float32{vecs[1], vecs[2], vecs[3], vecs[4], vecs[5]}, 4)
		if err != nil || len(batch) != 5 {
			t.Fatalf("%s: SearchBatch %v", name, err)
		}
		for q, hits := range batch {
			single, _ := x.Search(vecs[q+1], 4)
			if len(hits) != 4 || hits[0].ID != ids[q+1] || single[0].ID != hits[0].ID {
				t.Fatalf("%s: batch query %d: %v vs %v", name, q, hits, single)
			}
		}
	}

	x := mustIndex(t, IndexOptions{Dim: dim})
	if err := x.Add(ids[:100], vecs[:100]); err != nil {
		t.Fatal(err)
	}
	// k beyond the index's size returns every vector.
	if hits, err := x.Search(vecs[0], 1000); err != nil || len(hits) != 100 {
		t.Fatalf("k 1000: %d hits, %v", len(hits), err)
	}
	for i, c := range []struct {
		err    error
		target error
		needle string
	}{
		{x.Add(ids[99:101], vecs[99:101]), ErrAlreadyExists, fmt.Sprint(ids[99])},
		{x.Add([]uint64{1, 1}, vecs[:2]), ErrAlreadyExists, "id 1"},
		{x.Add([]uint64{1}, [][]float32{vecs[0][:dim-1]}), ErrInvalidArgument, "expected 16 dimensions, got 15"},
		{x.Add([]uint64{1}, vecs[:2]), ErrInvalidArgument, "1 ids for 2 vectors"},
		{x.Add([]uint64{1}, [][]float32{append(make([]float32, dim-1), float32(math.NaN()))}), ErrInvalidArgument, "non-finite"},
		{x.Remove(5), ErrNotFound, "id 5"},
		{x.Remove(ids[0], 5), ErrNotFound, "id 5"},
		{func() error { _, err := x.Search(vecs[0][:3], 1); return err }(), ErrInvalidArgument, "dimensions"},
		{func() error { _, err := x.Search(vecs[0], 0); return err }(), ErrInvalidArgument, "k must be at least 1"},
		{func() error { _, err := x.SearchBatch(nil, 1); return err }(), ErrInvalidArgument, "no queries"},
		{func() error { _, err := NewIndex(IndexOptions{}); return err }(), ErrInvalidConfig, "dim"},
		{func() error { _, err := NewIndex(IndexOptions{Dim: 4, Storage: "f64"}); return err }(), ErrInvalidJSON, "f64"},
		{func() error { _, err := NewIndex(IndexOptions{Dim: 4, Oversample: 100}); return err }(), ErrInvalidConfig, "oversample"},
		{func() error { _, err := NewIndex(IndexOptions{Dim: 4, Threads: 300}); return err }(), ErrInvalidConfig, "threads"},
		{x.SetThreads(0), ErrInvalidArgument, "index threads: 0 is outside"},
		{x.SetThreads(-2), ErrInvalidArgument, "index threads: -2 is outside"},
	} {
		var ge *Error
		if !errors.Is(c.err, c.target) || !errors.As(c.err, &ge) || !strings.Contains(ge.Msg, c.needle) {
			t.Errorf("check %d: got %v, want %v containing %q", i, c.err, c.target, c.needle)
		}
	}
	if x.Len() != 100 {
		t.Fatalf("failed calls changed the index: Len %d", x.Len())
	}
	// A threaded scan answers exactly as the single-threaded one.
	before, _ := x.Search(vecs[3], 5)
	if err := x.SetThreads(2); err != nil {
		t.Fatal(err)
	}
	if after, err := x.Search(vecs[3], 5); err != nil || !reflect.DeepEqual(before, after) {
		t.Fatalf("threaded search: %v %v, want %v", after, err, before)
	}
	if err := x.Remove(ids[0], ids[1]); err != nil || x.Len() != 98 {
		t.Fatalf("Remove: %v, Len %d", err, x.Len())
	}
	if err := x.Remove(); err != nil {
		t.Fatalf("Remove(): %v", err)
	}
	if hits, _ := x.Search(vecs[0], 1); hits[0].ID == ids[0] {
		t.Fatal("a removed vector is still found")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "docs.gidx")
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	y, err := LoadIndex(path, dim)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.Len() != 98 || y.Dim() != dim {
		t.Fatalf("loaded: len %d dim %d", y.Len(), y.Dim())
	}
	for i := 2; i < 100; i += 9 {
		a, _ := x.Search(vecs[i], 3)
		b, err := y.Search(vecs[i], 3)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("loaded index answers %v (%v), saved one %v", b, err, a)
		}
	}
	if z, err := LoadIndex(path, 0); err != nil || z.Len() != 98 {
		t.Fatalf("LoadIndex(any dim): %v", err)
	} else {
		z.Close()
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), raw...)
	corrupt[len(corrupt)/2] ^= 0x40
	bad := filepath.Join(dir, "corrupt.gidx")
	if err := os.WriteFile(bad, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.gidx")
	if err := os.WriteFile(truncated, raw[:len(raw)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.gidx")
	if err := os.WriteFile(text, []byte("not an index at all, just some text"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		path   string
		dim    int
		target error
	}{
		{path, dim + 1, ErrInvalidArgument},
		{bad, dim, ErrCorruptState},
		{truncated, dim, ErrCorruptState},
		{text, 0, ErrCorruptState},
		{filepath.Join(dir, "missing.gidx"), dim, ErrNotFound},
		{path, -1, ErrInvalidArgument},
	} {
		if z, err := LoadIndex(c.path, c.dim); z != nil || !errors.Is(err, c.target) {
			t.Errorf("load %d: %v, want %v", i, err, c.target)
		}
	}

	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	_, e1 := y.Search(vecs[0], 1)
	e2 := y.Add([]uint64{1}, vecs[:1])
	e3 := y.Remove(ids[5])
	e4 := y.Save(path)
	for i, err := range []error{e1, e2, e3, e4} {
		if !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("call %d after Close: %v", i, err)
		}
	}
	if y.Len() != 0 {
		t.Errorf("Len after Close: %d", y.Len())
	}
}

// TestIndexConcurrently: searches and adds from many goroutines (run with -race).
func TestIndexConcurrently(t *testing.T) {
	const dim = 8
	rng := rand.New(rand.NewSource(3))
	vecs := randomVectors(rng, 400, dim)
	x := mustIndex(t, IndexOptions{Dim: dim, Storage: "int8"})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(vecs); i += 8 {
				if err := x.Add([]uint64{uint64(i)}, vecs[i:i+1]); err != nil {
					t.Error(err)
					return
				}
				hits, err := x.Search(vecs[i], 1)
				if err != nil || len(hits) != 1 || hits[0].ID != uint64(i) {
					t.Errorf("goroutine %d: %v %v", g, hits, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if x.Len() != len(vecs) {
		t.Fatalf("Len %d", x.Len())
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestSemanticSearch: the embedder and the index together find the document that means
// the same thing as the query, without sharing its words.
func TestSemanticSearch(t *testing.T) {
	docs := readLines(t, filepath.Join("..", "..", "examples", "data", "docs.txt"))
	e := mustEmbedder(t, nil)
	vecs, err := e.Embed(docs, true)
	if err != nil {
		t.Fatal(err)
	}
	x := mustIndex(t, IndexOptions{Dim: e.Dim()})
	ids := make([]uint64, len(docs))
	for i := range ids {
		ids[i] = uint64(i)
	}
	if err := x.Add(ids, vecs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{"I forgot my login credentials", "How do I reset my password"},
		{"how long does delivery to Canada take", "Shipping to Canada"},
	} {
		q, err := e.Embed([]string{c.query}, true)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := x.Search(q[0], 3)
		if err != nil || len(hits) != 3 {
			t.Fatalf("%q: %v %v", c.query, hits, err)
		}
		if top := docs[hits[0].ID]; !strings.HasPrefix(top, c.want) {
			t.Errorf("%q: top hit %q (%.3f), want %q...", c.query, top, hits[0].Score, c.want)
		}
		sims, err := Similarity(q, [][]float32{vecs[hits[0].ID]}, MetricCosine)
		if err != nil || math.Abs(float64(sims[0][0]-hits[0].Score)) > 1e-5 {
			t.Errorf("%q: Similarity %v (%v), index score %v", c.query, sims, err, hits[0].Score)
		}
	}
}
