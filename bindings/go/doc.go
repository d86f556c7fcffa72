// Package gaia is the Go binding of libgaia, Gaia's embedded compute library, over cgo.
//
// It links libgaia.a statically (built by `make lib` at the repository root into
// target/gaia/lib), so programs need no shared library at run time.
//
// # Errors
//
// Every failure is a *Error carrying the library's status code and message; compare with
// errors.Is against the sentinels (ErrNotFound, ErrInvalidArgument, ...). The message is
// read inside the same cgo call as the failing function, because a goroutine may move to
// another OS thread between two cgo calls and libgaia's last error is per thread.
//
// # Thread safety
//
// A *Bandit may be shared by any number of goroutines: libgaia locks each handle, and the
// binding guards Close against concurrent use. Close is idempotent; a finalizer frees a
// forgotten handle, but call Close (or defer it) to release memory promptly.
//
// # Versions
//
// The binding is written for ABI version 1 (GAIA_ABI_VERSION). It references the symbol
// gaia_abi_v1, so it does not link against a library of another ABI, and checks
// gaia_abi_version() at start-up: on a mismatch every constructor returns an error.
package gaia
