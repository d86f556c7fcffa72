package gaia

import "fmt"

// Status is a libgaia status code (gaia_status). Values are stable across versions.
type Status int32

// The status codes of include/gaia.h.
const (
	StatusOK                 Status = 0
	StatusNullPointer        Status = 1
	StatusInvalidUTF8        Status = 2
	StatusPanic              Status = 3
	StatusCancelled          Status = 4
	StatusBufferTooSmall     Status = 5
	StatusInvalidHandle      Status = 6
	StatusInvalidJSON        Status = 7
	StatusInvalidConfig      Status = 8
	StatusInvalidArgument    Status = 9
	StatusNotFound           Status = 10
	StatusAlreadyExists      Status = 11
	StatusInvalidState       Status = 12
	StatusCorruptState       Status = 13
	StatusUnsupportedVersion Status = 14
	StatusIO                 Status = 15
)

var statusNames = map[Status]string{
	StatusOK: "GAIA_OK", StatusNullPointer: "GAIA_ERR_NULL_POINTER",
	StatusInvalidUTF8: "GAIA_ERR_INVALID_UTF8", StatusPanic: "GAIA_ERR_PANIC",
	StatusCancelled: "GAIA_ERR_CANCELLED", StatusBufferTooSmall: "GAIA_ERR_BUFFER_TOO_SMALL",
	StatusInvalidHandle: "GAIA_ERR_INVALID_HANDLE", StatusInvalidJSON: "GAIA_ERR_INVALID_JSON",
	StatusInvalidConfig: "GAIA_ERR_INVALID_CONFIG", StatusInvalidArgument: "GAIA_ERR_INVALID_ARGUMENT",
	StatusNotFound: "GAIA_ERR_NOT_FOUND", StatusAlreadyExists: "GAIA_ERR_ALREADY_EXISTS",
	StatusInvalidState: "GAIA_ERR_INVALID_STATE", StatusCorruptState: "GAIA_ERR_CORRUPT_STATE",
	StatusUnsupportedVersion: "GAIA_ERR_UNSUPPORTED_VERSION", StatusIO: "GAIA_ERR_IO",
}

// String is the C name of the status, e.g. "GAIA_ERR_NOT_FOUND".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("GAIA_UNKNOWN(%d)", int32(s))
}

// Error is a failed libgaia call: its status code and the library's message.
type Error struct {
	Code Status
	Msg  string
}

// Error returns "gaia: <message>".
func (e *Error) Error() string { return "gaia: " + e.Msg }

// Is makes errors.Is(err, ErrNotFound) and friends match on the status code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Code == e.Code
}

// Sentinels for errors.Is, one per status code.
var (
	ErrNullPointer        = &Error{Code: StatusNullPointer}
	ErrInvalidUTF8        = &Error{Code: StatusInvalidUTF8}
	ErrPanic              = &Error{Code: StatusPanic}
	ErrCancelled          = &Error{Code: StatusCancelled}
	ErrBufferTooSmall     = &Error{Code: StatusBufferTooSmall}
	ErrInvalidHandle      = &Error{Code: StatusInvalidHandle}
	ErrInvalidJSON        = &Error{Code: StatusInvalidJSON}
	ErrInvalidConfig      = &Error{Code: StatusInvalidConfig}
	ErrInvalidArgument    = &Error{Code: StatusInvalidArgument}
	ErrNotFound           = &Error{Code: StatusNotFound}
	ErrAlreadyExists      = &Error{Code: StatusAlreadyExists}
	ErrInvalidState       = &Error{Code: StatusInvalidState}
	ErrCorruptState       = &Error{Code: StatusCorruptState}
	ErrUnsupportedVersion = &Error{Code: StatusUnsupportedVersion}
	ErrIO                 = &Error{Code: StatusIO}
)
