package fault_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/keywarden/keywarden/internal/fault"
)

func TestAtIsSilentUntilATestSetsIt(t *testing.T) {
	if err := fault.At("fsync x"); err != nil {
		t.Fatalf("At with no hook: %v", err)
	}
	s := &fault.Script{N: 2}
	fault.Set(t, s.Step)
	if err := fault.At("fsync x"); err != nil {
		t.Fatalf("step 1: %v", err)
	}
	if err := fault.At("rename x"); !errors.Is(err, fault.ErrInjected) {
		t.Fatalf("step 2: want ErrInjected, got %v", err)
	}
	if got := s.Steps(); !slices.Equal(got, []string{"fsync x", "rename x"}) {
		t.Errorf("steps %v", got)
	}
}

func TestRunRecoversAKillOnly(t *testing.T) {
	s := &fault.Script{N: 1, Kill: true}
	fault.Set(t, s.Step)
	ran := false
	killed, err := fault.Run(func() error {
		fault.At("journal commit")
		ran = true
		return nil
	})
	if !killed || err != nil || ran {
		t.Fatalf("killed %v, err %v, went on after the kill: %v", killed, err, ran)
	}
	defer func() {
		if recover() == nil {
			t.Error("another panic must go through")
		}
	}()
	fault.Run(func() error { panic("other") })
}

// Around fails before the call at its first step (the call never runs) and
// after it at its second (the call ran: its effect stands, the error is the
// injected one).
func TestAroundFailsOnEitherSideOfTheCall(t *testing.T) {
	for n, wantRan := range map[int]bool{1: false, 2: true} {
		ran := false
		s := &fault.Script{N: n}
		_, err := fault.Around(s, "iam CreateUser", func() (int, error) { ran = true; return 1, nil })
		if !errors.Is(err, fault.ErrInjected) || ran != wantRan {
			t.Errorf("N=%d: err %v, call ran %v; want fault.ErrInjected and ran %v", n, err, ran, wantRan)
		}
	}
	if v, err := fault.Around(&fault.Script{}, "x", func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("no fault: %d, %v", v, err)
	}
}
