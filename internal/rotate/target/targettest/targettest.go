// Package targettest holds what the tests of every target kind share: key
// pairs built at run time, a delivery that fails the test, and the check
// that an error never quotes a secret. It is imported only by tests.
package targettest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
)

// Creds builds a key pair from seed: no key-shaped literal is committed.
func Creds(seed string) target.Credentials {
	return target.Credentials{
		AccessKeyID:     awstest.FakeKeyID(seed, 123456789012),
		SecretAccessKey: secret.New(awstest.FakeSecret(seed)),
		UserName:        "ci-deploy",
		AccountID:       "123456789012",
		Created:         time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

// Deliver delivers c to tg and fails the test on error; it returns the
// restore function.
func Deliver(t *testing.T, tg target.Target, c target.Credentials) func(context.Context) error {
	t.Helper()
	restore, err := tg.Deliver(context.Background(), c)
	if err != nil {
		t.Fatalf("Deliver to %s: %v", tg, err)
	}
	return restore
}

// AssertNoSecret fails when err's message carries any of the credentials'
// secrets.
func AssertNoSecret(t *testing.T, err error, cs ...target.Credentials) {
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
