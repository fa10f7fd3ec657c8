package retireaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/secret"
)

const (
	gh        = "token.actions.githubusercontent.com"
	githubURL = "https://" + gh
)

// Apply creates GitHub's OIDC provider and a role whose trust policy lets
// a workflow of the pinned repository and branch in, and no other. moto
// does not judge trust policies nor web identity tokens (it answers every
// AssumeRoleWithWebIdentity), so the role's trust policy, read back from
// moto, is judged by keywarden's own evaluator (iampolicy.AllowsWebIdentity)
// on the claims GitHub puts in the token.
func TestApplyGitHubRole(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	ctx := context.Background()
	key := r.user("deployer")
	p := r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned)
	counted, calls := awsx.Count(r.cfg)
	r.a.IAM, r.a.Keys = retireaws.New(counted), rotateaws.New(counted)
	res := r.apply(p)
	t.Logf("API calls for one GitHub apply: %d", calls())
	if len(res) != 1 || res[0].Resumed || res[0].Retirement.RoleARN == "" {
		t.Fatalf("apply: %+v", res)
	}
	role := res[0].Retirement.RoleARN
	for _, want := range []string{"aws-actions/configure-aws-credentials", "role-to-assume: " + role, "id-token: write"} {
		if !strings.Contains(res[0].Change, want) {
			t.Errorf("the change does not say %q:\n%s", want, res[0].Change)
		}
	}
	c := r.iam()
	prov, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(retire.ProviderARN(account, githubURL))})
	must(t, err)
	if !slices.Contains(prov.ClientIDList, "sts.amazonaws.com") || !hasTag(prov.Tags, retire.IDOf(key)) {
		t.Errorf("provider: client ids %v, tags %v", prov.ClientIDList, prov.Tags)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("shop-deploy")})
	must(t, err)
	if !hasTag(got.Role.Tags, retire.IDOf(key)) {
		t.Errorf("role tags %v", got.Role.Tags)
	}
	pol, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("shop-deploy"), PolicyName: aws.String(retire.PolicyName)})
	must(t, err)
	if doc, err := iampolicy.Parse(aws.ToString(pol.PolicyDocument)); err != nil || !iampolicy.AllowsCertainly(iampolicy.Only(doc), "s3:PutObject", "arn:aws:s3:::acme-shop-assets/a") {
		t.Errorf("the role's policy is not the plan's permissions: %s (%v)", aws.ToString(pol.PolicyDocument), err)
	}
	trust, err := iampolicy.Parse(aws.ToString(got.Role.AssumeRolePolicyDocument))
	must(t, err)
	claims := func(sub string) map[string]string {
		return map[string]string{gh + ":aud": "sts.amazonaws.com", gh + ":sub": sub}
	}
	for sub, want := range map[string]bool{
		pinned:                                  true,
		"repo:acme/other:ref:refs/heads/main":   false,
		"repo:evil/shop:ref:refs/heads/main":    false,
		"repo:acme/shop:ref:refs/heads/feature": false,
		"repo:acme/shop:pull_request":           false,
	} {
		if got := trust.AllowsWebIdentity(retire.ProviderARN(account, githubURL), claims(sub)); got != want {
			t.Errorf("a token with sub %s: assume-role-with-web-identity allowed = %v, want %v", sub, got, want)
		}
	}
	// moto itself lets any token in: what the evaluator above is for.
	if _, err := sts.NewFromConfig(r.cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role),
		RoleSessionName: aws.String("other-repo"), WebIdentityToken: aws.String("a-token-of-repo-evil/shop")}); err != nil {
		t.Logf("moto refused a web identity (it judges them now?): %v", err)
	}

	// Twice, or after a crash: nothing made twice, the same change said.
	before := calls()
	again := r.apply(p)
	if !again[0].Resumed || again[0].Change != res[0].Change {
		t.Errorf("apply again: %+v", again[0])
	}
	t.Logf("API calls for the same apply again: %d", calls()-before)
	roles, profiles, providers := r.left()
	if len(roles) != 1 || len(profiles) != 0 || len(providers) != 1 {
		t.Errorf("after two applies: roles %v, profiles %v, providers %v", roles, profiles, providers)
	}
	e, err := r.a.Find(ctx, key)
	must(t, err)
	if e.Step != retire.StepRetiring || !e.Retirement.RetiringAt.Equal(r.now) || !e.Retirement.ProviderOwned {
		t.Errorf("record: %s %+v", e.Step, e.Retirement)
	}
}

