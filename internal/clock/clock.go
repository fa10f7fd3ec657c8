// Package clock is waiting that a context can cut short: the one sleep the
// audit's report polling, watch's sink retries and a drill's detection wait
// share.
package clock

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done, whichever comes first; it returns
// ctx's error when ctx ended the wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
