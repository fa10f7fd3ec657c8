package vaultaws_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/vault"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// stsCall is one STS request as it crossed the wire, and what came back.
type stsCall struct {
	Action string
	Signer string     // the access key id in the Authorization header
	Params url.Values // the form, without Action and Version
	Issued string     // AccessKeyId of the credentials in the answer
}

// stsRecorder is an HTTP proxy in front of moto that records every STS
// request: what MintSession sends is read off the wire, not from the SDK.
type stsRecorder struct {
	mu    sync.Mutex
	calls []stsCall
}

func recordSTS(t *testing.T, s *awstest.MotoServer) *stsRecorder {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &stsRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = rec.answer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if form.Get("Version") == "2011-06-15" { // STS's query API version
			call := stsCall{Action: form.Get("Action"), Signer: signer(r.Header.Get("Authorization")), Params: form}
			form.Del("Action")
			form.Del("Version")
			rec.mu.Lock()
			rec.calls = append(rec.calls, call)
			rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	return rec
}

// answer notes the key id STS issued to the last recorded call.
func (rec *stsRecorder) answer(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	id := issuedKeyID(body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.calls); n > 0 && id != "" {
		rec.calls[n-1].Issued = id
	}
	return nil
}

// issuedKeyID is the first <AccessKeyId> of an STS answer, whichever
// action's result wraps it.
func issuedKeyID(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if start, ok := tok.(xml.StartElement); ok && start.Name.Local == "AccessKeyId" {
			var id string
			dec.DecodeElement(&id, &start)
			return id
		}
	}
}

func (rec *stsRecorder) Calls() []stsCall {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]stsCall(nil), rec.calls...)
}

func signer(auth string) string {
	_, rest, _ := strings.Cut(auth, "Credential=")
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// mfaPrompt counts the prompts and answers code.
type mfaPrompt struct {
	code    string
	serials []string
}

func (p *mfaPrompt) ask(serial string) (string, error) {
	p.serials = append(p.serials, serial)
	return p.code, nil
}

func loadCfg(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func secretOf(seed string) secret.Secret { return secret.New(awstest.FakeSecret(seed)) }

func baseKey(u awstest.UserKey) credential.Key {
	return credential.Key{ID: u.KeyID, Secret: u.Secret}
}

// TestMintSessionGetSessionToken proves what MintSession sends for a profile
// without a role. Moto does not check MFA codes and answers GetSessionToken
// with AWS's fixed example credentials, so this proves the request (signer,
// serial, code, duration) and the one prompt, not that AWS would accept it.
func TestMintSessionGetSessionToken(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	tests := []struct {
		name       string
		mfaSerial  string
		wantParams url.Values
		wantAsked  []string
	}{
		{"without mfa sends no serial or code", "",
			url.Values{"DurationSeconds": {"3600"}}, nil},
		{"with mfa asks once and sends the code", serial,
			url.Values{"DurationSeconds": {"3600"}, "SerialNumber": {serial}, "TokenCode": {"123456"}}, []string{serial}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.Moto(t)
			alice := s.CreateUserKey(t, "alice")
			rec := recordSTS(t, s)
			prompt := &mfaPrompt{code: " 123456\n"}
			spec := vault.SessionSpec{Profile: "dev", Source: "dev", Base: baseKey(alice), MFASerial: tt.mfaSerial}
			key, exp, err := vaultaws.MintSession(context.Background(), loadCfg(t), spec, prompt.ask)
			if err != nil {
				t.Fatal(err)
			}
			if key.ID == "" || key.Secret.IsZero() || key.SessionToken.IsZero() || exp.IsZero() {
				t.Errorf("minted key %v expiring %v, want a full session", key, exp)
			}
			want := []stsCall{{Action: "GetSessionToken", Signer: alice.KeyID, Params: tt.wantParams, Issued: key.ID}}
			if diff := cmp.Diff(want, rec.Calls()); diff != "" {
				t.Errorf("sts calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAsked, prompt.serials); diff != "" {
				t.Errorf("mfa prompts (-want +got):\n%s", diff)
			}
		})
	}
}

// chainFiles is profile B (role2, external id ext-2) whose source is A
// (role1, external id ext-1) whose source is base, which holds the key.
func chainFiles(t *testing.T, u awstest.UserKey, extra string) (creds, config *awsfile.File) {
	t.Helper()
	creds = parse(t, "[base]\naws_access_key_id = "+u.KeyID+"\naws_secret_access_key = "+u.Secret.Reveal()+"\n", awsfile.Credentials)
	config = parse(t, "[profile base]\n"+extra+"\n"+
		"[profile A]\nrole_arn = arn:aws:iam::123456789012:role/role1\nsource_profile = base\nexternal_id = ext-1\nduration_seconds = 7200\n"+
		"[profile B]\nrole_arn = arn:aws:iam::123456789012:role/role2\nsource_profile = A\nexternal_id = ext-2\n"+
		"duration_seconds = 7200\nrole_session_name = bob-session\nregion = eu-west-1\n", awsfile.Config)
	return creds, config
}

func parse(t testing.TB, text string, kind awsfile.Kind) *awsfile.File {
	t.Helper()
	f, err := awsfile.Parse([]byte(text), kind)
	if err != nil {
		t.Fatalf("parse %s: %v", kind, err)
	}
	return f
}

// createRoles makes role1 and role2 trusting the account, as a real setup
// would. With auth off moto evaluates no policy, trust or external id, so
// these tests check the external ids on the wire;
// TestMintSessionChainUnderAuth has moto check them.
func createRoles(t *testing.T, names ...string) {
	t.Helper()
	client := iam.NewFromConfig(awstest.Fixture(loadCfg(t)))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	for _, name := range names {
		_, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name),
			AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(43200)})
		if err != nil {
			t.Fatalf("create role %s: %v", name, err)
		}
	}
}

