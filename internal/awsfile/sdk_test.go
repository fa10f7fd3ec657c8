package awsfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/keywarden/keywarden/internal/awstest"
)

// isolateSDK keeps the environment's credentials and files out of the SDK.
func isolateSDK(t *testing.T) {
	t.Helper()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", t.TempDir())
}

// sdkCredentials loads credentials for profile from the files as the SDK does.
func sdkCredentials(t *testing.T, credsPath, configPath, profile string) (id, secret string, err error) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{credsPath}),
		config.WithSharedConfigFiles([]string{configPath}),
		config.WithSharedConfigProfile(profile),
		config.WithRegion("us-east-1"))
	if err != nil {
		return "", "", err
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		return "", "", err
	}
	return c.AccessKeyID, c.SecretAccessKey, nil
}

// TestSDKReadsWhatSetWrote edits tricky files and checks that the real SDK
// then uses the new key for every profile edited.
func TestSDKReadsWhatSetWrote(t *testing.T) {
	isolateSDK(t)
	oldID, oldSecret := awstest.FakeKeyID("old", 123456789012), awstest.FakeSecret("old")
	newID, newSecret := awstest.FakeKeyID("new", 123456789012), awstest.FakeSecret("new")
	tests := []struct {
		name, creds, config, profile string
	}{
		{"crlf with comments", "# top\r\n[default]\r\naws_access_key_id = %[1]s ; note\r\naws_secret_access_key=%[2]s\r\n", "", "default"},
		{"duplicate sections", "[p]\naws_access_key_id = X\naws_secret_access_key = Y\n[q]\n[p]\naws_access_key_id = %[1]s\naws_secret_access_key = %[2]s", "", "p"},
		{"upper-case keys and tabs", "[p]\nAWS_ACCESS_KEY_ID\t=\t%[1]s\nAws_Secret_Access_Key:%[2]s\n", "", "p"},
		{"key pair only in config", "", "[profile p]\naws_access_key_id = %[1]s\naws_secret_access_key = %[2]s\nregion = eu-west-1\n", "p"},
		{"profile missing from both", "", "", "fresh"},
		// Hostile or damaged files: the edit still lands where the SDK reads.
		{"NUL bytes beside the profile", "[other]\nnote = a\x00b\n\x00\x00\x00\n[p]\naws_access_key_id = %[1]s\naws_secret_access_key = %[2]s\n\x00\n", "", "p"},
		{"a 1 MB line beside it", "[other]\nnote = " + strings.Repeat("x", 1<<20) + "\n# " + strings.Repeat("y", 1<<20) +
			"\n[p]\naws_access_key_id = %[1]s\naws_secret_access_key = %[2]s\n", "", "p"},
		{"duplicate sections in both files", "[p]\naws_access_key_id = X\n[p]\naws_secret_access_key = %[2]s\n[p]\naws_access_key_id = %[1]s\n",
			"[profile p]\nregion = eu-west-1\n[profile p]\nregion = us-east-1\n", "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			credsPath, configPath := filepath.Join(dir, "credentials"), filepath.Join(dir, "config")
			for path, body := range map[string]string{credsPath: tt.creds, configPath: tt.config} {
				if body != "" {
					body = fmt.Sprintf(body, oldID, oldSecret)
				}
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			creds, _, err := Load(credsPath, Credentials)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := Load(configPath, Config)
			if err != nil {
				t.Fatal(err)
			}
			// Write where the SDK reads the key from today.
			target, path := creds, credsPath
			if p, err := Resolve(creds, cfg, tt.profile); err == nil && p.KeyFile == Config {
				target, path = cfg, configPath
			}
			for key, v := range map[string]string{"aws_access_key_id": newID, "aws_secret_access_key": newSecret} {
				if err := target.Set(tt.profile, key, v); err != nil {
					t.Fatalf("Set %s: %v", key, err)
				}
			}
			if err := Save(path, target, 0o600); err != nil {
				t.Fatal(err)
			}
			id, secret, err := sdkCredentials(t, credsPath, configPath, tt.profile)
			if err != nil {
				t.Fatalf("sdk load: %v", err)
			}
			if id != newID || secret != newSecret {
				t.Errorf("sdk reads key %s (secret matches: %v), want %s", id, secret == newSecret, newID)
			}
		})
	}
}
