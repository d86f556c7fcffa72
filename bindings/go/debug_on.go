//go:build gaiadebug

package gaia

import "runtime"

// debugGC forces a garbage collection before every C call (-tags gaiadebug), so a missing
// runtime.KeepAlive or a finalizer that frees a handle still in use shows up in tests.
func debugGC() { runtime.GC() }