// TestMintSessionRoleChain proves a two-step chain: AssumeRole twice, in
// order from the source outward, each call signed with the session the one
// before issued (the first with the base key, or with the MFA session), the
// right ARNs and external ids, and 2h durations clamped to role chaining's
// 1h. The final key is checked with GetCallerIdentity: moto knows it as a
// session of role2. The MFA case cannot run on moto with auth on: its
// GetSessionToken hands out AWS's fixed example key, which auth then
// refuses; and moto never checks the code, so only the request is proved.
func TestMintSessionRoleChain(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	role1 := url.Values{"RoleArn": {"arn:aws:iam::123456789012:role/role1"}, "ExternalId": {"ext-1"}}
	role2 := url.Values{"RoleArn": {"arn:aws:iam::123456789012:role/role2"}, "ExternalId": {"ext-2"},
		"RoleSessionName": {"bob-session"}, "DurationSeconds": {"3600"}}
	tests := []struct {
		name      string
		baseExtra string // lines of [profile base]
		wantCalls []string
		role1Dur  string
		wantAsked []string
	}{
		{"without mfa assumes role1 with the base key", "",
			[]string{"AssumeRole", "AssumeRole"}, "7200", nil},
		{"with mfa on the source asks once for the whole chain", "mfa_serial = " + serial,
			[]string{"GetSessionToken", "AssumeRole", "AssumeRole"}, "3600", []string{serial}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.Moto(t)
			alice := s.CreateUserKey(t, "alice")
			createRoles(t, "role1", "role2")
			creds, config := chainFiles(t, alice, tt.baseExtra)
			spec, err := vault.SessionSpecFor(creds, config, "B", credential.Key{})
			if err != nil {
				t.Fatal(err)
			}
			rec := recordSTS(t, s)
			prompt := &mfaPrompt{code: "654321"}
			key, _, err := vaultaws.MintSession(context.Background(), loadCfg(t), spec, prompt.ask)
			if err != nil {
				t.Fatal(err)
			}
			calls := rec.Calls()
			if got := actions(calls); !cmp.Equal(got, tt.wantCalls) {
				t.Fatalf("sts actions = %v, want %v", got, tt.wantCalls)
			}
			checkSigners(t, calls, alice.KeyID, key.ID)
			n := len(calls)
			checkParams(t, "first AssumeRole", calls[n-2].Params, role1, "DurationSeconds", tt.role1Dur)
			checkParams(t, "second AssumeRole", calls[n-1].Params, role2, "", "")
			if name := calls[n-2].Params.Get("RoleSessionName"); !strings.HasPrefix(name, "keywarden-") {
				t.Errorf("default session name = %q, want keywarden-<unix time>", name)
			}
			if diff := cmp.Diff(tt.wantAsked, prompt.serials); diff != "" {
				t.Errorf("mfa prompts (-want +got):\n%s", diff)
			}
			who := awsx.NewKeyChecker(loadCfg(t)).CheckKey(context.Background(), key)
			if !strings.Contains(who.ARN, ":assumed-role/role2/bob-session") {
				t.Errorf("minted key is %q (%v), want a session of role2", who.ARN, who.Err)
			}
		})
	}
}

