// Package fault is the seam through which tests fail or kill a journaled
// verb at a named step: every journal commit (state), every fsync and rename
// of a file written atomically (atomicfile), every backup a rotation writes
// or removes. The code calls At just before the step; outside a test binary
// nothing can set the hook, so At returns nil. AWS calls are faulted by the
// in-memory IAM's own hooks (iamfake's Fail and FailAfter), which a test
// points at the same Script, so one run counts every step in one sequence.
package fault

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

var hook atomic.Pointer[func(step string) error]

// At reports the step the caller is about to take (a short name such as
// "fsync credentials") and returns the error a test injected there, else
// nil. A test's hook may also panic with Killed to stand for the process
// dying at that point: nothing after it runs but deferred functions.
func At(step string) error {
	if h := hook.Load(); h != nil {
		return (*h)(step)
	}
	return nil
}

// Set makes h answer At until t ends (or the next Set; nil: none). Only a test can
// call it (it takes the test's testing.TB, and refuses outside a test
// binary); tests that set it must not run in parallel with each other.
func Set(t testing.TB, h func(step string) error) {
	t.Helper()
	if !testing.Testing() {
		panic("fault.Set outside a test binary")
	}
	if h == nil {
		hook.Store(nil)
		return
	}
	hook.Store(&h)
	t.Cleanup(func() { hook.Store(nil) })
}

// ErrInjected is the error a Script's failing step returns.
var ErrInjected = errors.New("fault: injected failure")

// Killed is what a Script panics with when it kills a run; Run recovers it.
var Killed = errors.New("fault: killed here")

// Script faults one step of a run: it counts the steps the run reaches and
// makes the N-th (from 1) fail with ErrInjected or, with Kill, panic with
// Killed. N = 0 faults nothing and only records the steps, which is how a
// test learns the steps to enumerate.
type Script struct {
	N    int
	Kill bool

	steps []string
}

// Step is the hook: give it to Set and to iamfake's Fail (and, naming the
// step "after", to FailAfter).
func (s *Script) Step(step string) error {
	s.steps = append(s.steps, step)
	if len(s.steps) != s.N {
		return nil
	}
	if s.Kill {
		panic(Killed)
	}
	return fmt.Errorf("%s: %w", step, ErrInjected)
}

// After is Step for a step that has just taken effect (iamfake's FailAfter).
func (s *Script) After(step string) error { return s.Step(step + " (after)") }

// Steps lists the steps reached so far, in order.
func (s *Script) Steps() []string { return s.steps }

// Run runs fn and recovers a kill, as the next process would find things:
// killed says the script killed fn; err is fn's error otherwise.
func Run(fn func() error) (killed bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != Killed {
				panic(r)
			}
			killed = true
		}
	}()
	return false, fn()
}

// Around runs call between two steps of s: "name" before it and "name
// (after)" once it took effect, so a test fails or kills a run on either
// side of an adapter's call. Fault tests wrap each adapter method in it.
func Around[T any](s *Script, name string, call func() (T, error)) (T, error) {
	var zero T
	if err := s.Step(name); err != nil {
		return zero, err
	}
	v, err := call()
	if err == nil {
		if err := s.After(name); err != nil {
			return zero, err
		}
	}
	return v, err
}
