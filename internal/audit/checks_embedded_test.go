package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/severity"
)

func embedded(where, resource, detail string, rule scan.Rule, keyID, sec string) EmbeddedKey {
	s := secret.New(sec)
	return EmbeddedKey{Where: where, Resource: resource, Detail: detail, Rule: rule, KeyID: keyID,
		Secret: s, SecretSHA256: s.SHA256()}
}

func TestCheckEmbeddedKeys(t *testing.T) {
	id := awstest.FakeKeyID("embedded", 123456789012)
	sec := awstest.FakeSecret("embedded")
	fn := "arn:aws:lambda:us-east-1:123456789012:function:billing"
	inst := "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
	td := "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"
	param := "arn:aws:ssm:us-east-1:123456789012:parameter/app/key"
	tests := []struct {
		name   string
		keys   []EmbeddedKey
		unread []string
		want   []string // severity title | resource | key id | remediation fragment
	}{
		{name: "nothing embedded passes"},
		{
			name: "pair in a lambda environment is critical",
			keys: []EmbeddedKey{embedded(WhereLambdaEnv, fn, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", scan.RuleKeyPair, id, sec)},
			want: []string{"critical|Access key pair embedded in a Lambda function's environment|" + fn + "|" + id + "|aws lambda update-function-configuration --function-name " + fn},
		},
		{
			name: "lone secret in user data is high",
			keys: []EmbeddedKey{embedded(WhereEC2UserData, inst, "userData", scan.RuleSecretKey, "", sec)},
			want: []string{"high|Secret access key embedded in an EC2 instance's user data|" + inst + "||aws ec2 stop-instances --instance-ids i-0abc"},
		},
		{
			name: "lone key id in a task definition is medium",
			keys: []EmbeddedKey{embedded(WhereECSTaskEnv, td, "web/AWS_ACCESS_KEY_ID", scan.RuleKeyID, id, "")},
			want: []string{"medium|Access key id embedded in an ECS task definition|" + td + "|" + id + "|aws ecs deregister-task-definition --task-definition " + td},
		},
		{
			name: "pair in an ssm parameter says to delete it, history included",
			keys: []EmbeddedKey{embedded(WhereSSMString, param, "/app/key", scan.RuleKeyPair, id, sec)},
			want: []string{"critical|Access key pair embedded in an SSM String parameter|" + param + "|" + id + "|aws ssm delete-parameter --name /app/key"},
		},
		{
			name:   "an unread place is undecided, not passed",
			unread: []string{WhereSSMString},
			want:   []string{"low|Access key embedded in a resource's configuration (could not be determined)|||"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Embedded, inv.EmbeddedUnread = tt.keys, tt.unread
			var got []string
			for _, f := range checkEmbeddedKeys(inv, DefaultConfig(asOf)) {
				frag := ""
				if tt.want != nil {
					frag = tt.want[len(got)][strings.LastIndex(tt.want[len(got)], "|")+1:]
				}
				if !strings.Contains(f.Remediation, frag) {
					t.Errorf("remediation %q lacks %q", f.Remediation, frag)
				}
				got = append(got, strings.Join([]string{f.Severity.String(), f.Title, f.Resource, f.KeyID, frag}, "|"))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckEmbeddedKeysNeverHoldsTheSecretInClear(t *testing.T) {
	id := awstest.FakeKeyID("clear", 123456789012)
	sec := awstest.FakeSecret("clear")
	inv := account()
	inv.Embedded = []EmbeddedKey{embedded(WhereECSTaskEnv, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
		"web/AWS_SECRET_ACCESS_KEY", scan.RuleKeyPair, id, sec)}
	fs := Run(inv, DefaultConfig(asOf))
	if len(fs) != 1 || fs[0].Severity != severity.Critical {
		t.Fatalf("findings = %+v, want one critical", fs)
	}
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), sec) || strings.Contains(fs[0].Remediation, sec) {
		t.Fatalf("the secret appears in clear: %s", b)
	}
	ev := fs[0].Evidence
	if ev["secret"] != sec[:4]+"…" || ev["secret_sha256"] != secret.New(sec).SHA256() || ev["detail"] != "web/AWS_SECRET_ACCESS_KEY" {
		t.Errorf("evidence = %v: want the redacted secret, its SHA-256 and the variable", ev)
	}
	if diff := cmp.Diff([]string{"ECS.8"}, fs[0].Controls); diff != "" {
		t.Errorf("controls (-want +got):\n%s", diff)
	}
}
