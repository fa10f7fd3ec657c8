package awsfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/internal/awstest"
)

func TestResolve(t *testing.T) {
	isolateSDK(t)
	id1, sec1 := awstest.FakeKeyID("one", 111122223333), awstest.FakeSecret("one")
	id2, sec2 := awstest.FakeKeyID("two", 111122223333), awstest.FakeSecret("two")
	keys := func(id, sec string) string {
		return fmt.Sprintf("aws_access_key_id = %s\naws_secret_access_key = %s\n", id, sec)
	}
	const role = "role_arn = arn:aws:iam::111122223333:role/r\n"
	tests := []struct {
		name, creds, config, profile string
		want                         Profile
		err                          error
		sdkErrs                      bool // the SDK rejects the profile too
	}{
		{name: "static key in credentials, region in config",
			creds: "[dev]\n" + keys(id1, sec1), config: "[profile dev]\nregion = eu-west-1\nmfa_serial = arn:mfa\n", profile: "dev",
			want: Profile{Name: "dev", Chain: []string{"dev"}, KeyFile: Credentials, AccessKeyID: id1, Region: "eu-west-1", MFASerial: "arn:mfa"}},
		{name: "static key only in config",
			config: "[default]\n" + keys(id1, sec1), profile: "default",
			want: Profile{Name: "default", Chain: []string{"default"}, KeyFile: Config, AccessKeyID: id1}},
		{name: "credentials file wins over config",
			creds: "[p]\n" + keys(id1, sec1), config: "[profile p]\n" + keys(id2, sec2), profile: "p",
			want: Profile{Name: "p", Chain: []string{"p"}, KeyFile: Credentials, AccessKeyID: id1}},
		{name: "role with source profile points at the source",
			creds: "[base]\n" + keys(id1, sec1), config: "[profile admin]\n" + role + "source_profile = base\nmfa_serial = m\n", profile: "admin",
			want: Profile{Name: "admin", SourceProfile: "base", Chain: []string{"admin", "base"}, KeyFile: Credentials, AccessKeyID: id1,
				RoleARN: "arn:aws:iam::111122223333:role/r", MFASerial: "m"}},
		{name: "role chain is followed to the key",
			creds: "[c]\n" + keys(id2, sec2), config: "[profile a]\n" + role + "source_profile = b\n[profile b]\n" + role + "source_profile = c\n", profile: "a",
			want: Profile{Name: "a", SourceProfile: "c", Chain: []string{"a", "b", "c"}, KeyFile: Credentials, AccessKeyID: id2,
				RoleARN: "arn:aws:iam::111122223333:role/r"}},
		{name: "profile that is its own source uses its key",
			creds: "[s]\n" + role + "source_profile = s\n" + keys(id1, sec1), profile: "s",
			want: Profile{Name: "s", Chain: []string{"s", "s"}, KeyFile: Credentials, AccessKeyID: id1, RoleARN: "arn:aws:iam::111122223333:role/r"}},
		{name: "source with its own role stops at its key",
			creds: "[b]\n" + role + "source_profile = a\n" + keys(id2, sec2) + "[a]\n" + role + "source_profile = b\n", profile: "a",
			want: Profile{Name: "a", SourceProfile: "b", Chain: []string{"a", "b"}, KeyFile: Credentials, AccessKeyID: id2,
				RoleARN: "arn:aws:iam::111122223333:role/r"}},
		{name: "static key wins over credential_process",
			creds: "[p]\n" + keys(id1, sec1) + "credential_process = x\n", profile: "p",
			want: Profile{Name: "p", Chain: []string{"p"}, KeyFile: Credentials, AccessKeyID: id1}},
		{name: "source cycle without keys",
			config: "[profile a]\n" + role + "source_profile = b\n[profile b]\n" + role + "source_profile = a\n", profile: "a", err: ErrSourceCycle, sdkErrs: true},
		{name: "credential process", config: "[profile p]\ncredential_process = keywarden creds get\n", profile: "p", err: ErrCredentialProcess},
		{name: "sso session", config: "[profile p]\nsso_session = s\n[sso-session s]\nsso_region = r\nsso_start_url = u\n", profile: "p", err: ErrSSO},
		{name: "legacy sso", config: "[profile p]\nsso_start_url = u\n", profile: "p", err: ErrSSO},
		{name: "session token", creds: "[p]\n" + keys(id1, sec1) + "aws_session_token = t\n", profile: "p", err: ErrSessionToken},
		{name: "web identity", config: "[profile p]\n" + role + "web_identity_token_file = /t\n", profile: "p", err: ErrWebIdentity},
		{name: "credential source", config: "[profile p]\n" + role + "credential_source = Ec2InstanceMetadata\n", profile: "p", err: ErrCredentialSource},
		{name: "no key", config: "[profile p]\nregion = r\n", profile: "p", err: ErrNoKey},
		{name: "missing profile", creds: "[q]\n", profile: "p", err: ErrProfileNotFound, sdkErrs: true},
		{name: "missing source profile", config: "[profile p]\n" + role + "source_profile = q\n", profile: "p", err: ErrProfileNotFound, sdkErrs: true},
		{name: "partial key", creds: "[p]\naws_access_key_id = " + id1 + "\n", profile: "p", err: ErrPartialKey, sdkErrs: true},
		{name: "source profile without role", creds: "[p]\nsource_profile = q\n[q]\n" + keys(id1, sec1), profile: "p", err: ErrInvalidProfile, sdkErrs: true},
		{name: "config profile needs its prefix", creds: "", config: "[p]\n" + keys(id1, sec1), profile: "p", err: ErrProfileNotFound, sdkErrs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := mustParse(t, tt.creds, Credentials)
			cfg := mustParse(t, tt.config, Config)
			got, err := Resolve(creds, cfg, tt.profile)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Resolve error = %v, want %v", err, tt.err)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Profile{}, "SecretAccessKey")); diff != "" {
					t.Errorf("Profile (-want +got):\n%s", diff)
				}
				if s := fmt.Sprintf("%v %+v", got, got); strings.Contains(s, sec1) || strings.Contains(s, sec2) {
					t.Errorf("formatted Profile shows the secret")
				}
			}
			checkSDKAgrees(t, tt.creds, tt.config, tt.profile, got, err, tt.sdkErrs)
		})
	}
}

// checkSDKAgrees loads the profile with the SDK's shared config loader and
// compares the key at the end of its source chain with Resolve's answer.
func checkSDKAgrees(t *testing.T, creds, cfg, profile string, p Profile, rerr error, sdkErrs bool) {
	t.Helper()
	dir := t.TempDir()
	cp, fp := filepath.Join(dir, "credentials"), filepath.Join(dir, "config")
	os.WriteFile(cp, []byte(creds), 0o600)
	os.WriteFile(fp, []byte(cfg), 0o600)
	sc, err := config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles, o.ConfigFiles = []string{cp}, []string{fp}
	})
	if sdkErrs {
		if err == nil {
			t.Errorf("sdk accepted a profile Resolve rejects with %v", rerr)
		}
		return
	}
	if err != nil {
		if !errors.Is(rerr, ErrInvalidProfile) {
			t.Errorf("sdk rejects the profile: %v", err)
		}
		return
	}
	for sc.Source != nil {
		sc = *sc.Source
	}
	if rerr == nil && sc.Credentials.AccessKeyID != p.AccessKeyID {
		t.Errorf("sdk uses key %q, Resolve %q", sc.Credentials.AccessKeyID, p.AccessKeyID)
	}
}
