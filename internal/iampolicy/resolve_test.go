package iampolicy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveGathersEveryPolicySource(t *testing.T) {
	const managed = "arn:aws:iam::111122223333:policy/readers"
	p := PolicySet{
		Inline:   []InlinePolicy{{Name: "own", Document: doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)}},
		Attached: []string{managed, "arn:aws:iam::111122223333:policy/gone"},
		Groups:   []string{"dev", "ghost"},
		Boundary: boundaryARN,
	}
	c := Catalog{
		Groups: map[string]GroupPolicies{"dev": {
			Inline:   []InlinePolicy{{Name: "deny", Document: encode(doc(`{"Effect":"Deny","Action":"iam:*","Resource":"*"}`))}},
			Attached: []string{managed},
		}},
		Managed: map[string]string{
			managed:     doc(`{"Effect":"Allow","Action":"s3:List*","Resource":"*"}`),
			boundaryARN: doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`, `{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}`),
		},
	}
	e := resolve(t, p, c)
	sources := func(refs []Ref) []string {
		var out []string
		for _, r := range refs {
			out = append(out, r.String())
		}
		return out
	}
	want := map[string][]string{
		"allow":         {"inline:own statement 1", managed + " statement 1", "group:dev/" + managed + " statement 1"},
		"deny":          {"group:dev/inline:deny statement 1"},
		"boundary deny": {"boundary:" + boundaryARN + " statement 2"},
		"missing":       {"arn:aws:iam::111122223333:policy/gone", "group:ghost"},
		"groups":        {"dev", "ghost"},
	}
	got := map[string][]string{
		"allow": sources(e.Allow), "deny": sources(e.Deny), "boundary deny": sources(e.Boundary.Deny),
		"missing": e.Missing, "groups": e.Groups,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
	}
	if !e.Boundary.Known {
		t.Error("boundary with a supplied document reported unknown")
	}
}

func TestResolveReportsBadDocumentsAndKeepsTheRest(t *testing.T) {
	const broken = "arn:aws:iam::111122223333:policy/broken"
	p := PolicySet{
		Inline:   []InlinePolicy{{Name: "bad", Document: `{"Statement":`}, {Name: "good", Document: doc(allowAll)}},
		Attached: []string{broken},
		Boundary: broken,
	}
	e, err := Resolve(p, Catalog{Managed: map[string]string{broken: `{"Statement":[{"Effect":"Maybe","Action":"*"}]}`}})
	if err == nil {
		t.Fatal("Resolve accepted broken documents")
	}
	for _, want := range []string{"policy inline:bad:", "policy " + broken + ":", "permissions boundary " + broken + ":", `Effect "Maybe"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve error %q does not mention %q", err, want)
		}
	}
	if !IsAdmin(e).Admin {
		t.Error("the good inline policy was lost: not admin")
	}
	if e.Boundary == nil || e.Boundary.Known {
		t.Errorf("broken boundary = %+v, want present and unknown", e.Boundary)
	}
}

func TestIsAdministratorAccess(t *testing.T) {
	for arn, want := range map[string]bool{
		AdministratorAccess: true,
		"arn:aws-cn:iam::aws:policy/AdministratorAccess":           true,
		"arn:aws:iam::111122223333:policy/AdministratorAccess":     false,
		"arn:aws:iam::aws:policy/job-function/AdministratorAccess": false,
		"AdministratorAccess": false,
	} {
		if got := IsAdministratorAccess(arn); got != want {
			t.Errorf("IsAdministratorAccess(%q) = %v, want %v", arn, got, want)
		}
	}
}