// An instance-profile replacement: the role, its policy, and an instance
// profile of the same name holding it; undo removes all three.
func TestApplyInstanceProfileAndUndo(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	ctx := context.Background()
	key := r.user("orders-worker")
	counted, calls := awsx.Count(r.cfg)
	r.a.IAM, r.a.Keys = retireaws.New(counted), rotateaws.New(counted)
	res := r.apply(r.plan("ec2.json", "@KEYID@", key, "@USER@", "orders-worker", "@ROLE@", "orders-worker"))
	t.Logf("API calls for one instance-profile apply: %d", calls())
	if !strings.Contains(res[0].Change, "aws ec2 associate-iam-instance-profile --instance-id i-… --iam-instance-profile Name=orders-worker") {
		t.Errorf("change:\n%s", res[0].Change)
	}
	ip, err := r.iam().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("orders-worker")})
	must(t, err)
	if len(ip.InstanceProfile.Roles) != 1 || aws.ToString(ip.InstanceProfile.Roles[0].RoleName) != "orders-worker" {
		t.Errorf("instance profile roles: %+v", ip.InstanceProfile.Roles)
	}
	u, err := r.a.Undo(ctx, key)
	must(t, err)
	if len(u.Removed) != 2 || len(u.Left) != 0 {
		t.Errorf("undo: removed %v, left %v", u.Removed, u.Left)
	}
	if roles, profiles, providers := r.left(); len(roles)+len(profiles)+len(providers) != 0 {
		t.Errorf("after undo: roles %v, profiles %v, providers %v", roles, profiles, providers)
	}
	if _, err := r.a.Undo(ctx, key); err == nil || !strings.Contains(err.Error(), "undone already") {
		t.Errorf("undo twice: %v", err)
	}
}

// A provider of the issuer that exists (made by hand) is used and kept by
// undo; a second retirement that uses the first's provider keeps it alive
// until both are undone.
func TestProviderSharedAndKept(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	ctx := context.Background()
	k1, k2 := r.user("deployer"), r.user("publisher")
	r.apply(r.plan("github.json", "@KEYID@", k1, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned))
	r.apply(r.plan("github.json", "@KEYID@", k2, "@USER@", "publisher", "@ROLE@", "shop-publish", "@SUB@", "repo:acme/shop:environment:prod"))
	u, err := r.a.Undo(ctx, k1)
	must(t, err)
	if _, _, providers := r.left(); len(providers) != 1 || len(u.Left) != 1 {
		t.Fatalf("undo of the provider's maker while another uses it: providers %v, left %v", providers, u.Left)
	}
	_, err = r.a.Undo(ctx, k2)
	must(t, err)
	if roles, _, providers := r.left(); len(roles)+len(providers) != 0 {
		t.Fatalf("both undone: roles %v, providers %v", roles, providers)
	}

	own, err := r.iam().CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(githubURL),
		ClientIDList: []string{"sts.amazonaws.com"}})
	must(t, err)
	k3 := r.user("builder")
	res := r.apply(r.plan("github.json", "@KEYID@", k3, "@USER@", "builder", "@ROLE@", "shop-build", "@SUB@", pinned))
	if res[0].Retirement.ProviderOwned || res[0].Retirement.ProviderARN != aws.ToString(own.OpenIDConnectProviderArn) {
		t.Errorf("an existing provider: %+v", res[0].Retirement)
	}
	_, err = r.a.Undo(ctx, k3)
	must(t, err)
	if _, _, providers := r.left(); len(providers) != 1 {
		t.Errorf("undo removed a provider it did not make: %v", providers)
	}
}

// A provider made by hand without the trust policy's audience would make
// IAM refuse every token of the role: apply refuses before any change,
// naming the one command that fixes it, and applies once it is run.
func TestProviderWithoutTheAudienceIsRefused(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	ctx := context.Background()
	own, err := r.iam().CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(githubURL),
		ClientIDList: []string{"https://github.com/acme"}})
	must(t, err)
	key := r.user("deployer")
	plan := r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned)
	_, err = r.a.Apply(ctx, plan)
	want := "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn " + aws.ToString(own.OpenIDConnectProviderArn) + " --client-id sts.amazonaws.com"
	if !errors.Is(err, retire.ErrRefused) || !strings.Contains(err.Error(), want) {
		t.Fatalf("apply over a provider without the audience: %v, want a refusal naming %q", err, want)
	}
	if roles, _, _ := r.left(); len(roles) != 0 {
		t.Fatalf("refused, yet roles %v", roles)
	}
	// what the refusal says to run (moto serves no AddClientIDToOpenIDConnectProvider: the provider is made again with it)
	_, err = r.iam().DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: own.OpenIDConnectProviderArn})
	must(t, err)
	_, err = r.iam().CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(githubURL),
		ClientIDList: []string{"https://github.com/acme", "sts.amazonaws.com"}})
	must(t, err)
	if res := r.apply(plan); res[0].Retirement.RoleARN == "" {
		t.Errorf("with the audience: %+v", res[0].Retirement)
	}
}

