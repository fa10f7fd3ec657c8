package audit

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
)

// embeddedView is what the tests compare of a found key; the secret is
// compared by its hash, which must be the secret's.
type embeddedView struct {
	Where, Resource, Detail string
	Rule                    scan.Rule
	KeyID, SecretSHA256     string
	Encoding                string
}

func views(t *testing.T, keys []EmbeddedKey) []embeddedView {
	t.Helper()
	var out []embeddedView
	for _, k := range keys {
		if k.Secret.SHA256() != k.SecretSHA256 {
			t.Errorf("key %s: SecretSHA256 is not its secret's", k.KeyID)
		}
		out = append(out, embeddedView{k.Where, k.Resource, k.Detail, k.Rule, k.KeyID, k.SecretSHA256, k.Encoding})
	}
	return out
}

func TestEmbeddedInEnv(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:billing"
	id, sec := awstest.FakeKeyID("env", 123456789012), awstest.FakeSecret("env")
	sha := secret.New(sec).SHA256()
	pair := map[string]string{"AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": sec, "STAGE": "prod"}
	encoded := base64.StdEncoding.EncodeToString([]byte("aws_access_key_id=" + id + "\naws_secret_access_key=" + sec + "\n"))
	tests := []struct {
		name   string
		prefix string
		vars   map[string]string
		want   []embeddedView
	}{
		{"no environment", "", nil, nil},
		{"nothing pasted", "", map[string]string{"STAGE": "prod"}, nil},
		{"a pair in two variables names both", "", pair,
			[]embeddedView{{WhereLambdaEnv, fn, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", scan.RuleKeyPair, id, sha, ""}}},
		{"a container's variables are named after it", "app/", pair,
			[]embeddedView{{WhereLambdaEnv, fn, "app/AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", scan.RuleKeyPair, id, sha, ""}}},
		{"an encoded pair is named by the variable on its line", "", map[string]string{"A": "1", "CREDS": encoded, "Z": "2"},
			[]embeddedView{{WhereLambdaEnv, fn, "CREDS", scan.RuleKeyPair, id, sha, scan.EncBase64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EmbeddedInEnv(WhereLambdaEnv, fn, tt.prefix, tt.vars)
			if diff := cmp.Diff(tt.want, views(t, got)); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			assertNotInClear(t, got, sec)
		})
	}
}

func TestEmbeddedInText(t *testing.T) {
	const param = "arn:aws:ssm:us-east-1:123456789012:parameter/app/key"
	id, sec := awstest.FakeKeyID("text", 123456789012), awstest.FakeSecret("text")
	sha := secret.New(sec).SHA256()
	tests := []struct {
		name, text string
		want       []embeddedView
	}{
		{"nothing pasted", "prod", nil},
		{"a pair", id + ":" + sec, []embeddedView{{WhereSSMString, param, "/app/key", scan.RuleKeyPair, id, sha, ""}}},
		{"a lone secret", "aws_secret_access_key = " + sec, []embeddedView{{WhereSSMString, param, "/app/key", scan.RuleSecretKey, "", sha, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EmbeddedInText(WhereSSMString, param, "/app/key", []byte(tt.text))
			if diff := cmp.Diff(tt.want, views(t, got)); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			assertNotInClear(t, got, sec)
		})
	}
}

// assertNotInClear fails if sec is readable in the keys' JSON, as the
// inventory would carry them.
func assertNotInClear(t *testing.T, keys []EmbeddedKey, sec string) {
	t.Helper()
	b, err := json.Marshal(Inventory{Embedded: keys})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), sec) {
		t.Errorf("the secret is in clear in the inventory's JSON")
	}
}

func TestEnvTextNamesTheVariablesOfAMatch(t *testing.T) {
	e := newEnvText(map[string]string{"B": "x\ny", "A": "1", "C": "z"})
	if string(e.text) != "A=1\nB=x\ny\nC=z\n" {
		t.Fatalf("text = %q", e.text)
	}
	if diff := strings.Join(e.owner, ","); diff != "A,B,B,C" {
		t.Errorf("line owners = %s, want A,B,B,C", diff)
	}
}
