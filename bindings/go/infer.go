package gaia

/*
#include "shim.h"

// Shims of the infer functions (gaia_embedder_*, gaia_similarity, gaia_index_*): as those
// of shim.h, each copies the thread's last error inside the same cgo call.

static inline gaia_status go_embedder_open(const char *dir, const char *opts, gaia_embedder **out, char **err) {
	gaia_status st = gaia_embedder_open(dir, opts, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_embedder_dim(const gaia_embedder *e, size_t *out, char **err) {
	gaia_status st = gaia_embedder_dim(e, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_embedder_info_json(const gaia_embedder *e, char **out, char **err) {
	gaia_status st = gaia_embedder_info_json(e, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_embedder_embed(const gaia_embedder *e, char **texts, const size_t *lens, size_t count,
		uint32_t flags, float *out, size_t out_len, char **err) {
	gaia_status st = gaia_embedder_embed(e, (const char *const *)texts, lens, count, flags, out, out_len);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_embedder_count_tokens(const gaia_embedder *e, char **texts, const size_t *lens,
		size_t count, size_t *out, char **err) {
	gaia_status st = gaia_embedder_count_tokens(e, (const char *const *)texts, lens, count, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_embedder_tokenize(const gaia_embedder *e, const char *text, size_t len,
		uint32_t *ids, size_t cap, size_t *count, char **err) {
	gaia_status st = gaia_embedder_tokenize(e, text, len, ids, cap, count);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_similarity(const float *a, size_t na, const float *b, size_t nb, size_t dim,
		uint32_t metric, float *out, size_t out_len, char **err) {
	gaia_status st = gaia_similarity(a, na, b, nb, dim, metric, out, out_len);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_new(const char *json, gaia_index **out, char **err) {
	gaia_status st = gaia_index_new(json, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_load(const char *path, size_t dim, gaia_index **out, char **err) {
	gaia_status st = gaia_index_load(path, dim, out);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_save(const gaia_index *x, const char *path, char **err) {
	gaia_status st = gaia_index_save(x, path);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_add(gaia_index *x, const uint64_t *ids, size_t count, const float *v,
		size_t v_len, char **err) {
	gaia_status st = gaia_index_add(x, ids, count, v, v_len);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_set_threads(gaia_index *x, size_t threads, char **err) {
	gaia_status st = gaia_index_set_threads(x, threads);
	*err = go_gaia_error(st);
	return st;
}
static inline gaia_status go_index_remove(gaia_index *x, const uint64_t *ids, size_t count, char **err) {
	gaia_status st = gaia_index_remove(x, ids, count);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_len(const gaia_index *x, size_t *len, size_t *dim, char **err) {
	gaia_status st = gaia_index_len(x, len, dim);
	*err = go_gaia_error(st);
	return st;
}

static inline gaia_status go_index_search(const gaia_index *x, const float *q, size_t q_len, size_t k,
		uint64_t *ids, float *scores, size_t cap, size_t *found, char **err) {
	gaia_status st = gaia_index_search(x, q, q_len, k, ids, scores, cap, found);
	*err = go_gaia_error(st);
	return st;
}
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Embedder is a loaded sentence-embedding model (gaia_embedder): a sentence-transformers
// folder such as all-MiniLM-L6-v2 turned into an encoder that maps texts to vectors.
//
// An Embedder is safe for concurrent use by many goroutines: the library runs any number
// of calls on one handle at once, without a lock, and Close waits for calls in flight.
// Close releases it.
type Embedder struct {
	mu  sync.RWMutex // write-held to close, read-held for every other call
	ptr *C.gaia_embedder
	dim int
}

// EmbedderOptions tune OpenEmbedder; the zero value (or nil) keeps every default.
type EmbedderOptions struct {
	// Threads is how many threads one Embed call uses (1 to 256); 0 means the default, 1.
	// Many goroutines calling Embed at once is usually the better way to use cores.
	Threads int
	// MaxTokensPerBatch caps the tokens of one forward pass (16 to 4194304, at least the
	// model's max length); 0 means the default, 8192. Larger batches are split.
	MaxTokensPerBatch int
	// MaxLength overrides the model's longest sequence in tokens (2 to the encoder's
	// positions); longer texts are truncated. 0 keeps the model's own (256 for MiniLM).
	MaxLength int
	// NoCache loads the model afresh instead of sharing the process-wide copy of the
	// same folder (the cache makes a second OpenEmbedder cost microseconds).
	NoCache bool
}

// optionsJSON is the options JSON of gaia_embedder_open; only the fields set are sent.
func (o *EmbedderOptions) optionsJSON() (string, error) {
	m := map[string]any{}
	if o.Threads != 0 {
		m["threads"] = o.Threads
	}
	if o.MaxTokensPerBatch != 0 {
		m["max_tokens_per_batch"] = o.MaxTokensPerBatch
	}
	if o.MaxLength != 0 {
		m["max_length"] = o.MaxLength
	}
	if o.NoCache {
		m["cache"] = false
	}
	text, err := json.Marshal(m)
	if err != nil {
		return "", &Error{Code: StatusInvalidConfig, Msg: "embedder options: " + err.Error()}
	}
	return string(text), nil
}

// EmbedderInfo holds facts about a loaded model, as Embedder.Info reports them.
type EmbedderInfo struct {
	Dim           int    `json:"dim"`            // embedding dimension (384 for MiniLM-L6)
	MaxLength     int    `json:"max_length"`     // tokens kept per text; longer texts are truncated
	Pooling       string `json:"pooling"`        // pooling mode, e.g. "mean"
	Normalizes    bool   `json:"normalizes"`     // whether the model's pipeline L2-normalises
	VocabSize     int    `json:"vocab_size"`     // tokenizer vocabulary size
	Layers        int    `json:"layers"`         // transformer layers
	Threads       int    `json:"threads"`        // threads per Embed call
	Path          string `json:"path"`           // the model folder (canonical)
	WeightsSHA256 string `json:"weights_sha256"` // SHA-256 of model.safetensors, hex
}

// OpenEmbedder opens the sentence-transformers model in the folder modelDir (config.json,
// tokenizer.json, model.safetensors, optional 1_Pooling/config.json,
// sentence_bert_config.json, modules.json; BERT-family encoders). opts may be nil.
// Errors: ErrNotFound (folder or file missing, named), ErrCorruptState (a damaged file),
// ErrInvalidConfig (unsupported architecture, option out of range), ErrInvalidJSON.
func OpenEmbedder(modelDir string, opts *EmbedderOptions) (*Embedder, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	cdir, err := cString(modelDir, "model_dir")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	var copts *C.char
	if opts != nil {
		text, err := opts.optionsJSON()
		if err != nil {
			return nil, err
		}
		copts = C.CString(text)
		defer C.free(unsafe.Pointer(copts))
	}
	var ptr *C.gaia_embedder
	var msg *C.char
	if err := fail(C.go_embedder_open(cdir, copts, &ptr, &msg), msg); err != nil {
		return nil, err
	}
	var dim C.size_t
	if err := fail(C.go_embedder_dim(ptr, &dim, &msg), msg); err != nil {
		C.gaia_embedder_free(ptr)
		return nil, err
	}
	e := &Embedder{ptr: ptr, dim: int(dim)}
	runtime.SetFinalizer(e, (*Embedder).Close)
	return e, nil
}

// Close frees the embedder (the process-wide cache keeps the model for the next
// OpenEmbedder). It is idempotent and safe to call while other goroutines use the
// embedder: it waits for their calls in flight, and later calls get ErrInvalidHandle.
func (e *Embedder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr != nil {
		C.gaia_embedder_free(e.ptr)
		e.ptr = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

var errEmbedderClosed = &Error{Code: StatusInvalidHandle, Msg: "embedder is closed"}

// live reports errEmbedderClosed after Close; the caller holds mu.
func (e *Embedder) live() error {
	debugGC()
	if e.ptr == nil {
		return errEmbedderClosed
	}
	return nil
}

// Dim is the embedding dimension: the length of every vector Embed returns (384 for
// all-MiniLM-L6-v2). It stays valid after Close.
func (e *Embedder) Dim() int { return e.dim }

// Info returns facts about the model. The first call hashes the weights file (tens of
// milliseconds for MiniLM); later calls are instant.
func (e *Embedder) Info() (EmbedderInfo, error) {
	var info EmbedderInfo
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := e.live(); err != nil {
		return info, err
	}
	var out, msg *C.char
	st := C.go_embedder_info_json(e.ptr, &out, &msg)
	runtime.KeepAlive(e)
	if err := fail(st, msg); err != nil {
		return info, err
	}
	if err := json.Unmarshal([]byte(takeString(out)), &info); err != nil {
		return info, &Error{Code: StatusCorruptState, Msg: "embedder info: " + err.Error()}
	}
	return info, nil
}

// cTexts lays a batch of Go strings out for libgaia without copying their bytes: a
// pointer and a length per text, each string's memory pinned until unpin (the pointer
// array is Go memory handed to C, so every Go pointer in it must be pinned).
type cTexts struct {
	pin  runtime.Pinner
	ptrs []*C.char
	lens []C.size_t
}

func newCTexts(texts []string) *cTexts {
	t := &cTexts{ptrs: make([]*C.char, len(texts)), lens: make([]C.size_t, len(texts))}
	for i, s := range texts {
		if len(s) == 0 {
			continue // NULL with length 0: the library reads nothing
		}
		p := unsafe.StringData(s)
		t.pin.Pin(p)
		t.ptrs[i] = (*C.char)(unsafe.Pointer(p))
		t.lens[i] = C.size_t(len(s))
	}
	return t
}

// args returns the arrays for C (NULL for an empty batch).
func (t *cTexts) args() (**C.char, *C.size_t) {
	if len(t.ptrs) == 0 {
		return nil, nil
	}
	return &t.ptrs[0], &t.lens[0]
}

func (t *cTexts) unpin() { t.pin.Unpin() }

// Embed returns one vector of Dim floats per text, in order; L2-normalised when normalize
// is true (what sentence-transformers returns for all-MiniLM-L6-v2, whose pipeline ends
// in a Normalize module). Texts are UTF-8 and may contain any byte, NUL included; texts
// longer than the model's max length are truncated (see CountTokens to chunk instead).
// Every row shares one backing array. Errors: ErrInvalidArgument (no texts),
// ErrInvalidUTF8 (naming the text's index and the offset).
func (e *Embedder) Embed(texts []string, normalize bool) ([][]float32, error) {
	dim := e.dim
	flat := make([]float32, len(texts)*dim)
	if err := e.EmbedInto(texts, normalize, flat); err != nil {
		return nil, err
	}
	rows := make([][]float32, len(texts))
	for i := range rows {
		rows[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return rows, nil
}

// EmbedInto is Embed writing into out, row after row (row i, Dim floats, at out[i*Dim:]);
// out must hold at least len(texts)*Dim floats. On error out is untouched. Errors: as
// Embed, and ErrBufferTooSmall (naming the size needed).
func (e *Embedder) EmbedInto(texts []string, normalize bool, out []float32) error {
	// Checked here as well as in the library, which (in this version) reports a buffer too
	// small as GAIA_ERR_INVALID_ARGUMENT although gaia.h documents
	// GAIA_ERR_BUFFER_TOO_SMALL; the message is the library's.
	if need := len(texts) * e.dim; len(texts) > 0 && len(out) < need {
		return &Error{Code: StatusBufferTooSmall, Msg: fmt.Sprintf(
			"output buffer holds %d floats, %d are needed (%d texts x %d dimensions)", len(out), need, len(texts), e.dim)}
	}
	var flags C.uint32_t
	if normalize {
		flags = C.GAIA_EMBED_NORMALIZE
	}
	ct := newCTexts(texts)
	defer ct.unpin()
	ptrs, lens := ct.args()
	// An empty out still gets a valid pointer, so that the library reports what is wrong
	// (no texts, a buffer too small) rather than a NULL pointer.
	var none C.float
	outPtr := &none
	if len(out) > 0 {
		outPtr = (*C.float)(unsafe.Pointer(&out[0]))
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := e.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_embedder_embed(e.ptr, ptrs, lens, C.size_t(len(texts)), flags, outPtr, C.size_t(len(out)), &msg)
	runtime.KeepAlive(e)
	runtime.KeepAlive(ct)
	return fail(st, msg)
}

// CountTokens returns each text's token count ([CLS] and [SEP] included) before
// truncation: compare it with the model's max length (EmbedderInfo.MaxLength) to decide
// where to chunk long documents. Errors: ErrInvalidUTF8 (naming the text).
func (e *Embedder) CountTokens(texts []string) ([]int, error) {
	ct := newCTexts(texts)
	defer ct.unpin()
	ptrs, lens := ct.args()
	counts := make([]C.size_t, len(texts)+1) // never empty: out_counts must not be NULL
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := e.live(); err != nil {
		return nil, err
	}
	var msg *C.char
	st := C.go_embedder_count_tokens(e.ptr, ptrs, lens, C.size_t(len(texts)), &counts[0], &msg)
	runtime.KeepAlive(e)
	runtime.KeepAlive(ct)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	out := make([]int, len(texts))
	for i := range out {
		out[i] = int(counts[i])
	}
	return out, nil
}

// Tokenize returns the token ids the encoder sees for text ([CLS] first, [SEP] last),
// truncated to the model's max length. Errors: ErrInvalidUTF8.
func (e *Embedder) Tokenize(text string) ([]uint32, error) {
	var data *C.char
	if len(text) > 0 {
		data = (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := e.live(); err != nil {
		return nil, err
	}
	// A guess large enough for most texts; the library tells the size when it is not.
	ids := make([]C.uint32_t, min(len(text)+2, 512))
	for {
		var n C.size_t
		var msg *C.char
		st := C.go_embedder_tokenize(e.ptr, data, C.size_t(len(text)), &ids[0], C.size_t(len(ids)), &n, &msg)
		runtime.KeepAlive(e)
		runtime.KeepAlive(text)
		if st == C.GAIA_ERR_BUFFER_TOO_SMALL && int(n) > len(ids) {
			C.free(unsafe.Pointer(msg))
			ids = make([]C.uint32_t, int(n))
			continue
		}
		if err := fail(st, msg); err != nil {
			return nil, err
		}
		out := make([]uint32, int(n))
		for i := range out {
			out[i] = uint32(ids[i])
		}
		return out, nil
	}
}

// Metric is a similarity measure between vectors.
type Metric uint32

// The metrics of Similarity (GAIA_SIMILARITY_*); their String is the name IndexOptions
// takes.
const (
	MetricCosine Metric = C.GAIA_SIMILARITY_COSINE // cosine of the angle, in [-1, 1]
	MetricDot    Metric = C.GAIA_SIMILARITY_DOT    // dot product (cosine for normalised vectors)
)

// String is the metric's name as IndexOptions.Metric takes it: "cosine" or "dot".
func (m Metric) String() string {
	switch m {
	case MetricCosine:
		return "cosine"
	case MetricDot:
		return "dot"
	}
	return fmt.Sprintf("Metric(%d)", uint32(m))
}

// flatten copies rows of dim floats each into one array; what names the argument in the
// error for a row of another length.
func flatten(rows [][]float32, dim int, what string) ([]float32, error) {
	flat := make([]float32, 0, len(rows)*dim)
	for i, r := range rows {
		if len(r) != dim {
			return nil, &Error{Code: StatusInvalidArgument,
				Msg: fmt.Sprintf("%s[%d]: expected %d dimensions, got %d", what, i, dim, len(r))}
		}
		flat = append(flat, r...)
	}
	return flat, nil
}

// floatPtr is a pointer to v's first float, or NULL when v is empty.
func floatPtr(v []float32) *C.float {
	if len(v) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&v[0]))
}

// Similarity returns the similarity of every row of a with every row of b: out[i][j]
// compares a[i] with b[j]. Every row must have the same length. Errors:
// ErrInvalidArgument (rows of different lengths, zero dimensions, NaN, unknown metric).
func Similarity(a, b [][]float32, metric Metric) ([][]float32, error) {
	dim := 0
	if len(a) > 0 {
		dim = len(a[0])
	} else if len(b) > 0 {
		dim = len(b[0])
	}
	fa, err := flatten(a, dim, "a")
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b, dim, "b")
	if err != nil {
		return nil, err
	}
	flat, err := SimilarityFlat(fa, fb, dim, metric)
	if err != nil {
		return nil, err
	}
	nb := len(b)
	out := make([][]float32, len(a))
	for i := range out {
		out[i] = flat[i*nb : (i+1)*nb : (i+1)*nb]
	}
	return out, nil
}

// SimilarityFlat is Similarity on row-major arrays of dim floats per row: it returns
// len(a)/dim x len(b)/dim similarities, row-major. Errors: as Similarity, and
// ErrInvalidArgument when a length is not a multiple of dim.
func SimilarityFlat(a, b []float32, dim int, metric Metric) ([]float32, error) {
	if dim <= 0 || len(a)%dim != 0 || len(b)%dim != 0 {
		return nil, &Error{Code: StatusInvalidArgument,
			Msg: fmt.Sprintf("similarity: %d and %d floats are not rows of %d dimensions", len(a), len(b), dim)}
	}
	debugGC()
	na, nb := len(a)/dim, len(b)/dim
	out := make([]float32, na*nb)
	var none C.float
	outPtr := &none
	if len(out) > 0 {
		outPtr = (*C.float)(unsafe.Pointer(&out[0]))
	}
	var msg *C.char
	st := C.go_similarity(floatPtr(a), C.size_t(na), floatPtr(b), C.size_t(nb), C.size_t(dim),
		C.uint32_t(metric), outPtr, C.size_t(len(out)), &msg)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	return out, nil
}

// Index is an in-memory vector index with exact top-k search (gaia_index), saved to and
// loaded from a file. Vectors are identified by caller-chosen uint64 ids.
//
// An Index is safe for concurrent use by many goroutines: searches run in parallel, Add
// and Remove take the index exclusively (the library locks it), and Close waits for calls
// in flight. Close releases it.
type Index struct {
	mu  sync.RWMutex // write-held to close, read-held for every other call
	ptr *C.gaia_index
	dim int
}

// IndexOptions configure NewIndex; only Dim is required.
type IndexOptions struct {
	// Dim is the vector dimension (1 to 65536), e.g. Embedder.Dim().
	Dim int `json:"dim"`
	// Metric ranks results: "cosine" (the default) or "dot", as MetricCosine.String() and
	// MetricDot.String() spell them.
	Metric string `json:"metric,omitempty"`
	// Storage is how rows are kept for the scan: "f32" (the default, exact), "f16" (half
	// the memory) or "int8" (a quarter, quantised per row).
	Storage string `json:"storage,omitempty"`
	// Rescore, with f16 or int8 storage, keeps the f32 rows too and rescores the best
	// candidates exactly; nil means the default, true.
	Rescore *bool `json:"rescore,omitempty"`
	// Oversample is how many candidates per wanted result are rescored (1 to 64); 0
	// means the default, 4.
	Oversample int `json:"oversample,omitempty"`
	// Threads is how many threads one Search may scan with (1 to 256); 0 means the
	// default, 1. See SetThreads.
	Threads int `json:"threads,omitempty"`
}

// Hit is one search result: a vector's id and its similarity to the query.
type Hit struct {
	ID    uint64  // the id the vector was added under
	Score float32 // its similarity to the query under the index's metric (higher is closer)
}

// NewIndex creates an empty index. Errors: ErrInvalidConfig (naming the option),
// ErrInvalidJSON (an unknown metric or storage name).
func NewIndex(opts IndexOptions) (*Index, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	text, err := json.Marshal(opts)
	if err != nil {
		return nil, &Error{Code: StatusInvalidConfig, Msg: "index options: " + err.Error()}
	}
	ctext, err := cString(string(text), "options_json")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctext))
	var ptr *C.gaia_index
	var msg *C.char
	if err := fail(C.go_index_new(ctext, &ptr, &msg), msg); err != nil {
		return nil, err
	}
	return wrapIndex(ptr)
}

// LoadIndex reads an index file written by Save. expectedDim 0 accepts any dimension;
// otherwise a file of another dimension is refused with ErrInvalidArgument. Errors:
// ErrNotFound, ErrCorruptState (not an index file, truncated, modified),
// ErrUnsupportedVersion, ErrIO.
func LoadIndex(path string, expectedDim int) (*Index, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	if expectedDim < 0 {
		return nil, &Error{Code: StatusInvalidArgument, Msg: fmt.Sprintf("expected dimension %d is negative", expectedDim)}
	}
	cpath, err := cString(path, "path")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cpath))
	var ptr *C.gaia_index
	var msg *C.char
	if err := fail(C.go_index_load(cpath, C.size_t(expectedDim), &ptr, &msg), msg); err != nil {
		return nil, err
	}
	return wrapIndex(ptr)
}

func wrapIndex(ptr *C.gaia_index) (*Index, error) {
	var dim C.size_t
	var msg *C.char
	if err := fail(C.go_index_len(ptr, nil, &dim, &msg), msg); err != nil {
		C.gaia_index_free(ptr)
		return nil, err
	}
	x := &Index{ptr: ptr, dim: int(dim)}
	runtime.SetFinalizer(x, (*Index).Close)
	return x, nil
}

// Close frees the index. It is idempotent and safe to call while other goroutines use
// the index: it waits for their calls in flight, and later calls get ErrInvalidHandle.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ptr != nil {
		C.gaia_index_free(x.ptr)
		x.ptr = nil
		runtime.SetFinalizer(x, nil)
	}
	return nil
}

var errIndexClosed = &Error{Code: StatusInvalidHandle, Msg: "index is closed"}

// live reports errIndexClosed after Close; the caller holds mu.
func (x *Index) live() error {
	debugGC()
	if x.ptr == nil {
		return errIndexClosed
	}
	return nil
}

// Dim is the index's vector dimension. It stays valid after Close.
func (x *Index) Dim() int { return x.dim }

// Len is the number of vectors in the index (0 after Close).
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live() != nil {
		return 0
	}
	var n C.size_t
	var msg *C.char
	st := C.go_index_len(x.ptr, &n, nil, &msg)
	runtime.KeepAlive(x)
	if fail(st, msg) != nil {
		return 0
	}
	return int(n)
}

// Save writes the index to path atomically (a temporary file, fsync, rename). Errors:
// ErrIO.
func (x *Index) Save(path string) error {
	cpath, err := cString(path, "path")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := x.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_index_save(x.ptr, cpath, &msg)
	runtime.KeepAlive(x)
	return fail(st, msg)
}

// Add adds vectors[i] under ids[i], every vector of Dim floats. All or nothing: an id
// already present or repeated (ErrAlreadyExists), a vector of another length or holding
// a NaN or infinity (ErrInvalidArgument) adds nothing.
func (x *Index) Add(ids []uint64, vectors [][]float32) error {
	if len(ids) != len(vectors) {
		return &Error{Code: StatusInvalidArgument,
			Msg: fmt.Sprintf("add: %d ids for %d vectors", len(ids), len(vectors))}
	}
	flat, err := flatten(vectors, x.dim, "add: vectors")
	if err != nil {
		return err
	}
	var idPtr *C.uint64_t
	if len(ids) > 0 {
		idPtr = (*C.uint64_t)(unsafe.Pointer(&ids[0]))
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := x.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_index_add(x.ptr, idPtr, C.size_t(len(ids)), floatPtr(flat), C.size_t(len(flat)), &msg)
	runtime.KeepAlive(x)
	return fail(st, msg)
}

// Remove removes the vectors of ids. All or nothing: an id the index does not hold is
// ErrNotFound (named) and removes nothing.
// SetThreads sets how many threads one Search may scan with (1 to 256; default: the
// Threads option, 1 for a loaded index). A single query over a large index is bound by
// memory bandwidth, which several cores share out better than one; results are identical.
func (x *Index) SetThreads(threads int) error {
	if threads < 0 {
		return &Error{Code: Status(C.GAIA_ERR_INVALID_ARGUMENT), Msg: fmt.Sprintf("index threads: %d is outside 1..=256", threads)}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := x.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_index_set_threads(x.ptr, C.size_t(threads), &msg)
	runtime.KeepAlive(x)
	return fail(st, msg)
}

func (x *Index) Remove(ids ...uint64) error {
	var idPtr *C.uint64_t
	if len(ids) > 0 {
		idPtr = (*C.uint64_t)(unsafe.Pointer(&ids[0]))
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := x.live(); err != nil {
		return err
	}
	var msg *C.char
	st := C.go_index_remove(x.ptr, idPtr, C.size_t(len(ids)), &msg)
	runtime.KeepAlive(x)
	return fail(st, msg)
}

// Search returns the k vectors most similar to query (Dim floats), best first, ties by
// lower id; fewer when the index holds fewer. Errors: ErrInvalidArgument (k < 1, a query
// of another length or holding a NaN).
func (x *Index) Search(query []float32, k int) ([]Hit, error) {
	if len(query) != x.dim {
		return nil, &Error{Code: StatusInvalidArgument,
			Msg: fmt.Sprintf("query: expected %d dimensions, got %d", x.dim, len(query))}
	}
	hits, err := x.search(query, 1, k)
	if err != nil {
		return nil, err
	}
	return hits[0], nil
}

// SearchBatch is Search for several queries at once, much faster per query (the scan
// runs as matrix products): result i holds the hits of queries[i]. Errors: as Search,
// and ErrInvalidArgument for no queries.
func (x *Index) SearchBatch(queries [][]float32, k int) ([][]Hit, error) {
	flat, err := flatten(queries, x.dim, "queries")
	if err != nil {
		return nil, err
	}
	return x.search(flat, len(queries), k)
}

func (x *Index) search(queries []float32, nq, k int) ([][]Hit, error) {
	if k < 1 {
		return nil, &Error{Code: StatusInvalidArgument, Msg: fmt.Sprintf("search: k must be at least 1, got %d", k)}
	}
	if nq == 0 {
		return nil, &Error{Code: StatusInvalidArgument, Msg: "search: no queries"}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := x.live(); err != nil {
		return nil, err
	}
	// The output arrays hold nq*k results; a k beyond the index's size (read here, so a
	// concurrent Add may make it slightly stale) would only allocate empty slots.
	var n C.size_t
	var msg *C.char
	st := C.go_index_len(x.ptr, &n, nil, &msg)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	k = max(min(k, int(n)), 1)
	ids := make([]C.uint64_t, nq*k)
	scores := make([]C.float, nq*k)
	var found C.size_t
	st = C.go_index_search(x.ptr, floatPtr(queries), C.size_t(len(queries)), C.size_t(k),
		&ids[0], &scores[0], C.size_t(len(ids)), &found, &msg)
	runtime.KeepAlive(x)
	if err := fail(st, msg); err != nil {
		return nil, err
	}
	f := int(found)
	out := make([][]Hit, nq)
	for q := range out {
		hits := make([]Hit, f)
		for j := range hits {
			hits[j] = Hit{ID: uint64(ids[q*k+j]), Score: float32(scores[q*k+j])}
		}
		out[q] = hits
	}
	return out, nil
}
