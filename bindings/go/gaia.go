package gaia

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/../../target/gaia/lib/libgaia.a -lm -ldl -lpthread
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// ABIVersionWanted is the libgaia ABI this binding is written for (GAIA_ABI_VERSION).
const ABIVersionWanted = 1

var abiErr = checkABI()

func checkABI() error {
	if got := uint32(C.gaia_abi_version()); got != ABIVersionWanted || uint32(C.go_gaia_abi_symbol()) != ABIVersionWanted {
		return &Error{Code: StatusInvalidState, Msg: fmt.Sprintf("libgaia ABI %d, but this binding needs ABI %d", got, ABIVersionWanted)}
	}
	return nil
}

// Version is the linked library's semantic version, e.g. "0.1.0".
func Version() string { return C.GoString(C.gaia_version()) }

// ABIVersion is the linked library's ABI version (1 for this binding).
func ABIVersion() uint32 { return uint32(C.gaia_abi_version()) }

// fail turns a status and the message copied by a shim into a *Error, freeing the copy.
func fail(st C.gaia_status, msg *C.char) error {
	if st == C.GAIA_OK {
		return nil
	}
	e := &Error{Code: Status(st)}
	if msg != nil {
		e.Msg = C.GoString(msg)
		C.free(unsafe.Pointer(msg))
	}
	return e
}

// takeString copies a library-owned string into Go and frees it.
func takeString(s *C.char) string {
	out := C.GoString(s)
	C.gaia_string_free(s)
	return out
}

// cString refuses strings with NUL bytes (C would silently truncate them) and copies the
// rest into C memory that the caller frees.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: StatusInvalidArgument, Msg: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// testPanic calls gaia_test_panic, for tests of the panic barrier.
func testPanic() error {
	var msg *C.char
	st := C.go_gaia_test_panic(&msg)
	return fail(st, msg)
}
