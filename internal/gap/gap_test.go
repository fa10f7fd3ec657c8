package gap

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestOfKeepsAWrappedGapAndNamesOthers(t *testing.T) {
	cause := errors.New("truncated")
	err := fmt.Errorf("context: %w", New("a.tgz!b.env", cause))
	if got, want := Of("a.tgz", err), (Gap{Source: "a.tgz!b.env", Reason: "truncated"}); got != want {
		t.Errorf("Of(wrapped gap) = %+v, want %+v", got, want)
	}
	if !errors.Is(err, cause) || err.Error() != "context: a.tgz!b.env: truncated" {
		t.Errorf("the error %q lost its cause or its source", err)
	}
	if got := Of("repo", errors.New("repo is a shallow clone")); got != (Gap{Source: "repo", Reason: "repo is a shallow clone"}) {
		t.Errorf("Of(plain error) = %+v", got)
	}
}

func TestListKeepsEachGapOnceInOrder(t *testing.T) {
	var l List
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { l.Add(Gap{Source: "f", Reason: fmt.Sprint(i % 5)}) })
	}
	wg.Wait()
	if l.Len() != 5 || len(l.Gaps()) != 5 {
		t.Errorf("%d gaps, want 5 distinct: %v", l.Len(), l.Gaps())
	}
	if l.Add(Gap{Source: "f", Reason: "0"}) {
		t.Error("a gap seen before was added again")
	}
}
