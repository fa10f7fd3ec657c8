package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/state"
)

// TestDrillPlanAgainstMoto runs `drill plan` through Main, the SDK and
// audit's reader against moto: an administrator's key with a tagged owner,
// no trail, no sink. The plan names the key, its owner, the missing trail
// and sink, and respond commands that parse.
func TestDrillPlanAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	a := awstest.NewIAMAccount(t)
	a.Must(a.IAM.TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String("ci-admin"),
		Tags: []iamtypes.Tag{{Key: aws.String("Owner"), Value: aws.String("alice@example.com")}}}))
	moto.CreateUserKey(t, "reader") // no rights: no part of the plan
	statePath := filepath.Join(t.TempDir(), "state.db")

	stdout, stderr, code := runMain(t, "drill", "plan", "--format", "json", "--state", statePath, "--regions", "us-east-1")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var p drill.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if len(p.Keys) != 1 || p.Keys[0].KeyID != key.KeyID || p.Keys[0].Owner != "alice@example.com" || !p.Keys[0].Admin {
		t.Fatalf("keys %+v, want only %s of ci-admin, owned by alice@example.com", p.Keys, key.KeyID)
	}
	var whats []string
	for _, u := range p.Uncovered {
		whats = append(whats, u.What)
	}
	for _, want := range []string{"no multi-region CloudTrail trail", "no sink configured", "no canary key planted", "no drill ever run"} {
		if !slices.ContainsFunc(whats, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("not covered lacks %q: %q", want, whats)
		}
	}
	var commands []string
	for _, s := range p.Keys[0].Steps {
		if s.Command != "" {
			commands = append(commands, s.Command)
		}
	}
	if len(commands) != 4 {
		t.Errorf("%d commands, want 4: %q", len(commands), commands)
	}
	checkRespondCommands(t, commands)

	stdout, _, _ = runMain(t, "drill", "plan", "--format", "md", "--regions", "us-east-1", "--state", statePath, "--sink", "slack:https://hooks.slack.com/services/T/B/HOOKSECRET")
	for _, want := range []string{key.KeyID, "alice@example.com", "- slack: https://hooks.slack.com/…", "keywarden respond " + key.KeyID + " --apply --no-lookup --quarantine"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, stdout)
		}
	}
	out := filepath.Join(t.TempDir(), "plan.html")
	if _, stderr, code := runMain(t, "drill", "plan", "--format", "html", "--regions", "us-east-1", "--state", statePath, "-o", out, "--sink", "slack:https://hooks.slack.com/services/T/B/HOOKSECRET"); code != 0 && code != ExitIncomplete {
		t.Fatalf("html: exit %d\n%s", code, stderr)
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	if strings.Contains(page, key.Secret.Reveal()) || strings.Contains(page, "HOOKSECRET") {
		t.Error("the html plan holds a secret")
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if n := countElements(doc, "article"); n != 1 {
		t.Errorf("html has %d key articles, want 1", n)
	}
}

// TestDrillPlanIncompleteAgainstMoto: a region whose analyzers cannot be
// listed is named in the plan and on stderr, and the plan exits 3.
func TestDrillPlanIncompleteAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	moto.DenyAccessAnalyzer("us-east-1")
	stdout, stderr, code := runMain(t, "drill", "plan", "--format", "json", "--regions", "us-east-1", "--state", filepath.Join(t.TempDir(), "state.db"))
	if code != ExitIncomplete || !strings.Contains(stderr, "keywarden: incomplete: 1 region or read could not be read (the plan names them)") {
		t.Fatalf("exit %d, want 3; stderr:\n%s", code, stderr)
	}
	var p drill.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Incomplete) != 1 || p.Incomplete[0].Source != "region us-east-1" || len(p.Keys) != 1 {
		t.Errorf("incomplete %+v, %d keys; want region us-east-1 named and the key still planned", p.Incomplete, len(p.Keys))
	}
}

func countElements(n *html.Node, tag string) int {
	c := 0
	if n.Type == html.ElementNode && n.Data == tag {
		c++
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c += countElements(ch, tag)
	}
	return c
}

// TestDrillPlanCommandsParse: every command a plan can hold (a console
// administrator, a holder of dangerous rights, a trail bucket, a profile
// and a region) parses with respond's own flags.
func TestDrillPlanCommandsParse(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	k := func(id string) []audit.Key {
		return []audit.Key{{Slot: 1, ID: id, Status: audit.KeyActive, Created: audit.At(now.Add(-48 * time.Hour)), LastUsed: audit.Never()}}
	}
	inv := audit.Inventory{AccountID: "123456789012", TrailsRead: true,
		Trails: []audit.Trail{{Name: "t", HomeRegion: "us-east-1", MultiRegion: true, Bucket: "logs"}},
		Users: []audit.User{
			{Name: "admin", ARN: "arn:aws:iam::123456789012:user/admin", Admin: audit.Yes, MFA: audit.No, Password: audit.Yes, Keys: k(awstest.FakeKeyID("a", 123456789012))},
			{Name: "ci", ARN: "arn:aws:iam::123456789012:user/ci", Admin: audit.No, Dangerous: []string{"iam:PassRole"}, Keys: k(awstest.FakeKeyID("c", 123456789012))},
		}}
	res := audit.Judge([]audit.Account{{ID: inv.AccountID, Inventory: &inv}}, audit.Options{Config: audit.Config{AsOf: now}})
	p := drill.NewPlan(res, drill.Facts{Profile: "responder", Region: "eu-west-1"}, now)
	var commands []string
	for _, key := range p.Keys {
		for _, s := range key.Steps {
			if s.Command != "" {
				commands = append(commands, s.Command)
			}
		}
	}
	if len(p.Keys) != 2 || len(commands) != 8 || !strings.Contains(strings.Join(commands, "\n"), "--disable-console") {
		t.Fatalf("%d keys, commands %q", len(p.Keys), commands)
	}
	checkRespondCommands(t, commands)
}

