package retireaws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
)

// docs/policies/retire.json is enough for apply (a GitHub role and an
// instance profile), finish and undo: moto, with IAM authorization
// enforced, runs them as a user holding exactly those actions (resources
// widened to "*": moto matches actions, not resources), and refuses the
// apply once iam:CreateRole is gone.
func TestDocumentedPolicySuffices(t *testing.T) {
	doc := awstest.DocumentedPolicy(t, "retire.json")
	srv := awstest.MotoWithAuth(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	ctx := context.Background()
	r := newRig(t, srv)
	admin := srv.CreateUserKey(t, "admin", awstest.AdminPolicy)
	r.cfg = awsx.WithKey(r.cfg, credential.Key{ID: admin.KeyID, Secret: admin.Secret}) // the test's own checks
	as := func(u awstest.UserKey) {
		cfg := awsx.WithKey(r.cfg, credential.Key{ID: u.KeyID, Secret: u.Secret})
		r.a.IAM, r.a.Keys = retireaws.New(cfg), rotateaws.New(cfg)
	}
	gh, ec2 := srv.CreateUserKey(t, "deployer"), srv.CreateUserKey(t, "orders-worker")
	plans := []retire.Plan{
		r.plan("github.json", "@KEYID@", gh.KeyID, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned),
		r.plan("ec2.json", "@KEYID@", ec2.KeyID, "@USER@", "orders-worker", "@ROLE@", "orders-worker"),
	}
	as(srv.CreateUserKey(t, "narrow", strings.Replace(doc, `"iam:CreateRole",`, "", 1)))
	if _, err := r.a.Apply(ctx, plans[0]); !awsx.IsDenied(err) || !strings.Contains(err.Error(), "create-role") {
		t.Fatalf("apply without iam:CreateRole: want it denied, got %v", err)
	}
	as(srv.CreateUserKey(t, "retirer", doc))
	unused := srv.CreateUserKey(t, "old-batch")
	del := r.plan("github.json", "@KEYID@", unused.KeyID, "@USER@", "old-batch", "@ROLE@", "x", "@SUB@", pinned)
	del.Keys[0].Class, del.Keys[0].Replacement, del.Keys[0].Permissions = retire.ClassUnused, retire.Replacement{Kind: retire.ReplaceDelete}, nil
	for _, p := range append(plans, del) {
		r.apply(p)
	}
	r.now = r.now.Add(15 * day)
	// moto with authorization judges AssumeRole by the trust policy (and
	// fails AssumeRoleWithWebIdentity): the roles stay unused here, and the
	// unused key's plan (delete) takes finish through deactivate and delete.
	out, err := r.a.Finish(ctx, retire.FinishOptions{IDs: []string{gh.KeyID, ec2.KeyID, unused.KeyID}, Window: 14 * day})
	must(t, err)
	for i, want := range []string{retire.FinishRoleUnused, retire.FinishRoleUnused, retire.FinishRetired} {
		if out[i].Did != want {
			t.Fatalf("finish as the documented policy: %+v, want %s", out[i], want)
		}
	}
	for _, k := range []string{gh.KeyID, ec2.KeyID} {
		if _, err := r.a.Undo(ctx, k); err != nil {
			t.Fatalf("undo %s as the documented policy: %v", k, err)
		}
	}
	if roles, profiles, providers := r.left(); len(roles)+len(profiles)+len(providers) != 0 {
		t.Fatalf("after undo: roles %v, profiles %v, providers %v", roles, profiles, providers)
	}
}
