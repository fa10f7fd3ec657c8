package targetaws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// awsConfig starts (or resets) moto and returns a config pointing at it.
func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	awstest.Moto(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// env parses this package's kinds with cfg; tests never read the real environment.
func env(cfg aws.Config) target.Env {
	return target.Env{Kinds: targetaws.Kinds(cfg), Getenv: func(string) string { return "" }}
}

// creds builds a key pair at run time from seed: no key-shaped literal is committed.
func creds(seed string) target.Credentials {
	return target.Credentials{
		AccessKeyID:     awstest.FakeKeyID(seed, 123456789012),
		SecretAccessKey: secret.New(awstest.FakeSecret(seed)),
		UserName:        "ci-deploy",
		AccountID:       "123456789012",
		Created:         time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

func mustParse(t *testing.T, spec string, cfg aws.Config) target.Target {
	t.Helper()
	tg, err := target.Parse(spec, env(cfg))
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return tg
}

// deliver delivers c and fails the test on error.
func deliver(t *testing.T, tg target.Target, c target.Credentials) func(context.Context) error {
	t.Helper()
	restore, err := tg.Deliver(context.Background(), c)
	if err != nil {
		t.Fatalf("Deliver to %s: %v", tg, err)
	}
	return restore
}

// assertNoSecret fails when err's message carries any of the credentials' secrets.
func assertNoSecret(t *testing.T, err error, cs ...target.Credentials) {
	t.Helper()
	if err == nil {
		return
	}
	for _, c := range cs {
		if sec := c.SecretAccessKey.Reveal(); sec != "" && strings.Contains(err.Error(), sec) {
			t.Errorf("error carries the secret in clear: %v", err)
		}
	}
}