func actions(calls []stsCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Action)
	}
	return out
}

// checkSigners: the first call signs with base, each next one with the key
// the call before it was issued, and the last issued key is the one returned.
func checkSigners(t *testing.T, calls []stsCall, base, final string) {
	t.Helper()
	want := base
	for i, c := range calls {
		if c.Signer != want {
			t.Errorf("call %d (%s) signed by %q, want %q", i, c.Action, c.Signer, want)
		}
		want = c.Issued
	}
	if want != final {
		t.Errorf("returned key %q, want the last one issued, %q", final, want)
	}
}

func checkParams(t *testing.T, what string, got, want url.Values, key, value string) {
	t.Helper()
	for k := range want {
		if got.Get(k) != want.Get(k) {
			t.Errorf("%s: %s = %q, want %q", what, k, got.Get(k), want.Get(k))
		}
	}
	if key != "" && got.Get(key) != value {
		t.Errorf("%s: %s = %q, want %q", what, key, got.Get(key), value)
	}
}

// TestMintSessionAccessDeniedNamesStep runs on moto with auth enforcement:
// a user without permissions cannot assume the role, and the error names
// the role, the profile and AWS's code, and holds no secret.
func TestMintSessionAccessDeniedNamesStep(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice") // no policy: every call is denied
	spec := vault.SessionSpec{Profile: "B", Source: "base", Base: baseKey(alice), Roles: []vault.RoleStep{
		{Profile: "B", RoleARN: "arn:aws:iam::123456789012:role/role1"}}}
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	_, _, err := vaultaws.MintSession(context.Background(), loadCfg(t), spec, nil)
	if err == nil {
		t.Fatal("assume role without permission succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"assume role arn:aws:iam::123456789012:role/role1", `profile "B"`, "AccessDenied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, alice.Secret.Reveal()) {
		t.Errorf("error holds the secret: %q", msg)
	}
}

// TestMintSessionRefusesBeforeCalling: input errors are caught before any
// request leaves, so a bad code never costs an MFA attempt.
func TestMintSessionRefusesBeforeCalling(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	key := credential.Key{ID: awstest.FakeKeyID("alice", 123456789012), Secret: secretOf("alice")}
	tests := []struct {
		name    string
		spec    vault.SessionSpec
		mfa     func(string) (string, error)
		want    string
		wantErr error
	}{
		{"mfa profile without a prompt", vault.SessionSpec{Profile: "dev", Base: key, MFASerial: serial}, nil,
			"mfa code required for " + serial, vaultaws.ErrMFARequired},
		{"code that is not 6 digits", vault.SessionSpec{Profile: "dev", Base: key, MFASerial: serial},
			func(string) (string, error) { return "12ab56", nil }, "must be 6 digits", nil},
		{"prompt fails", vault.SessionSpec{Profile: "dev", Base: key, MFASerial: serial},
			func(string) (string, error) { return "", io.ErrUnexpectedEOF }, "read mfa code", io.ErrUnexpectedEOF},
		{"no base key", vault.SessionSpec{Profile: "dev", Source: "root"}, nil, `no long-term key for source profile "root"`, nil},
		{"temporary base key for get-session-token", vault.SessionSpec{Profile: "dev", Source: "dev",
			Base: credential.Key{ID: key.ID, Secret: key.Secret, SessionToken: secretOf("token")}}, nil, "holds temporary credentials", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.Moto(t)
			rec := recordSTS(t, s)
			_, _, err := vaultaws.MintSession(context.Background(), loadCfg(t), tt.spec, tt.mfa)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), key.Secret.Reveal()) {
				t.Errorf("error holds the secret: %v", err)
			}
			if calls := rec.Calls(); len(calls) != 0 {
				t.Errorf("sent %d sts calls, want none", len(calls))
			}
		})
	}
}

