package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/rotate"
)

// rotateConfig runs every rotation of --config. Flags give the defaults the
// file does not set; one failing entry does not stop the others.
func (s *rotateSession) rotateConfig(ctx context.Context) error {
	cfg, err := rotate.LoadConfig(s.opts.config)
	if err != nil {
		return usageErr(err)
	}
	var failed []string
	for _, e := range cfg.Entries {
		job := rotateJob{profile: e.Profile, user: e.User, keyID: e.KeyID, to: e.To,
			grace: s.opts.grace, ifOlderThan: s.opts.ifOlderThan}
		if e.GraceSet {
			job.grace = e.Grace
		}
		if e.MaxAge > 0 {
			job.ifOlderThan = e.MaxAge
		}
		what := "profile " + e.Profile
		if e.User != "" {
			what = "user " + e.User
			err = s.rotateUser(ctx, job)
		} else {
			err = s.rotateProfile(ctx, job)
		}
		if err != nil {
			fmt.Fprintf(s.deps.Stderr, "error: %s:%d: %s: %v\n", s.opts.config, e.Line, what, err)
			failed = append(failed, what)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d rotations of %s failed: %s", len(failed), len(cfg.Entries), s.opts.config, strings.Join(failed, ", "))
	}
	return nil
}
