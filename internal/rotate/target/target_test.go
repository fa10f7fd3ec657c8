package target_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
	"github.com/keywarden/keywarden/internal/secret"
)

// TestParseAcceptsEveryForm covers this package's kinds; targetaws tests its own.
func TestParseAcceptsEveryForm(t *testing.T) {
	env := target.Env{Getenv: getenv(map[string]string{"HOME": "/home/u"})}
	for _, spec := range []string{
		"envfile:.env",
		"envfile:~/deploy/.env",
		"github:octo-org/app.web",
		"github:octo-org/app:production",
		"gitlab:42",
		"gitlab:group/sub/project:review/*",
		"exec:./install-key.sh --user ci",
	} {
		tg, err := target.Parse(spec, env)
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		if tg.String() != spec {
			t.Errorf("Parse(%q).String() = %q, want the spec", spec, tg.String())
		}
	}
}

func TestParseRejectsBadSpecsNamingThemAndTheForms(t *testing.T) {
	for _, spec := range []string{
		"", "ssm", "s3:bucket/key",
		"envfile:", "github:", "github:owner", "github:owner/", "github:a/b/c", "github:o/r:",
		"github:../r", "gitlab:", "gitlab:/abs", "gitlab:g/p:", "gitlab:g//p", "exec:", "exec:   ",
	} {
		_, err := target.Parse(spec, target.Env{Getenv: getenv(nil)})
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

func TestParseEnvfileTildeNeedsHome(t *testing.T) {
	_, err := target.Parse("envfile:~/x.env", target.Env{Getenv: getenv(nil)})
	if err == nil || !strings.Contains(err.Error(), "HOME") {
		t.Fatalf("err = %v, want one about HOME", err)
	}
}

// TestDeliverRefusesMalformedCredentials: values are embedded in dotenv lines,
// JSON and shell input; a quote or newline in one must never be written.
func TestDeliverRefusesMalformedCredentials(t *testing.T) {
	dir := t.TempDir()
	good := targettest.Creds("good")
	bad := []target.Credentials{
		{AccessKeyID: good.AccessKeyID, SecretAccessKey: secret.New("abc\"\nEVIL=1")},
		{AccessKeyID: "AKIA X", SecretAccessKey: good.SecretAccessKey},
		{AccessKeyID: good.AccessKeyID},
	}
	for _, spec := range []string{"envfile:" + dir + "/x.env", "exec:true", "github:o/r", "gitlab:1"} {
		tg := mustParse(t, spec, target.Env{Getenv: getenv(nil)})
		for _, c := range bad {
			if _, err := tg.Deliver(context.Background(), c); err == nil {
				t.Errorf("%s accepted credentials %q/%v", spec, c.AccessKeyID, c.SecretAccessKey)
			} else {
				targettest.AssertNoSecret(t, err, c)
			}
		}
	}
}
