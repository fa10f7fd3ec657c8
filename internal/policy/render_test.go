package policy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/gap"
)

func TestRenderTextNamesEverySection(t *testing.T) {
	cur := effectiveOf(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:PassRole"],"Resource":"*"}]}`)
	s := suggestOf(t, realistic(t), Options{Principal: Principal{Type: "user", Name: "alice", KeyID: "AKIAIOSFODNN7EXAMPLE"}, Current: &cur})
	s.Incomplete = []gap.Gap{{Source: "s3://trail/AWSLogs/", Reason: "access denied"}}
	var b bytes.Buffer
	if err := Render(&b, "text", s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Suggested policy for user alice (key AKIAIOSFODNN7EXAMPLE): 37 events read.",
		"\"Sid\": \"S3Access1\"",
		"Actions used:",
		"iam:PassRole ", "needed by ec2:RunInstances",
		"Denied calls (not granted):", "iam:CreateUser",
		"Unmapped events (granted as named: check them):", "FrobnicateBucket",
		"Granted now and never used:", "s3:* ", "iam:PassRole",
		"Incomplete (a call made there is unknown, and this policy may deny it):", "s3://trail/AWSLogs/  access denied",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	var j bytes.Buffer
	if err := Render(&j, "json", s); err != nil {
		t.Fatal(err)
	}
	back, err := ParseSuggestion(j.Bytes())
	if err != nil || back.Events != s.Events || len(back.Denied) != 1 || len(back.Incomplete) != 1 {
		t.Fatalf("json round trip: %v %+v", err, back)
	}
}
