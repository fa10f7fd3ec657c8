package canaryaws_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/detect"
)

// calls counts the API operations a config makes.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) count(cfg aws.Config) aws.Config {
	c.n = map[string]int{}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return cfg
}

func plant(t *testing.T, srv *awstest.MotoServer, name string) (canary.Canary, awstest.UserKey) {
	t.Helper()
	uk := srv.CreateUserKey(t, name)
	return canary.Canary{Name: "c-" + name, Account: "123456789012", User: name, Path: "/", ARN: uk.ARN, AccessKeyID: uk.KeyID,
		Placements: []canary.Placement{{Format: "dotenv", Path: "app/.env"}}, CreatedAt: time.Now().UTC()}, uk
}

// use signs a call with the canary's key, as a thief would.
func use(t *testing.T, cfg aws.Config, uk awstest.UserKey) {
	t.Helper()
	if _, err := awsx.CallerIdentity(context.Background(), awsx.WithKey(cfg, credential.Key{ID: uk.KeyID, Secret: uk.Secret})); err != nil {
		t.Fatal(err)
	}
}

// TestCheckSeesUnloggedUseOnMoto: a key used with no CloudTrail event
// watch saw is an alert; the baseline then moves, so the next check is
// quiet; a use watch alerted on is "alerted", not a new alert.
func TestCheckSeesUnloggedUseOnMoto(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, uk := plant(t, srv, "svc-reports")
	seen := &detect.MemStore{}
	check := canary.Check{IAM: canaryaws.New(cfg), Seen: seen, Slack: time.Millisecond}
	run := func(cs ...canary.Canary) canary.Report {
		t.Helper()
		rep, err := check.Run(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(c); rep.Results[0].Status != canary.Quiet || rep.Alerts() != 0 || len(rep.Changed) != 0 {
		t.Fatalf("never used: %+v", rep.Results[0])
	}
	use(t, cfg, uk)
	rep := run(c)
	if r := rep.Results[0]; r.Status != canary.Unlogged || rep.Alerts() != 1 || r.LastUsed.IsZero() || r.Service != "sts" {
		t.Fatalf("used, no event seen: %+v; want unlogged with sts", r)
	}
	c = rep.Changed[0]
	if rep := run(c); rep.Results[0].Status != canary.Quiet {
		t.Errorf("after the baseline moved: %+v; want quiet", rep.Results[0])
	}

	time.Sleep(1100 * time.Millisecond) // the last-used date has seconds
	use(t, cfg, uk)
	if err := canary.MarkSeen(ctx, seen, c.AccessKeyID, canary.Seen{At: time.Now(), Event: "sts.amazonaws.com:GetCallerIdentity"}); err != nil {
		t.Fatal(err)
	}
	if rep := run(c); rep.Results[0].Status != canary.Alerted || rep.Alerts() != 0 || len(rep.Changed) != 1 {
		t.Errorf("used, event seen: %+v; want alerted", rep.Results[0])
	}

	check.Grace = time.Hour
	time.Sleep(1100 * time.Millisecond)
	use(t, cfg, uk)
	if rep := run(c); rep.Results[0].Status != canary.Pending || len(rep.Changed) != 0 {
		t.Errorf("a use younger than the grace: %+v; want pending, the baseline kept", rep.Results[0])
	}
}

// TestCheckOfTenCanariesIsTenCalls pins the check's cost: one
// GetAccessKeyLastUsed a canary, nothing else; a canary whose key is gone
// is a gap, the others still checked.
func TestCheckOfTenCanariesIsTenCalls(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cs []canary.Canary
	for i := range 10 {
		c, _ := plant(t, srv, fmt.Sprintf("svc-%02d", i))
		cs = append(cs, c)
	}
	var n calls
	check := canary.Check{IAM: canaryaws.New(n.count(cfg)), Seen: &detect.MemStore{}}
	rep, err := check.Run(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.n) != 1 || n.n["GetAccessKeyLastUsed"] != 10 || len(rep.Results) != 10 || len(rep.Gaps) != 0 {
		t.Errorf("10 canaries: calls %v, %d results, gaps %v; want 10 GetAccessKeyLastUsed", n.n, len(rep.Results), rep.Gaps)
	}
	t.Logf("API calls per check of 10 canaries: %v", n.n)

	gone := cs[0]
	gone.AccessKeyID = awstest.FakeKeyID("gone", 123456789012)
	rep, err = check.Run(ctx, append([]canary.Canary{gone}, cs[1:3]...))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Gaps) != 1 || rep.Results[0].Status != canary.Unreadable || rep.Results[1].Status != canary.Quiet {
		t.Errorf("a key gone: gaps %v, results %+v", rep.Gaps, rep.Results)
	}
}
