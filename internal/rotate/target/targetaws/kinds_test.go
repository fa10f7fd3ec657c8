package targetaws_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
	"github.com/keywarden/keywarden/internal/secret"
)

// TestKindsAndFormsAgree keeps target.Forms, the forms every error and the
// help list, in step with what Parse knows once given these kinds.
func TestKindsAndFormsAgree(t *testing.T) {
	var formKinds []string
	for _, m := range regexp.MustCompile(`(?:^|, )([a-z]+):`).FindAllStringSubmatch(target.Forms, -1) {
		formKinds = append(formKinds, m[1])
	}
	for _, kind := range formKinds {
		if _, err := target.Parse(kind+":x", env(aws.Config{})); err != nil && strings.Contains(err.Error(), "unknown kind") {
			t.Errorf("target.Forms names %s:, which Parse does not know: %v", kind, err)
		}
	}
	for kind := range targetaws.Kinds(aws.Config{}) {
		if !slices.Contains(formKinds, kind) {
			t.Errorf("kind %s: is missing from target.Forms", kind)
		}
	}
}

func TestParseAcceptsTheAWSForms(t *testing.T) {
	for _, spec := range []string{
		"secretsmanager:ci/deploy",
		"secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/deploy-AbCdEf",
		"ssm:/ci/deploy",
		"ssm:/ci/deploy/",
		"ssm:plain-name",
	} {
		if tg := mustParse(t, spec, aws.Config{}); tg.String() != spec {
			t.Errorf("Parse(%q).String() = %q, want the spec", spec, tg.String())
		}
	}
}

func TestParseRejectsBadAWSSpecsNamingThemAndTheForms(t *testing.T) {
	for _, spec := range []string{"secretsmanager:", "ssm:", "ssm:/", "ssm:/a b"} {
		_, err := target.Parse(spec, env(aws.Config{}))
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", spec)
			continue
		}
		if !errors.Is(err, target.ErrBadSpec) {
			t.Errorf("Parse(%q) error does not wrap ErrBadSpec: %v", spec, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "\""+spec+"\"") || !strings.Contains(msg, target.Forms) {
			t.Errorf("Parse(%q) error does not name the spec and the forms: %v", spec, err)
		}
	}
}

// TestDeliverRefusesMalformedCredentials: values are embedded in JSON; a
// quote or newline in one must never be written (nor sent: no AWS here).
func TestDeliverRefusesMalformedCredentials(t *testing.T) {
	good := targettest.Creds("good")
	bad := []target.Credentials{
		{AccessKeyID: good.AccessKeyID, SecretAccessKey: secret.New("abc\"\nEVIL=1")},
		{AccessKeyID: "AKIA X", SecretAccessKey: good.SecretAccessKey},
		{AccessKeyID: good.AccessKeyID},
	}
	for _, spec := range []string{"ssm:/p", "secretsmanager:s"} {
		tg := mustParse(t, spec, aws.Config{})
		for _, c := range bad {
			if _, err := tg.Deliver(context.Background(), c); err == nil {
				t.Errorf("%s accepted credentials %q/%v", spec, c.AccessKeyID, c.SecretAccessKey)
			} else {
				targettest.AssertNoSecret(t, err, c)
			}
		}
	}
}