// Refusals change nothing: a placeholder, a bare or repository-less sub, no
// aud, another account, a role of that name that is not ours.
func TestApplyRefuses(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	ctx := context.Background()
	key := r.user("deployer")
	plan := func(sub string) retire.Plan {
		return r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", sub)
	}
	noAud := plan(pinned)
	noAud.Keys[0].Replacement.Trust = []byte(strings.Replace(string(noAud.Keys[0].Replacement.Trust), gh+":aud", gh+":azp", 1))
	other := plan(pinned)
	other.Account = "210987654321"
	placeholder := plan(pinned)
	placeholder.Keys[0].Replacement.Repo = retire.Placeholder
	unknown := plan(pinned)
	unknown.Keys[0].AccessKeyID = awstest.FakeKeyID("gone", 123456789012)
	cases := map[string]struct {
		p    retire.Plan
		want string
	}{
		"placeholder":   {placeholder, "still holds " + retire.Placeholder},
		"bare sub":      {plan("*"), "bare wildcard"},
		"any repo":      {plan("repo:acme/*"), "does not pin one repository"},
		"no repo":       {plan("ref:refs/heads/main"), "names no repository"},
		"no aud":        {noAud, "no StringEquals condition on " + gh + ":aud"},
		"other account": {other, "planned for account 210987654321"},
		"unknown key":   {unknown, "no such access key in account " + account},
	}
	for name, tc := range cases {
		_, err := r.a.Apply(ctx, tc.p)
		if !errors.Is(err, retire.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want refused with %q, got %v", name, tc.want, err)
		}
	}
	_, err := r.iam().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shop-deploy"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	must(t, err)
	if _, err := r.a.Apply(ctx, plan(pinned)); !errors.Is(err, retire.ErrRefused) || !strings.Contains(err.Error(), "role shop-deploy exists and is not this retirement's") {
		t.Errorf("a foreign role: %v", err)
	}
	if roles, _, providers := r.left(); len(roles) != 1 || len(providers) != 0 {
		t.Errorf("refusals changed something: roles %v, providers %v", roles, providers)
	}
	if list, _ := r.a.List(ctx); len(list) != 0 {
		t.Errorf("refusals journaled %v", list)
	}

	// A retirement killed while being undone is undone again, not applied over.
	r2 := newRig(t, awstest.Moto(t))
	key2 := r2.user("deployer")
	p2 := r2.plan("github.json", "@KEYID@", key2, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned)
	r2.apply(p2)
	s := &fault.Script{N: 2, Kill: true} // killed before the second journal commit (undone)
	fault.Set(t, s.Step)
	fault.Run(func() error { _, err := r2.a.Undo(ctx, key2); return err })
	fault.Set(t, nil)
	if e, _ := r2.a.Find(ctx, key2); e.Step != retire.StepUndoing {
		t.Fatalf("the killed undo left %s", e.Step)
	}
	if _, err := r2.a.Apply(ctx, p2); !errors.Is(err, retire.ErrRefused) || !strings.Contains(err.Error(), "is being undone") {
		t.Errorf("apply over a killed undo: %v", err)
	}
}

func hasTag(tags []types.Tag, id string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == retire.Tag && aws.ToString(t.Value) == id {
			return true
		}
	}
	return false
}

// useRole assumes the role as a workflow would and makes one call with the
// session, which IAM records as the role's last use.
func (r *rig) useRole(arn string) {
	r.t.Helper()
	ctx := context.Background()
	out, err := sts.NewFromConfig(r.cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(arn),
		RoleSessionName: aws.String("gha"), WebIdentityToken: aws.String("token")})
	must(r.t, err)
	c := out.Credentials
	session := awsx.WithKey(r.cfg, credential.Key{ID: aws.ToString(c.AccessKeyId), Secret: secret.New(aws.ToString(c.SecretAccessKey)),
		SessionToken: secret.New(aws.ToString(c.SessionToken))})
	_, err = awsx.CallerIdentity(ctx, session)
	must(r.t, err)
}

// useKey makes one call with the user's key (moto, without authorization,
// takes a deactivated key too, as a late user's call would be recorded).
func (r *rig) useKey(user, keyID string) {
	r.t.Helper()
	ctx := context.Background()
	k := awsx.WithKey(r.cfg, credential.Key{ID: keyID, Secret: secret.New("moto-takes-any-secret")})
	_, err := awsx.IAM(k).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	must(r.t, err)
	if u, err := rotateaws.New(r.cfg).LastUsed(ctx, keyID); err != nil || u.At.IsZero() {
		r.t.Fatalf("moto did not record the key's use: %+v %v", u, err)
	}
}

// A create whose answer was lost after IAM did it is retried by the SDK,
// and IAM answers "exists" to our own create: apply takes it, by its tag,
// for this retirement's, and the replacement is whole and made once.
func TestApplyAfterALostAnswer(t *testing.T) {
	for _, op := range []string{"CreateOpenIDConnectProvider", "CreateRole", "PutRolePolicy", "CreateInstanceProfile", "AddRoleToInstanceProfile"} {
		t.Run(op, func(t *testing.T) {
			srv := awstest.Moto(t)
			r := newRig(t, srv)
			key := r.user("deployer")
			fixture, profile := "github.json", false
			if strings.Contains(op, "InstanceProfile") {
				fixture, profile = "ec2.json", true
			}
			l := &awstest.Lossy{Op: op, Forward: true}
			cfg := l.Start(t, srv)
			r.a.IAM, r.a.Keys = retireaws.New(cfg), rotateaws.New(cfg)
			r.apply(r.plan(fixture, "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned))
			l.Check(t)
			r.whole(key, profile)
		})
	}
}
