package drill

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/internal/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var asOf = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func day(n int) audit.Date { return audit.At(asOf.Add(-time.Duration(n) * 24 * time.Hour)) }

func key(id string, created, used int) audit.Key {
	return audit.Key{Slot: 1, ID: id, Status: audit.KeyActive, Created: day(created), LastUsed: day(used)}
}

// fixture is an account with an administrator without MFA (tagged owner),
// an administrator with MFA and no owner, a user with dangerous rights (an
// email-like tag), a plain user, and one single-region trail in one of two
// regions.
func fixture() audit.Inventory {
	user := func(name string, admin audit.Tri, mfa audit.Tri, dangerous []string, tags map[string]string, k audit.Key) audit.User {
		return audit.User{Name: name, ARN: "arn:aws:iam::111122223333:user/" + name, Created: day(400), Password: audit.No,
			MFA: mfa, Admin: admin, Dangerous: dangerous, DetailsRead: true, Tags: tags, Keys: []audit.Key{k}}
	}
	return audit.Inventory{
		AccountID: "111122223333",
		Users: []audit.User{
			user("plain", audit.No, audit.Yes, nil, nil, key("AKIAPLAIN00000000001", 10, 1)),
			user("ci-deployer", audit.No, audit.No, []string{"iam:PassRole", "iam:CreateAccessKey", "iam:PassRole"},
				map[string]string{"Contact": "ci@example.com"}, key("AKIADEPLOY0000000001", 200, 2)),
			user("ops-admin", audit.Yes, audit.Yes, nil, nil, key("AKIAOPSADMIN00000001", 30, 3)),
			user("root-ish", audit.Yes, audit.No, nil, map[string]string{"Owner": "alice@example.com", "team": "platform"},
				key("AKIAROOTISH000000001", 120, 0)),
		},
		TrailsRead: true,
		Trails:     []audit.Trail{{Name: "local", ARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/local", HomeRegion: "us-east-1", Logging: audit.Yes, Bucket: "trail-logs"}},
		Regions:    []string{"eu-west-1", "us-east-1"},
	}
}

func judge(inv audit.Inventory) audit.Result {
	return audit.Judge([]audit.Account{{ID: inv.AccountID, Inventory: &inv}}, audit.Options{Config: audit.Config{AsOf: asOf}})
}

func fixturePlan() Plan {
	return NewPlan(judge(fixture()), Facts{Sinks: []string{"slack:https://hooks.slack.com/services/T000/B000/SECRETPATH", "sns:arn:aws:sns:us-east-1:111122223333:alerts"}, Profile: "responder"}, asOf)
}

func TestPlanRanksTheKeysAuditJudgesRisky(t *testing.T) {
	p := fixturePlan()
	var got []string
	for _, k := range p.Keys {
		got = append(got, k.User+"="+k.Owner)
	}
	// critical (admin, no MFA), high (admin), then dangerous rights; the
	// plain user's key is no part of the plan.
	want := []string{"root-ish=alice@example.com", "ops-admin=" + NoOwner, "ci-deployer=ci@example.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	if d := p.Keys[2].Dangerous; !slices.Equal(d, []string{"iam:CreateAccessKey", "iam:PassRole"}) {
		t.Errorf("dangerous rights %v, want sorted and unique", d)
	}
	if p.Keys[0].AgeDays != 120 || p.Keys[0].OwnerTag != "Owner" {
		t.Errorf("first key age %d tag %q, want 120 and Owner", p.Keys[0].AgeDays, p.Keys[0].OwnerTag)
	}
}

func TestPlanRanksByRightsThenAge(t *testing.T) {
	inv := fixture()
	inv.Users[1].Dangerous = []string{"iam:PassRole"}
	inv.Users = append(inv.Users, audit.User{Name: "old", ARN: "arn:aws:iam::111122223333:user/old", Admin: audit.No, MFA: audit.Yes,
		Dangerous: []string{"s3:PutBucketPolicy"}, Keys: []audit.Key{key("AKIAOLD0000000000001", 900, 1)}})
	p := NewPlan(judge(inv), Facts{}, asOf)
	var got []string
	for _, k := range p.Keys[2:] {
		got = append(got, k.User)
	}
	if !slices.Equal(got, []string{"old", "ci-deployer"}) {
		t.Errorf("same rights count: %v, want the older key first", got)
	}
	inv.Users[len(inv.Users)-1].Keys[0] = key("AKIAOLD0000000000001", 200, 5) // as old, used less recently
	p = NewPlan(judge(inv), Facts{}, asOf)
	got = nil
	for _, k := range p.Keys[2:] {
		got = append(got, k.User)
	}
	if !slices.Equal(got, []string{"ci-deployer", "old"}) {
		t.Errorf("same rights and age: %v, want the key used last first", got)
	}
}

// A holder whose administrator rights could not be judged but who has
// dangerous ones has two findings on one key: the key is planned once.
func TestPlanListsAKeyOnce(t *testing.T) {
	inv := fixture()
	inv.Users[1].Admin = audit.Unknown
	p := NewPlan(judge(inv), Facts{}, asOf)
	n := 0
	for _, k := range p.Keys {
		if k.KeyID == "AKIADEPLOY0000000001" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the key is planned %d times", n)
	}
}

func TestPlanStepsAreRespondCommands(t *testing.T) {
	p := fixturePlan()
	admin := p.Keys[0]
	var names []string
	for _, s := range admin.Steps {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{PracticeIdentify, PracticeInvalidate, PracticeRevoke, PracticeRestore, PracticeReview}) {
		t.Fatalf("steps %v", names)
	}
	want := map[string]string{
		PracticeIdentify:   "keywarden respond AKIAROOTISH000000001 --profile responder --no-lookup",
		PracticeInvalidate: "keywarden respond AKIAROOTISH000000001 --profile responder --apply --no-lookup --quarantine",
		PracticeRestore:    "keywarden respond AKIAROOTISH000000001 --profile responder --apply --no-lookup --replace-to TARGET",
		PracticeReview:     "keywarden respond AKIAROOTISH000000001 --profile responder --since 90d --logs s3://trail-logs/AWSLogs/ --format html -o incident-AKIAROOTISH000000001.html",
	}
	for _, s := range admin.Steps {
		if s.Command != want[s.Name] {
			t.Errorf("%s: %q, want %q", s.Name, s.Command, want[s.Name])
		}
	}
	if dangerous := p.Keys[2].Steps[1].Command; strings.Contains(dangerous, "--quarantine") {
		t.Errorf("a non-administrator is not quarantined: %s", dangerous)
	}
}

func TestPlanSaysWhatIsNotCovered(t *testing.T) {
	p := fixturePlan()
	var whats []string
	for _, u := range p.Uncovered {
		whats = append(whats, u.What)
	}
	all := strings.Join(whats, "\n")
	for _, want := range []string{"no multi-region CloudTrail trail", "no trail logs eu-west-1", "key AKIAOPSADMIN00000001 of ops-admin has no owner",
		"no canary key planted", "no drill ever run"} {
		if !strings.Contains(all, want) {
			t.Errorf("not covered does not say %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "no sink configured") || strings.Contains(all, "root-ish has no owner") {
		t.Errorf("says too much:\n%s", all)
	}

	covered := fixture()
	covered.Trails[0].MultiRegion, covered.Trails[0].SelectorsKnown = true, true
	for i := range covered.Users {
		covered.Users[i].Tags = map[string]string{"team": "platform"}
	}
	p = NewPlan(judge(covered), Facts{StateRead: true, Canaries: 1, Drills: 2}, asOf)
	whats = nil
	for _, u := range p.Uncovered {
		whats = append(whats, u.What)
	}
	if len(whats) != 1 || !strings.HasPrefix(whats[0], "no sink configured") {
		t.Errorf("covered account: %q, want only the missing sink", whats)
	}
}

func TestPlanNamesWhatCouldNotBeRead(t *testing.T) {
	inv := fixture()
	inv.TrailsRead, inv.Trails = false, nil
	inv.Unread = []audit.Gap{{Source: "cloudtrail:DescribeTrails", Reason: "AccessDenied"}}
	p := NewPlan(judge(inv), Facts{}, asOf)
	if len(p.Incomplete) != 1 || p.Incomplete[0].Source != "cloudtrail:DescribeTrails" {
		t.Errorf("incomplete %v", p.Incomplete)
	}
	if !slices.ContainsFunc(p.Uncovered, func(u Uncovered) bool { return strings.Contains(u.What, "could not be read") }) {
		t.Errorf("unread trails are not said: %v", p.Uncovered)
	}
}

func TestSinkOfHidesTheURLPath(t *testing.T) {
	for spec, want := range map[string]Sink{
		"slack:https://hooks.slack.com/services/T/B/SECRET": {"slack", "https://hooks.slack.com/…"},
		"webhook:https://example.com/hook?token=SECRET":     {"webhook", "https://example.com/…"},
		"sns:arn:aws:sns:us-east-1:111122223333:alerts":     {"sns", "arn:aws:sns:us-east-1:111122223333:alerts"},
		"jsonl:alerts.jsonl":                                {"jsonl", "alerts.jsonl"},
		"text":                                              {"text", "standard output of keywarden watch"},
	} {
		if got := SinkOf(spec); got != want {
			t.Errorf("SinkOf(%q) = %v, want %v", spec, got, want)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run %s -update rewrites it); got:\n%s", path, t.Name(), got)
	}
}

func TestPlanGoldenMarkdownAndJSON(t *testing.T) {
	for _, format := range []string{"md", "json"} {
		var b bytes.Buffer
		if err := WritePlan(&b, format, fixturePlan()); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "SECRETPATH") {
			t.Errorf("%s shows the slack URL's path", format)
		}
		golden(t, "plan."+format, b.Bytes())
	}
	var b bytes.Buffer
	_ = WritePlan(&b, "json", fixturePlan())
	var back Plan
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Keys) != 3 {
		t.Errorf("json does not read back: %v", err)
	}
}

func TestPlanHTMLIsEscapedAndComplete(t *testing.T) {
	p := fixturePlan()
	p.Keys[0].Owner = `<script>alert(1)</script>`
	var b bytes.Buffer
	if err := WritePlan(&b, "html", p); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	var scripts, steps, keys int
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "script":
				scripts++
			case n.Data == "li" && attr(n, "class") == "step":
				steps++
			case n.Data == "article" && attr(n, "class") == "key":
				keys++
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 0 || keys != 3 || steps != 15 {
		t.Errorf("html: %d scripts, %d keys, %d steps; want 0, 3, 15", scripts, keys, steps)
	}
	for _, want := range []string{"<script>alert(1)</script>", "keywarden respond AKIAROOTISH000000001", "No multi-region", "hooks.slack.com"} {
		if !strings.Contains(strings.ToLower(text.String()), strings.ToLower(want)) {
			t.Errorf("html text lacks %q", want)
		}
	}
	if strings.Contains(text.String(), "SECRETPATH") {
		t.Error("html shows the slack URL's path")
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
