// Command search is semantic search over a handful of support articles: it embeds the
// lines of examples/data/docs.txt with all-MiniLM-L6-v2 (run on the CPU by libgaia, no
// Python), keeps the vectors in an Index and answers queries that share no words with the
// article they want. It also embeds from several goroutines at once on one Embedder, which
// is safe and gives the same vectors.
//
// Run it from examples/go: `go run ./search`. The model folder is $GAIA_MODEL_DIR, or
// ../../target/models/all-MiniLM-L6-v2 (the repository's target/models).
//
// all-MiniLM-L6-v2 was trained on English: the French and Japanese queries show how far it
// goes on other languages (a multilingual model fits them better).
package main

import (
	"bufio"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gaia "gaia.dev/gaia"
)

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
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

func main() {
	log.SetFlags(0)
	modelDir := os.Getenv("GAIA_MODEL_DIR")
	if modelDir == "" {
		modelDir = filepath.Join("..", "..", "target", "models", "all-MiniLM-L6-v2")
	}
	docs, err := readLines(filepath.Join("..", "data", "docs.txt"))
	if err != nil {
		log.Fatalf("%v (run from examples/go: go run ./search)", err)
	}

	start := time.Now()
	e, err := gaia.OpenEmbedder(modelDir, nil)
	if err != nil {
		log.Fatalf("%v\n(set GAIA_MODEL_DIR to the all-MiniLM-L6-v2 folder)", err)
	}
	defer e.Close()
	loaded := time.Since(start)
	info, err := e.Info()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("model %s: %d dims, %d layers, %s pooling, max %d tokens, weights %s..., loaded in %v\n",
		filepath.Base(info.Path), info.Dim, info.Layers, info.Pooling, info.MaxLength,
		info.WeightsSHA256[:12], loaded.Round(time.Millisecond))

	start = time.Now()
	vecs, err := e.Embed(docs, true)
	if err != nil {
		log.Fatal(err)
	}
	idx, err := gaia.NewIndex(gaia.IndexOptions{Dim: e.Dim(), Metric: gaia.MetricCosine.String()})
	if err != nil {
		log.Fatal(err)
	}
	defer idx.Close()
	ids := make([]uint64, len(docs))
	for i := range ids {
		ids[i] = uint64(i)
	}
	if err := idx.Add(ids, vecs); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("indexed %d documents in %v\n", idx.Len(), time.Since(start).Round(time.Millisecond))

	queries := []string{
		"I forgot my login credentials",
		"Combien de temps faut-il pour être livré au Canada ?", // French
		"東京オフィスの営業時間は何時から何時までですか？",                             // Japanese
	}
	qv, err := e.Embed(queries, true)
	if err != nil {
		log.Fatal(err)
	}
	results, err := idx.SearchBatch(qv, 3)
	if err != nil {
		log.Fatal(err)
	}
	for i, hits := range results {
		fmt.Printf("\n%q\n", queries[i])
		for _, h := range hits {
			fmt.Printf("  %.3f  %s\n", h.Score, docs[h.ID])
		}
	}

	// One Embedder, four goroutines embedding a share of the documents each.
	const workers = 4
	var wg sync.WaitGroup
	worst := make([]float64, workers)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			worst[w] = 1
			for i := w; i < len(docs); i += workers {
				v, err := e.Embed([]string{docs[i]}, true)
				if err != nil {
					errs[w] = err
					return
				}
				worst[w] = math.Min(worst[w], cosine(v[0], vecs[i]))
			}
		}(w)
	}
	wg.Wait()
	minCos := 1.0
	for w := range worst {
		if errs[w] != nil {
			log.Fatal(errs[w])
		}
		minCos = math.Min(minCos, worst[w])
	}
	fmt.Printf("\n%d goroutines re-embedded the %d documents concurrently: min cosine with the batch %.6f\n",
		workers, len(docs), minCos)
}