// checkRespondCommands parses each command line with the flags of the
// command it names, as Main would, without running it.
func checkRespondCommands(t *testing.T, commands []string) {
	t.Helper()
	for _, line := range commands {
		args := strings.Fields(line)
		if args[0] != "keywarden" {
			t.Errorf("%q: not a keywarden command", line)
			continue
		}
		root := NewRootCmd(Deps{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		cmd, rest, err := root.Find(args[1:])
		if err != nil || cmd.Name() != "respond" {
			t.Errorf("%q: finds %v, %v; want respond", line, cmd.Name(), err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
			t.Errorf("%q: arguments: %v", line, err)
		}
	}
}

// TestDrillPlanCountsCanariesAndDrills: the state's canaries and its
// records of kind "drill" are counted; no database is none of either, and
// is not created.
func TestDrillPlanCountsCanariesAndDrills(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEYWARDEN_STATE", filepath.Join(dir, "state.db"))
	deps := Deps{OpenState: state.Open}
	ctx := context.Background()
	facts, err := planStateFacts(ctx, "", deps)
	if err != nil || facts.StateRead || facts.Canaries != 0 || facts.Drills != 0 {
		t.Fatalf("no database: %+v, %v", facts, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); !os.IsNotExist(err) {
		t.Fatalf("the plan created the state database: %v", err)
	}
	saveCanary(t, canary.Canary{Name: "bait", Account: "123456789012", User: "svc-bait", AccessKeyID: awstest.FakeKeyID("bait", 123456789012)})
	db, err := state.Open(os.Getenv("KEYWARDEN_STATE"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"drill-1", "drill-2"} {
		if err := db.Put(ctx, state.Record{Kind: drill.Kind, ID: id, Step: "done"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	facts, err = planStateFacts(ctx, "", deps)
	if err != nil || !facts.StateRead || facts.Canaries != 1 || facts.Drills != 2 {
		t.Errorf("facts %+v, %v; want 1 canary and 2 drills", facts, err)
	}
}

// TestDrillPlanOrgAgainstMoto runs `drill plan --org` against moto's
// organization of a management account and two members, one of which
// refuses the role: a plan per account (the management account's names its
// administrator's key; the member's has none), the unread member's plan
// saying it could not be read, exit 3; md and html hold every account.
func TestDrillPlanOrgAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	members := moto.NewOrganization(t)
	dev, prod := members[0], members[1]
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	t.Setenv("AWS_ENDPOINT_URL", moto.DenyAssumeRole(t, prod))
	state := filepath.Join(t.TempDir(), "state.db")

	stdout, stderr, code := runMain(t, "drill", "plan", "--org", "--regions", "us-east-1", "--format", "json", "--state", state)
	if code != ExitIncomplete || !strings.Contains(stderr, "keywarden: incomplete: 1 of 3 accounts could not be read (the plan names them)") {
		t.Fatalf("exit %d, want 3; stderr:\n%s", code, stderr)
	}
	var plans []drill.Plan
	if err := json.Unmarshal([]byte(stdout), &plans); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	byAccount := map[string]drill.Plan{}
	for _, p := range plans {
		byAccount[p.AccountID] = p
	}
	if len(plans) != 3 || len(byAccount) != 3 {
		t.Fatalf("%d plans for accounts %v, want 3", len(plans), slices.Collect(maps.Keys(byAccount)))
	}
	if m := byAccount["123456789012"]; len(m.Keys) != 1 || m.Keys[0].KeyID != key.KeyID || len(m.Incomplete) != 0 {
		t.Errorf("management plan: keys %+v, incomplete %+v", m.Keys, m.Incomplete)
	}
	if d := byAccount[dev]; len(d.Keys) != 0 || len(d.Incomplete) != 0 {
		t.Errorf("dev plan: keys %+v, incomplete %+v", d.Keys, d.Incomplete)
	}
	if p := byAccount[prod]; len(p.Incomplete) != 1 || !strings.Contains(p.Incomplete[0].Source, prod) || len(p.Keys) != 0 {
		t.Errorf("prod plan: keys %+v, incomplete %+v", p.Keys, p.Incomplete)
	}
	md, _, _ := runMain(t, "drill", "plan", "--org", "--regions", "us-east-1", "--state", state)
	page, _, _ := runMain(t, "drill", "plan", "--org", "--regions", "us-east-1", "--format", "html", "--state", state)
	for _, acct := range []string{"123456789012", dev, prod} {
		if !strings.Contains(md, "# Incident-response plan: account "+acct+"\n") || !strings.Contains(page, `<article class="account" id="account-`+acct+`">`) {
			t.Errorf("md or html lacks account %s", acct)
		}
	}
	if _, err := html.Parse(strings.NewReader(page)); err != nil || strings.Count(page, "<!DOCTYPE html>") != 1 {
		t.Errorf("html: %v", err)
	}
}
