package cli

import (
	"context"
	"errors"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awsx"
)

// readStats is what reading an account cost and how old its credential report was.
type readStats struct {
	Calls     int
	ReportAge time.Duration
}

// accountReader reads one account's inventory with the SDK configuration opts select.
type accountReader func(ctx context.Context, opts awsx.Options, read auditaws.Options) (*audit.Inventory, readStats, error)

// auditDeps are what `keywarden audit` needs beyond the process streams:
// the account reader and the clock, both fixed in tests.
type auditDeps struct {
	read    accountReader
	readOrg orgReader
	now     func() time.Time
}

// orgReader reads every account of the caller's organization (--org).
type orgReader func(ctx context.Context, opts awsx.Options, org auditaws.OrgOptions) ([]auditaws.AccountResult, error)

func defaultAuditDeps() auditDeps {
	return auditDeps{read: readAccount, readOrg: readOrganization, now: time.Now}
}

// readOrganization is the real organization reader: auditaws.ReadOrganization over the SDK's configuration.
func readOrganization(ctx context.Context, opts awsx.Options, org auditaws.OrgOptions) ([]auditaws.AccountResult, error) {
	cfg, err := awsx.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	return auditaws.ReadOrganization(ctx, cfg, org)
}

// readAccount is the real reader: auditaws.ReadAccount over the SDK's configuration.
func readAccount(ctx context.Context, opts awsx.Options, read auditaws.Options) (*audit.Inventory, readStats, error) {
	cfg, err := awsx.Load(ctx, opts)
	if err != nil {
		return nil, readStats{}, err
	}
	inv, st, err := auditaws.ReadAccount(ctx, cfg, read)
	if err != nil {
		return nil, readStats{}, err
	}
	return inv, readStats{Calls: st.Total, ReportAge: st.ReportAge}, nil
}

// isAccessDenied reports whether err is a denied read (it names the missing actions).
func isAccessDenied(err error) bool { return errors.Is(err, awsx.ErrAccessDenied) }
