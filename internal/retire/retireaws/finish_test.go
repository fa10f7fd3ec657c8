package retireaws_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/retire"
)

const day = 24 * time.Hour

// finish moves the retirement of key on at the rig's clock and says what it did.
func (r *rig) finish(key string) retire.Finished {
	r.t.Helper()
	out, err := r.a.Finish(context.Background(), retire.FinishOptions{IDs: []string{key}, Window: 14 * day, Grace: 7 * day})
	if err != nil || len(out) != 1 {
		r.t.Fatalf("finish: %+v %v", out, err)
	}
	return out[0]
}

// keyStatus is the key's status in IAM ("" when it is gone).
func (r *rig) keyStatus(user, key string) types.StatusType {
	r.t.Helper()
	out, err := r.iam().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	must(r.t, err)
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == key {
			return k.Status
		}
	}
	return ""
}

// The key is deactivated only once it stayed unused for the window after
// apply and the role was used, and deleted once the grace after that is
// over; until then finish waits and says why.
func TestFinishAfterTheQuietWindow(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	key := r.user("deployer")
	res := r.apply(r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned))
	start := r.now
	step := func(at time.Duration, want string, status types.StatusType) {
		t.Helper()
		r.now = start.Add(at)
		f := r.finish(key)
		if f.Did != want || r.keyStatus("deployer", key) != status {
			t.Fatalf("finish at +%s: did %s (%s), key %q; want %s, key %q", at, f.Did, f.Note, r.keyStatus("deployer", key), want, status)
		}
		t.Logf("+%s: %s: %s", at, f.Did, f.Note)
	}
	step(day, retire.FinishWaiting, types.StatusTypeActive)
	step(13*day, retire.FinishWaiting, types.StatusTypeActive)
	step(15*day, retire.FinishRoleUnused, types.StatusTypeActive)
	r.useRole(res[0].Retirement.RoleARN)
	step(15*day, retire.FinishDeactivated, types.StatusTypeInactive)
	step(20*day, retire.FinishGrace, types.StatusTypeInactive)
	step(23*day, retire.FinishRetired, "")
	step(24*day, retire.FinishClosed, "")
	if u, err := r.a.Undo(context.Background(), key); err != nil || len(u.Left) != 1 {
		t.Fatalf("undo of a retired key must say the key cannot come back: %+v %v", u, err)
	}
}

// A key used after apply is reported (its consumer has not changed), and
// one used after it was deactivated is kept, not deleted; undo turns it
// back on and removes the role.
func TestFinishReportsLateUse(t *testing.T) {
	r := newRig(t, awstest.Moto(t))
	key := r.user("deployer")
	res := r.apply(r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned))
	start := r.now
	r.useRole(res[0].Retirement.RoleARN)
	r.now = start.Add(15 * day)
	if f := r.finish(key); f.Did != retire.FinishDeactivated {
		t.Fatalf("finish: %+v", f)
	}
	r.useKey("deployer", key) // the real time: after the deactivation
	r.now = start.Add(23 * day)
	f := r.finish(key)
	if f.Did != retire.FinishKept || !f.Late() || r.keyStatus("deployer", key) != types.StatusTypeInactive {
		t.Fatalf("a key used after deactivation: %+v", f)
	}
	t.Log(f.Note)
	if f := r.finish(key); f.Did != retire.FinishKept {
		t.Fatalf("finish again: %+v", f)
	}
	u, err := r.a.Undo(context.Background(), key)
	must(t, err)
	if r.keyStatus("deployer", key) != types.StatusTypeActive || len(u.Left) != 0 {
		t.Fatalf("undo: key %s, %+v", r.keyStatus("deployer", key), u)
	}
	if roles, _, providers := r.left(); len(roles)+len(providers) != 0 {
		t.Fatalf("after undo: roles %v, providers %v", roles, providers)
	}

	// Used after apply, before any deactivation: reported, kept active.
	key2 := r.user("publisher")
	r.now = start
	r.apply(r.plan("github.json", "@KEYID@", key2, "@USER@", "publisher", "@ROLE@", "shop-publish", "@SUB@", pinned))
	r.useKey("publisher", key2)
	r.now = start.Add(15 * day)
	if f := r.finish(key2); f.Did != retire.FinishInUse || !f.Late() || r.keyStatus("publisher", key2) != types.StatusTypeActive {
		t.Fatalf("a key used after apply: %+v", f)
	}
}
