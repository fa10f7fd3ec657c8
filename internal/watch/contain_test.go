package watch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/detect"
)

func TestContainRules(t *testing.T) {
	rules, err := ContainRules([]string{"KW-CT-IAM-CREATE-USER=contain", "KW-CT-ROOT=contain"})
	if err != nil || !rules["KW-CT-IAM-CREATE-USER"] || !rules["KW-CT-ROOT"] || len(rules) != 2 {
		t.Errorf("ContainRules = %v, %v", rules, err)
	}
	for _, bad := range []string{"KW-CT-ROOT", "KW-CT-ROOT=delete", "=contain"} {
		if _, err := ContainRules([]string{bad}); err == nil || err.Error() != `--respond "`+bad+`": want RULE=contain` {
			t.Errorf("ContainRules(%q) = %v", bad, err)
		}
	}
}

func TestContainOnAlertContainsEachLongTermKeyOnce(t *testing.T) {
	var contained []string
	var out bytes.Buffer
	hook := ContainOnAlert(map[string]bool{"KW-CT-IAM-CREATE-USER": true}, func(_ context.Context, key string) (string, error) {
		contained = append(contained, key)
		if key == awstest.FakeKeyID("broken", 123456789012) {
			return "", errors.New("AccessDenied")
		}
		return "inc-1", nil
	}, &out)
	leaked := awstest.FakeKeyID("leaked", 123456789012)
	session := "ASIA" + leaked[4:]
	alerts := []detect.Alert{
		{Rule: "KW-CT-IAM-CREATE-USER", AccessKeyID: leaked},
		{Rule: "KW-CT-IAM-CREATE-USER", AccessKeyID: leaked},                        // once a run
		{Rule: "KW-CT-ROOT", AccessKeyID: awstest.FakeKeyID("other", 123456789012)}, // not a rule to contain
		{Rule: "KW-CT-IAM-CREATE-USER", AccessKeyID: session},                       // a session key: its parent is what respond contains
	}
	for _, a := range alerts {
		if err := hook(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{leaked}, contained); diff != "" {
		t.Errorf("contained (-want +got):\n%s", diff)
	}
	want := "contained " + leaked + " after KW-CT-IAM-CREATE-USER: incident inc-1 (undo: keywarden respond undo inc-1)\n"
	if out.String() != want {
		t.Errorf("said %q, want %q", out.String(), want)
	}
	broken := awstest.FakeKeyID("broken", 123456789012)
	err := hook(context.Background(), detect.Alert{Rule: "KW-CT-IAM-CREATE-USER", AccessKeyID: broken})
	if err == nil || err.Error() != "--respond KW-CT-IAM-CREATE-USER=contain "+broken+": AccessDenied" {
		t.Errorf("a containment that failed: %v", err)
	}
}

func TestContainOnTakesOnlyTheRulesThePipelineRaises(t *testing.T) {
	own := filepath.Join(t.TempDir(), "own.yaml")
	rule := "rules:\n  - id: ACME-OWN\n    title: one's own\n    severity: low\n    match:\n      eventName: {equals: NeverCalled}\n"
	if err := os.WriteFile(own, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(Config{Store: &detect.MemStore{}, Rules: []string{own}})
	if err != nil {
		t.Fatal(err)
	}
	never := func(context.Context, string) (string, error) { return "", errors.New("not called") }
	for _, known := range []string{"KW-CT-ROOT", "KW-CT-ACCESS-DENIED-BURST", "KW-CT-BASELINE-REGION", "ACME-OWN"} {
		if err := p.ContainOn(map[string]bool{known: true}, never, io.Discard); err != nil || p.OnAlert == nil {
			t.Errorf("%s: %v", known, err)
		}
	}
	p.OnAlert = nil
	err = p.ContainOn(map[string]bool{"KW-CT-ROOT": true, "KW-CT-RO0T": true, "NOPE": true}, never, io.Discard)
	want := `--respond "KW-CT-RO0T=contain": unknown rule KW-CT-RO0T (the built-in rules are in 'keywarden watch --list-rules'; --rules and --sigma add theirs)`
	if err == nil || err.Error() != want || p.OnAlert != nil {
		t.Errorf("a typo: %v, want %q and no hook", err, want)
	}
}
