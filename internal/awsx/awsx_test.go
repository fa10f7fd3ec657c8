package awsx_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestLoadHonoursEndpointVariables(t *testing.T) {
	tests := map[string]func(t *testing.T, motoURL string){
		"AWS_ENDPOINT_URL": func(t *testing.T, motoURL string) {},
		"AWS_ENDPOINT_URL_STS wins over AWS_ENDPOINT_URL": func(t *testing.T, motoURL string) {
			t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens there
			t.Setenv("AWS_ENDPOINT_URL_STS", motoURL)
		},
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			s := awstest.Moto(t)
			setup(t, s.URL)
			t.Setenv("AWS_MAX_ATTEMPTS", "1")
			cfg, err := awsx.Load(context.Background(), awsx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity through the configured endpoint: %v", err)
			}
			if *out.Account != "123456789012" {
				t.Errorf("account = %s, want moto's 123456789012", *out.Account)
			}
		})
	}
}

func TestLoadOptionsOverrideEnvironment(t *testing.T) {
	awstest.Moto(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{Region: "eu-west-3"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-3" {
		t.Errorf("region = %q, want eu-west-3", cfg.Region)
	}
}

func TestLoadUnknownProfileNamesIt(t *testing.T) {
	awstest.Moto(t)
	_, err := awsx.Load(context.Background(), awsx.Options{Profile: "no-such-profile"})
	if err == nil || !strings.Contains(err.Error(), `profile "no-such-profile"`) {
		t.Errorf("err = %v, want one naming the profile", err)
	}
}

func TestKeyCheckerClassifiesKeys(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	admin := s.CreateUserKey(t, "admin", awstest.AdminPolicy)
	// The environment holds a working key: a checker that fell back to it
	// instead of the key under test would call unknown keys active.
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checker := awsx.NewKeyChecker(cfg)
	tests := []struct {
		name     string
		key      credential.Key
		want     credential.Status
		wantARN  string
		wantCode string
	}{
		{"key created in the account is active", credential.Key{ID: alice.KeyID, Secret: alice.Secret}, credential.Active, alice.ARN, ""},
		{"unknown key id is invalid",
			credential.Key{ID: awstest.FakeKeyID("unknown", 123456789012), Secret: secret.New(awstest.FakeSecret("unknown"))},
			credential.Invalid, "", "InvalidClientTokenId"},
		{"known key id with a wrong secret is invalid",
			credential.Key{ID: alice.KeyID, Secret: secret.New(awstest.FakeSecret("wrong"))},
			credential.Invalid, "", "SignatureDoesNotMatch"},
		{"unknown session credentials are invalid",
			credential.Key{ID: awstest.FakeSessionKeyID("s", 123456789012), Secret: secret.New(awstest.FakeSecret("s")), SessionToken: secret.New(awstest.FakeSessionToken("s"))},
			credential.Invalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checker.CheckKey(context.Background(), tt.key)
			if got.Status != tt.want || got.ARN != tt.wantARN {
				t.Fatalf("CheckKey = %v %q (%v), want %v %q", got.Status, got.ARN, got.Err, tt.want, tt.wantARN)
			}
			if tt.want == credential.Active && got.Account != "123456789012" {
				t.Errorf("account = %q", got.Account)
			}
			if tt.wantCode != "" && (got.Err == nil || !strings.Contains(got.Err.Error(), tt.wantCode)) {
				t.Errorf("err = %v, want %s", got.Err, tt.wantCode)
			}
			if got.Err != nil && strings.Contains(got.Err.Error(), tt.key.Secret.Reveal()) {
				t.Error("error holds the secret")
			}
		})
	}
}

func TestKeyCheckerUnreachableIsUnknown(t *testing.T) {
	awstest.Moto(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sec := awstest.FakeSecret("net")
	got := awsx.NewKeyChecker(cfg).CheckKey(context.Background(), credential.Key{ID: awstest.FakeKeyID("net", 1), Secret: secret.New(sec)})
	if got.Status != credential.Unknown || got.Err == nil {
		t.Fatalf("CheckKey = %v (%v), want unknown with an error", got.Status, got.Err)
	}
	if strings.Contains(got.Err.Error(), sec) {
		t.Error("error holds the secret")
	}
}

func TestKeyCheckerHonoursCancellation(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := awsx.NewKeyChecker(cfg).CheckKey(ctx, credential.Key{ID: alice.KeyID, Secret: alice.Secret})
	if got.Status != credential.Unknown {
		t.Errorf("CheckKey with a cancelled context = %v, want unknown", got.Status)
	}
}

// TestLoadSettingsOnly: a role profile with mfa_serial loads for its
// settings without an MFA prompt, whatever AWS_PROFILE names; loaded for its
// credentials it needs one.
func TestLoadSettingsOnly(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	text := "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n" +
		"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = eu-north-1\n[profile base]\ncredential_process = false\n"
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "nowhere")
	t.Setenv("AWS_REGION", "")
	cfg, err := awsx.Load(context.Background(), awsx.Options{Profile: "admin", SettingsOnly: true})
	if err != nil || cfg.Region != "eu-north-1" {
		t.Errorf("settings only: region %q, %v; want the profile's region and no error", cfg.Region, err)
	}
	if _, err := awsx.Load(context.Background(), awsx.Options{Profile: "admin"}); err == nil {
		t.Error("for its credentials, a role profile with mfa_serial needs a way to ask for the code")
	}
}
