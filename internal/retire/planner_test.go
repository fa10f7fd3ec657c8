package retire

import (
	"context"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/policy"
)

type memSource []cloudtrail.Event

func (m memSource) Read(_ context.Context, _ cloudtrail.Options, sink cloudtrail.Sink) error {
	for _, e := range m {
		if err := sink(e); err != nil {
			return err
		}
	}
	return nil
}

// No event proves a key unused only when IAM's last use says so too.
func TestUnusedNeedsIAMsLastUse(t *testing.T) {
	src := []policy.Named{{Name: "mem", Source: memSource{call("81.2.69.160", "aws-cli/2.15.59 ua/2.0 os/macos#22.6.0")}}}
	since, until := t0.Add(-90*24*time.Hour), t0.Add(time.Hour)
	idle := awstest.FakeKeyID("idle", 111122223333)
	for _, c := range []struct {
		name string
		key  KeyInfo
		want Class
	}{
		{"IAM says never used", KeyInfo{ID: idle, User: "idle", LastUseKnown: true}, ClassUnused},
		{"IAM says used long ago", KeyInfo{ID: idle, User: "idle", LastUseKnown: true, LastUsed: since.Add(-time.Hour)}, ClassUnused},
		{"IAM says used in the window", KeyInfo{ID: idle, User: "idle", LastUseKnown: true, LastUsed: t0}, ClassUnknown},
		{"IAM not read", KeyInfo{ID: idle}, ClassUnknown},
	} {
		p, err := MakePlan(context.Background(), Request{Keys: []KeyInfo{c.key}, Since: since, Until: until}, Env{Sources: src})
		if err != nil {
			t.Fatal(err)
		}
		k := p.Keys[0]
		if k.Class != c.want || (c.want == ClassUnknown) != (k.Replacement.Kind == "") || c.want == ClassUnknown && len(k.Notes) == 0 {
			t.Errorf("%s: %s %q %v, want %s", c.name, k.Class, k.Replacement.Kind, k.Notes, c.want)
		}
	}
}

// A user tagged as a third party's (audit's KW-THIRD-PARTY-KEY tags) is a
// third party's, whatever network its vendor runs on; a note says what
// the events alone said.
func TestTaggedThirdParty(t *testing.T) {
	id := awstest.FakeKeyID("vendor", 111122223333)
	e := call("3.5.140.2", "aws-cli/2.15.30 ua/2.0 os/linux#6.1.0")
	e.UserIdentity.AccessKeyID = id
	src := []policy.Named{{Name: "mem", Source: memSource{e}}}
	k := KeyInfo{ID: id, User: "vendor", LastUseKnown: true, Tags: map[string]string{"Owner-Type": "Vendor"}}
	p, err := MakePlan(context.Background(), Request{Keys: []KeyInfo{k}, Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)}, Env{Sources: src})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Keys[0]
	if got.Class != ClassThirdParty || got.Replacement.Kind != ReplaceExternalIDRole || got.Replacement.ExternalID == "" || len(got.Notes) == 0 {
		t.Errorf("tagged vendor: %s %s notes %v, want third-party with an external id and a note", got.Class, got.Replacement.Kind, got.Notes)
	}
}
