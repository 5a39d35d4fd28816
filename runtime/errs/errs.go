// Package errs carries process exit codes through ordinary Go errors, so that
// only main decides to exit and every layer can still say which code applies.
package errs

import (
	"errors"
	"fmt"
)

// Exit codes shared with docker and podman, so scripts written for them work.
const (
	// Runtime is any failure of llcr itself (bad input, setup failure).
	Runtime = 125
	// CannotExec means the command exists but could not be executed.
	CannotExec = 126
	// NotFound means the command does not exist in the container.
	NotFound = 127
)

// ExitError is an error that also says which exit code the process should end with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// WithCode attaches an exit code to err (nil stays nil).
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// Status is a silent exit status: the container's own exit code, passed through.
// Its Err is nil, so main prints nothing for it.
func Status(code int) error { return &ExitError{Code: code} }

// Code is the exit code err asks for: 0 for nil, the attached code, else Runtime.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return Runtime
}

// Silent reports whether err only carries a status and has nothing to print.
func Silent(err error) bool {
	var e *ExitError
	return errors.As(err, &e) && e.Err == nil
}
