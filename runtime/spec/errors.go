package spec

import (
	"errors"
	"fmt"
)

// inputError describes a bad value the user typed. The exported parsers
// label it generically ("size"); FromOptions relabels it with the flag the
// value came from ("--memory") so the message tells the user what to fix.
type inputError struct {
	what  string // the flag or kind of value, e.g. "--memory" or "size"
	value string
	why   string // what is wrong and what is wanted
}

func (e *inputError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.what, e.value, e.why)
}

func invalid(what, value, why string) error {
	return &inputError{what: what, value: value, why: why}
}

// forFlag relabels an inputError with the flag name; other errors pass
// through unchanged because they already carry their own context.
func forFlag(flag string, err error) error {
	var ie *inputError
	if errors.As(err, &ie) {
		relabelled := *ie
		relabelled.what = flag
		return &relabelled
	}
	return err
}
