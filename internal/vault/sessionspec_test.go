package vault_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/vault"
)

func secretOf(seed string) secret.Secret { return secret.New(awstest.FakeSecret(seed)) }

func parse(t testing.TB, text string, kind awsfile.Kind) *awsfile.File {
	t.Helper()
	f, err := awsfile.Parse([]byte(text), kind)
	if err != nil {
		t.Fatalf("parse %s: %v", kind, err)
	}
	return f
}

// specView is a SessionSpec with the base key reduced to what may be compared.
type specView struct {
	Source, BaseID, BaseSecret, MFASerial, Region string
	Duration                                      time.Duration
	Roles                                         []vault.RoleStep
}

func viewOf(s vault.SessionSpec) specView {
	return specView{Source: s.Source, BaseID: s.Base.ID, BaseSecret: s.Base.Secret.Reveal(), MFASerial: s.MFASerial,
		Region: s.Region, Duration: s.Duration, Roles: s.Roles}
}

func TestSessionSpecFor(t *testing.T) {
	fileID, fileSecret := awstest.FakeKeyID("file", 123456789012), awstest.FakeSecret("file")
	vaultID, vaultSecret := awstest.FakeKeyID("vault", 123456789012), awstest.FakeSecret("vault")
	keyLines := fmt.Sprintf("aws_access_key_id = %s\naws_secret_access_key = %s\n", fileID, fileSecret)
	vaulted := credential.Key{ID: vaultID, Secret: secret.New(vaultSecret)}
	role := func(n string) string { return "arn:aws:iam::123456789012:role/" + n }
	tests := []struct {
		name          string
		creds, config string
		profile       string
		base          credential.Key
		want          specView
	}{
		{"key profile takes the file's key and duration", "[dev]\n" + keyLines,
			"[profile dev]\nduration_seconds = 7200\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n", "dev", credential.Key{},
			specView{Source: "dev", BaseID: fileID, BaseSecret: fileSecret, MFASerial: "arn:aws:iam::123456789012:mfa/me",
				Region: "eu-west-1", Duration: 2 * time.Hour}},
		{"imported profile uses the vault's key", "[dev]\ncredential_process = keywarden creds process dev\n", "", "dev", vaulted,
			specView{Source: "dev", BaseID: vaultID, BaseSecret: vaultSecret}},
		{"given key wins over the file's", "[dev]\n" + keyLines, "", "dev", vaulted,
			specView{Source: "dev", BaseID: vaultID, BaseSecret: vaultSecret}},
		{"role profile with source_profile", "[base]\n" + keyLines,
			"[profile ops]\nrole_arn = " + role("ops") + "\nsource_profile = base\nexternal_id = x-1\nrole_session_name = me\nduration_seconds = 900\n",
			"ops", credential.Key{},
			specView{Source: "base", BaseID: fileID, BaseSecret: fileSecret,
				Roles: []vault.RoleStep{{Profile: "ops", RoleARN: role("ops"), ExternalID: "x-1", SessionName: "me", Duration: 15 * time.Minute}}}},
		{"two-step chain runs from the source outward, mfa from the source", "[base]\ncredential_process = keywarden creds process base\n",
			"[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n[profile A]\nrole_arn = " + role("r1") + "\nsource_profile = base\n" +
				"[profile B]\nrole_arn = " + role("r2") + "\nsource_profile = A\n", "B", vaulted,
			specView{Source: "base", BaseID: vaultID, BaseSecret: vaultSecret, MFASerial: "arn:aws:iam::123456789012:mfa/me",
				Roles: []vault.RoleStep{{Profile: "A", RoleARN: role("r1")}, {Profile: "B", RoleARN: role("r2")}}}},
		{"profile's own mfa_serial wins over its source's", "[base]\n" + keyLines,
			"[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/base\n[profile A]\nrole_arn = " + role("r1") +
				"\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/a\n", "A", credential.Key{},
			specView{Source: "base", BaseID: fileID, BaseSecret: fileSecret, MFASerial: "arn:aws:iam::123456789012:mfa/a",
				Roles: []vault.RoleStep{{Profile: "A", RoleARN: role("r1")}}}},
		{"profile that is its own source assumes its role with its key", "[self]\n" + keyLines + "role_arn = " + role("r1") + "\nsource_profile = self\n",
			"", "self", credential.Key{},
			specView{Source: "self", BaseID: fileID, BaseSecret: fileSecret, Roles: []vault.RoleStep{{Profile: "self", RoleARN: role("r1")}}}},
		{"credentials file overrides role_arn of the config", "[base]\n" + keyLines + "[A]\nrole_arn = " + role("fromcreds") + "\n",
			"[profile A]\nrole_arn = " + role("fromconfig") + "\nsource_profile = base\n", "A", credential.Key{},
			specView{Source: "base", BaseID: fileID, BaseSecret: fileSecret, Roles: []vault.RoleStep{{Profile: "A", RoleARN: role("fromcreds")}}}},
		{"role_arn without a source is ignored as the sdk does", "[dev]\n" + keyLines + "role_arn = " + role("r1") + "\n", "", "dev", credential.Key{},
			specView{Source: "dev", BaseID: fileID, BaseSecret: fileSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, config := parse(t, tt.creds, awsfile.Credentials), parse(t, tt.config, awsfile.Config)
			spec, err := vault.SessionSpecFor(creds, config, tt.profile, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Profile != tt.profile {
				t.Errorf("profile = %q, want %q", spec.Profile, tt.profile)
			}
			if diff := cmp.Diff(tt.want, viewOf(spec)); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionSpecForRejects(t *testing.T) {
	secretText := awstest.FakeSecret("file")
	keyLines := "aws_access_key_id = " + awstest.FakeKeyID("file", 123456789012) + "\naws_secret_access_key = " + secretText + "\n"
	tests := []struct {
		name          string
		creds, config string
		profile       string
		base          credential.Key
		wantErr       error
		wantText      string
	}{
		{"missing profile", "", "", "ghost", credential.Key{}, awsfile.ErrProfileNotFound, `"ghost"`},
		{"missing source profile", "", "[profile A]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = gone\n", "A",
			credential.Key{}, awsfile.ErrProfileNotFound, `its source_profile "gone" is not in`},
		{"source_profile loop", "", "[profile A]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = B\n" +
			"[profile B]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = A\n", "A", credential.Key{}, awsfile.ErrSourceCycle, "loops"},
		{"source_profile without role_arn", "[base]\n" + keyLines, "[profile A]\nsource_profile = base\n", "A",
			credential.Key{}, awsfile.ErrInvalidProfile, "without role_arn"},
		{"source profile with no key", "", "[profile base]\nregion = eu-west-1\n[profile A]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\n",
			"A", credential.Key{}, awsfile.ErrNoKey, `source profile "base"`},
		{"imported source without the vault's key", "[base]\ncredential_process = keywarden creds process base\n",
			"[profile A]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\n", "A", credential.Key{}, awsfile.ErrCredentialProcess, `no long-term key for source profile "base"`},
		{"credential_source is unsupported", "", "[profile A]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Ec2InstanceMetadata\n", "A",
			credential.Key{ID: awstest.FakeKeyID("v", 1), Secret: secretOf("v")}, vault.ErrUnsupportedProfile, "credential_source"},
		{"sso is unsupported", "", "[profile A]\nsso_session = corp\n", "A",
			credential.Key{ID: awstest.FakeKeyID("v", 1), Secret: secretOf("v")}, vault.ErrUnsupportedProfile, "sso"},
		{"half a key pair", "[dev]\naws_access_key_id = " + awstest.FakeKeyID("file", 123456789012) + "\n", "", "dev",
			credential.Key{}, awsfile.ErrPartialKey, "only one of"},
		{"duration_seconds not a number", "[dev]\n" + keyLines, "[profile dev]\nduration_seconds = 1h\n", "dev",
			credential.Key{}, nil, `duration_seconds "1h"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, config := parse(t, tt.creds, awsfile.Credentials), parse(t, tt.config, awsfile.Config)
			_, err := vault.SessionSpecFor(creds, config, tt.profile, tt.base)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), `profile "`+tt.profile+`"`) {
				t.Errorf("err = %q, want it to name profile %q and say %q", err, tt.profile, tt.wantText)
			}
			if strings.Contains(err.Error(), secretText) {
				t.Errorf("error holds the secret: %v", err)
			}
		})
	}
}

func TestSessionSpecForNilFiles(t *testing.T) {
	_, err := vault.SessionSpecFor(nil, nil, "dev", credential.Key{})
	if !errors.Is(err, awsfile.ErrProfileNotFound) {
		t.Errorf("err = %v, want profile not found", err)
	}
}

func TestEffectiveClampsDurations(t *testing.T) {
	step := func(p string, d time.Duration) vault.RoleStep {
		return vault.RoleStep{Profile: p, RoleARN: "arn:" + p, Duration: d}
	}
	tests := []struct {
		name      string
		spec      vault.SessionSpec
		wantDur   time.Duration
		wantRoles []time.Duration
		wantNotes []string
	}{
		{"defaults are 1h", vault.SessionSpec{Profile: "p"}, time.Hour, nil, nil},
		{"session token above 36h", vault.SessionSpec{Profile: "p", Duration: 48 * time.Hour}, 36 * time.Hour, nil,
			[]string{"profile p: duration 48h0m0s is above the get-session-token limit of 36h0m0s; using 36h0m0s"}},
		{"below 15m", vault.SessionSpec{Profile: "p", Duration: time.Minute}, 15 * time.Minute, nil,
			[]string{"profile p: duration 1m0s is below the get-session-token minimum of 15m0s; using 15m0s"}},
		{"first role up to 12h, chained roles 1h", vault.SessionSpec{Profile: "b",
			Roles: []vault.RoleStep{step("a", 8*time.Hour), step("b", 2*time.Hour)}}, 0, []time.Duration{8 * time.Hour, time.Hour},
			[]string{"profile b: duration 2h0m0s is above the role chaining limit of 1h0m0s; using 1h0m0s"}},
		{"first role above 12h", vault.SessionSpec{Profile: "a", Roles: []vault.RoleStep{step("a", 13*time.Hour)}}, 0,
			[]time.Duration{12 * time.Hour}, []string{"profile a: duration 13h0m0s is above the assume-role limit of 12h0m0s; using 12h0m0s"}},
		{"with mfa every role is chained", vault.SessionSpec{Profile: "a", MFASerial: "arn:mfa",
			Roles: []vault.RoleStep{step("a", 8*time.Hour)}}, time.Hour, []time.Duration{time.Hour},
			[]string{"profile a: duration 8h0m0s is above the role chaining limit of 1h0m0s; using 1h0m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]vault.RoleStep(nil), tt.spec.Roles...)
			got, notes := tt.spec.Effective()
			if !cmp.Equal(before, tt.spec.Roles) {
				t.Error("Effective changed the caller's roles")
			}
			var roles []time.Duration
			for _, r := range got.Roles {
				roles = append(roles, r.Duration)
			}
			if got.Duration != tt.wantDur || !cmp.Equal(roles, tt.wantRoles) {
				t.Errorf("durations = %v %v, want %v %v", got.Duration, roles, tt.wantDur, tt.wantRoles)
			}
			if diff := cmp.Diff(tt.wantNotes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheKey(t *testing.T) {
	base := vault.SessionSpec{Profile: "b", Source: "src",
		Base:      credential.Key{ID: awstest.FakeKeyID("k", 123456789012), Secret: secretOf("k")},
		MFASerial: "arn:aws:iam::123456789012:mfa/me",
		Roles:     []vault.RoleStep{{Profile: "a", RoleARN: "arn:r1", ExternalID: "ext-secretish"}, {Profile: "b", RoleARN: "arn:r2"}},
		Region:    "eu-west-1"}
	key := base.CacheKey()
	if strings.Contains(key, "ext-secretish") || strings.Contains(key, base.Base.Secret.Reveal()) || len(key) != 64 {
		t.Errorf("cache key %q, want a 64-hex digest holding nothing in clear", key)
	}
	same := map[string]func(s *vault.SessionSpec){
		"another region": func(s *vault.SessionSpec) { s.Region = "us-east-1" },
		"another secret": func(s *vault.SessionSpec) { s.Base.Secret = secretOf("other") },
	}
	differs := map[string]func(s *vault.SessionSpec){
		"profile":     func(s *vault.SessionSpec) { s.Profile = "c" },
		"key id":      func(s *vault.SessionSpec) { s.Base.ID = awstest.FakeKeyID("k2", 123456789012) },
		"mfa serial":  func(s *vault.SessionSpec) { s.MFASerial = "" },
		"role arn":    func(s *vault.SessionSpec) { s.Roles[1].RoleARN = "arn:r3" },
		"external id": func(s *vault.SessionSpec) { s.Roles[0].ExternalID = "other" },
		"fewer roles": func(s *vault.SessionSpec) { s.Roles = s.Roles[:1] },
		"field shift": func(s *vault.SessionSpec) { s.Roles[0].Profile, s.Roles[0].RoleARN = "aarn:r1", "" },
	}
	for name, change := range same {
		s := base
		s.Roles = append([]vault.RoleStep(nil), base.Roles...)
		change(&s)
		if s.CacheKey() != key {
			t.Errorf("%s changed the cache key", name)
		}
	}
	for name, change := range differs {
		s := base
		s.Roles = append([]vault.RoleStep(nil), base.Roles...)
		change(&s)
		if s.CacheKey() == key {
			t.Errorf("%s kept the cache key", name)
		}
	}
}

// FuzzSessionSpecFor: any pair of shared files gives a spec or an error,
// never a panic, and a spec always has a key and roles with ARNs.
func FuzzSessionSpecFor(f *testing.F) {
	f.Add("[base]\naws_access_key_id = a\naws_secret_access_key = b\n", "[profile A]\nrole_arn = r\nsource_profile = base\n", "A")
	f.Add("[A]\nrole_arn = r\nsource_profile = A\n", "[profile A]\nsource_profile = A\nduration_seconds = 99999999999999999999\n", "A")
	f.Fuzz(func(t *testing.T, credsText, configText, profile string) {
		creds, err1 := awsfile.Parse([]byte(credsText), awsfile.Credentials)
		config, err2 := awsfile.Parse([]byte(configText), awsfile.Config)
		if err1 != nil || err2 != nil {
			return
		}
		spec, err := vault.SessionSpecFor(creds, config, profile, credential.Key{})
		if err != nil {
			return
		}
		if spec.Base.ID == "" || spec.Base.Secret.IsZero() {
			t.Errorf("spec without a key: %+v", viewOf(spec))
		}
		for _, r := range spec.Roles {
			if r.RoleARN == "" {
				t.Errorf("role step without an arn: %+v", r)
			}
		}
		spec.Effective()
		spec.CacheKey()
	})
}
