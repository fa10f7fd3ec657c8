package auditaws_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// TestReadAccountScale measures ReadAccount on 1,000 users holding 1,500
// keys: KEYWARDEN_BENCH_AUDIT=1 go test ./internal/audit/auditaws -run Scale -v.
// It reports calls and wall time; it asserts only the call formula.
func TestReadAccountScale(t *testing.T) {
	if os.Getenv("KEYWARDEN_BENCH_AUDIT") != "1" {
		t.Skip("set KEYWARDEN_BENCH_AUDIT=1 to build 1,000 users in moto and time ReadAccount")
	}
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	const users, groups = 1000, 10
	ctx := context.Background()
	for g := range groups {
		a.Must(a.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("team%d", g))}))
		a.Must(a.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(fmt.Sprintf("team%d", g)),
			PolicyName: aws.String("p"), PolicyDocument: aws.String(createUserPolicy)}))
	}
	setup := time.Now()
	var eg errgroup.Group
	eg.SetLimit(8)
	for i := range users {
		eg.Go(func() error { return benchUser(ctx, a.IAM, i, groups) })
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("setup: %d users, %d keys in %v", users, users*3/2, time.Since(setup).Round(time.Millisecond))

	start := time.Now()
	inv, stats := readAccount(t)
	wall := time.Since(start)
	noID := 0
	keys := 0
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			keys++
			if k.ID == "" {
				noID++
			}
		}
	}
	t.Logf("ReadAccount: %d users, %d keys (%d without id), %d warnings, %d calls %v, wall %v",
		len(inv.Users), keys, noID, len(inv.Warnings), stats.Total, stats.Calls, wall.Round(time.Millisecond))
	pages := stats.Calls["iam:GetAccountAuthorizationDetails"]
	iamCalls := 0
	for op, n := range stats.Calls {
		if strings.HasPrefix(op, "iam:") {
			iamCalls += n
		}
	}
	// The rest (STS, CloudTrail, the regional reads) does not grow with users:
	// 3 report and summary calls, 4 account settings (password policy,
	// virtual MFA devices, server certificates, the support role).
	if want := 7 + pages + users; iamCalls != want {
		t.Errorf("IAM calls = %d, want 7 + %d pages + %d ListAccessKeys = %d", iamCalls, pages, users, want)
	}
	if keys != users*3/2 {
		t.Errorf("keys = %d, want %d", keys, users*3/2)
	}

	// --key-ids=false: a handful of calls plus one per page.
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, slim, err := auditaws.ReadAccount(ctx, cfg, auditaws.Options{Regions: oneRegion, NoKeyIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ReadAccount without key ids: %d calls %v, wall %v", slim.Total, slim.Calls, time.Since(start).Round(time.Millisecond))
	if slim.Calls["iam:ListAccessKeys"] != 0 || slim.Total > 16+slim.Calls["iam:GetAccountAuthorizationDetails"] {
		t.Errorf("without key ids: %d calls %v, want a handful plus one per page", slim.Total, slim.Calls)
	}
}

// benchUser creates user i with one key, or two (the second inactive) for
// even i, in group i%groups.
func benchUser(ctx context.Context, c *iam.Client, i, groups int) error {
	name := fmt.Sprintf("user%04d", i)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		return err
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{
		UserName: aws.String(name), GroupName: aws.String(fmt.Sprintf("team%d", i%groups))}); err != nil {
		return err
	}
	n := 1 + (i+1)%2
	for k := range n {
		out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			return err
		}
		if k == 1 {
			if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(name),
				AccessKeyId: out.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
				return err
			}
		}
	}
	return nil
}
