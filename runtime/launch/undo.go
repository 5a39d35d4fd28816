package launch

import "errors"

// undoStack holds the inverse of every setup step, run last-in first-out.
type undoStack struct{ fns []func() error }

func (u *undoStack) push(f func() error) { u.fns = append(u.fns, f) }

func (u *undoStack) run() error {
	var all []error
	for i := len(u.fns) - 1; i >= 0; i-- {
		if err := u.fns[i](); err != nil {
			all = append(all, err)
		}
	}
	u.fns = nil
	return errors.Join(all...)
}
