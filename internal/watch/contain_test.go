package watch

import (
	"bytes"
	"context"
	"errors"
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