// writeShared points the SDK at shared files holding creds and config.
func writeShared(t *testing.T, creds, config string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"credentials": creds, "config": config} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
}

// TestMinterLoadsTheConfigAndGetsTheCode: Minter loads the SDK settings of
// the spec's profile for its region (or its own), and takes the MFA code
// from Token, else from Ask, asked once with the input hidden.
func TestMinterLoadsTheConfigAndGetsTheCode(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	s := awstest.Moto(t)
	alice := s.CreateUserKey(t, "alice")
	rec := recordSTS(t, s)
	var loaded []awsx.Options
	load := func(ctx context.Context, o awsx.Options) (aws.Config, error) {
		loaded = append(loaded, o)
		return awsx.Load(ctx, o)
	}
	var asked []string
	ask := func(q string, hidden bool) (string, error) {
		asked = append(asked, fmt.Sprintf("%s hidden=%v", q, hidden))
		return "654321", nil
	}
	spec := vault.SessionSpec{Profile: "dev", Source: "dev", Base: baseKey(alice), MFASerial: serial, Region: "eu-west-1"}
	writeShared(t, "[dev]\ncredential_process = keywarden creds process dev\n", "")

	if _, _, err := (vaultaws.Minter{Load: load, Token: "123456", Ask: ask}).Mint(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (vaultaws.Minter{Load: load, Region: "us-west-2", Ask: ask}).Mint(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	want := []awsx.Options{{Profile: "dev", Region: "eu-west-1", SettingsOnly: true}, {Profile: "dev", Region: "us-west-2", SettingsOnly: true}}
	if diff := cmp.Diff(want, loaded); diff != "" {
		t.Errorf("configurations loaded (-want +got):\n%s", diff)
	}
	var codes []string
	for _, c := range rec.Calls() {
		codes = append(codes, c.Params.Get("TokenCode"))
	}
	if diff := cmp.Diff([]string{"123456", "654321"}, codes); diff != "" {
		t.Errorf("codes sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"MFA code for " + serial + ":  hidden=true"}, asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}

	noTerminal := func(string, bool) (string, error) { return "", errors.New("no terminal to ask on") }
	_, _, err := (vaultaws.Minter{Load: load, Ask: noTerminal}).Mint(context.Background(), spec)
	if err == nil || !strings.HasSuffix(err.Error(), "no terminal to ask on (give --mfa-token)") {
		t.Errorf("nobody to ask: %v", err)
	}
	_, _, err = (vaultaws.Minter{Load: load}).Mint(context.Background(), spec)
	if !errors.Is(err, vaultaws.ErrMFARequired) {
		t.Errorf("no token and no way to ask: %v; want ErrMFARequired", err)
	}
}

// TestMinterIgnoresTheAmbientProfile: the session of profile P is minted
// with P's settings, whatever AWS_PROFILE names — a profile the files do
// not have, say — and P's own credential settings (a role with MFA, a
// credential_process) are never resolved: Minter signs with spec.Base.
func TestMinterIgnoresTheAmbientProfile(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	s := awstest.Moto(t)
	alice := s.CreateUserKey(t, "alice")
	rec := recordSTS(t, s)
	writeShared(t, "[base]\ncredential_process = keywarden creds process base\n",
		"[profile base]\nregion = eu-west-1\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"+
			"source_profile = base\nmfa_serial = "+serial+"\n")
	t.Setenv("AWS_PROFILE", "nowhere")
	m := vaultaws.Minter{Load: awsx.Load, Token: "123456"}
	for _, spec := range []vault.SessionSpec{
		{Profile: "base", Source: "base", Base: baseKey(alice), Region: "eu-west-1"},
		{Profile: "admin", Source: "base", Base: baseKey(alice), MFASerial: serial,
			Roles: []vault.RoleStep{{Profile: "admin", RoleARN: "arn:aws:iam::123456789012:role/admin"}}},
	} {
		if _, _, err := m.Mint(context.Background(), spec); err != nil {
			t.Errorf("mint for profile %s with AWS_PROFILE=nowhere: %v", spec.Profile, err)
		}
	}
	for _, c := range rec.Calls() {
		if c.Action == "GetSessionToken" && c.Signer != alice.KeyID {
			t.Errorf("%s signed by %s, want the base key %s", c.Action, c.Signer, alice.KeyID)
		}
	}
}
