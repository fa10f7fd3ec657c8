package retireaws_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/state"
)

const (
	account = "123456789012" // moto's
	pinned  = "repo:acme/shop:ref:refs/heads/main"
)

// rig is an applier on the moto server the environment points at, with a
// state database of its own and a clock the test moves.
type rig struct {
	t   *testing.T
	srv *awstest.MotoServer
	cfg aws.Config
	a   *retire.Applier
	now time.Time
}

func newRig(t *testing.T, srv *awstest.MotoServer) *rig {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The clock starts a month back: what moto stamps (a key's or a
	// role's last use) is the real time, after every step the test takes.
	r := &rig{t: t, srv: srv, cfg: cfg, now: time.Now().UTC().Add(-30 * 24 * time.Hour)}
	r.a = &retire.Applier{IAM: retireaws.New(cfg), Keys: rotateaws.New(cfg), DB: db, Now: func() time.Time { return r.now }}
	return r
}

// iam is the test's own client (fixtures and checks).
func (r *rig) iam() *iam.Client { return awsx.IAM(awstest.Fixture(r.cfg)) }

// plan reads testdata/name with its words filled: @ACCOUNT@, @KEYID@, @USER@, @ROLE@, @SUB@.
func (r *rig) plan(name string, words ...string) retire.Plan {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := retire.ParsePlan([]byte(strings.NewReplacer(append([]string{"@ACCOUNT@", account}, words...)...).Replace(string(b))))
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// user creates an IAM user with one key and returns the key id.
func (r *rig) user(name string) string {
	r.t.Helper()
	return r.srv.CreateUserKey(r.t, name).KeyID
}

func (r *rig) apply(p retire.Plan) []retire.Applied {
	r.t.Helper()
	res, err := r.a.Apply(context.Background(), p)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// left lists what exists in IAM of the kinds apply makes.
func (r *rig) left() (roles, profiles, providers []string) {
	r.t.Helper()
	ctx := context.Background()
	c := r.iam()
	rs, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, x := range rs.Roles {
		roles = append(roles, aws.ToString(x.RoleName))
	}
	ps, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, x := range ps.InstanceProfiles {
		profiles = append(profiles, aws.ToString(x.InstanceProfileName))
	}
	os, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, x := range os.OpenIDConnectProviderList {
		providers = append(providers, aws.ToString(x.Arn))
	}
	return roles, profiles, providers
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
