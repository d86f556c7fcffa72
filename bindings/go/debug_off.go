//go:build !gaiadebug

package gaia

// debugGC is a no-op; build with -tags gaiadebug to force a collection before every C call.
func debugGC() {}
