package cli

import (
	"context"
	"errors"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// readStats is what reading an account cost and how old its credential report was.
type readStats struct {
	Calls     int
	ReportAge time.Duration
}

// accountReader reads one account's inventory with the SDK configuration opts select.
type accountReader func(ctx context.Context, opts awsx.Options) (*audit.Inventory, readStats, error)

// auditDeps are what `keywarden audit` needs beyond the process streams:
// the account reader and the clock, both fixed in tests.
type auditDeps struct {
	read accountReader
	now  func() time.Time
}

func defaultAuditDeps() auditDeps { return auditDeps{read: readAccount, now: time.Now} }

// readAccount is the real reader: awsx.ReadAccount over the SDK's configuration.
func readAccount(ctx context.Context, opts awsx.Options) (*audit.Inventory, readStats, error) {
	cfg, err := awsx.Load(ctx, opts)
	if err != nil {
		return nil, readStats{}, err
	}
	inv, st, err := awsx.ReadAccount(ctx, cfg)
	if err != nil {
		return nil, readStats{}, err
	}
	return inv, readStats{Calls: st.Total, ReportAge: st.ReportAge}, nil
}

// isAccessDenied reports whether err is a denied read (it names the missing actions).
func isAccessDenied(err error) bool { return errors.Is(err, awsx.ErrAccessDenied) }
