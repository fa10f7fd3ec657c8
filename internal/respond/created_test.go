package respond

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// cleanups maps "kind id" to its cleanup commands, for compact assertions.
func cleanups(rs []CreatedResource) map[string][]string {
	out := map[string][]string{}
	for _, r := range rs {
		out[r.Kind+" "+r.ID] = r.Cleanup
	}
	return out
}

func TestCreatedFromStratusBackdoorAdminUser(t *testing.T) {
	events := stratus(t, "aws.persistence.iam-create-admin-user")
	got := Created(events)
	key := named(events, "CreateAccessKey")[0]
	keyID := str(object(key.ResponseElements), "accessKey", "accessKeyId")
	const u = "malicious-iam-user"
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	want := map[string][]string{
		"iam-user " + u: {
			"aws iam detach-user-policy --user-name " + u + " --policy-arn " + admin,
			"aws iam delete-access-key --user-name " + u + " --access-key-id " + keyID,
			"aws iam delete-user --user-name " + u,
		},
		"access-key " + keyID:                       {"aws iam delete-access-key --user-name " + u + " --access-key-id " + keyID},
		"user-policy-attachment " + u + ":" + admin: {"aws iam detach-user-policy --user-name " + u + " --policy-arn " + admin},
	}
	// The attachment precedes the key in this log; delete-user's list keeps log order.
	if diff := cmp.Diff(want, cleanups(got)); diff != "" {
		t.Errorf("Created cleanups (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if r.By == "" || r.Event == "" || r.At.IsZero() {
			t.Errorf("%s %s lacks its provenance: %+v", r.Kind, r.ID, r)
		}
	}
}

func TestCreatedKindsFromCorpus(t *testing.T) {
	tests := []struct {
		name, technique, kind string
		wantCmd               string // a prefix of the last cleanup command
	}{
		{"login profile for a new user", "aws.persistence.iam-create-user-login-profile", "login-profile", "aws iam delete-login-profile --user-name stratus-red-team-login-profile-user"},
		{"backdoor role", "aws.persistence.iam-create-backdoor-role", "iam-role", "aws iam delete-role --role-name stratus-red-team-malicious-iam-role"},
		{"ssh opened to the world", "aws.exfiltration.ec2-security-group-open-port-22-ingress", "ec2-ingress-rule", "aws ec2 revoke-security-group-ingress --region "},
		{"trail stopped is undone by start-logging", "aws.defense-evasion.cloudtrail-stop", "trail-stopped", "aws cloudtrail start-logging --region "},
		{"lambda made public", "aws.persistence.lambda-backdoor-function", "lambda-permission", "aws lambda remove-permission --region "},
		{"roles anywhere trust anchor", "aws.persistence.rolesanywhere-create-trust-anchor", "rolesanywhere-trust-anchor", "aws rolesanywhere delete-trust-anchor --region "},
		{"roles anywhere profile", "aws.persistence.rolesanywhere-create-trust-anchor", "rolesanywhere-profile", "aws rolesanywhere delete-profile --region "},
		{"trust policy replaced is a note", "aws.persistence.iam-backdoor-role", "role-trust-policy", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Created(stratus(t, tt.technique))
			i := slices.IndexFunc(got, func(r CreatedResource) bool { return r.Kind == tt.kind })
			if i < 0 {
				t.Fatalf("no %s in %+v", tt.kind, got)
			}
			r := got[i]
			if tt.wantCmd == "" {
				if len(r.Cleanup) != 0 || r.Note == "" {
					t.Errorf("%s: want a note and no command, got %+v", tt.kind, r)
				}
				return
			}
			if len(r.Cleanup) == 0 || !strings.HasPrefix(r.Cleanup[len(r.Cleanup)-1], tt.wantCmd) {
				t.Errorf("%s cleanup = %q, want prefix %q", tt.kind, r.Cleanup, tt.wantCmd)
			}
		})
	}
}

func TestCreatedFromInvictusSimulation(t *testing.T) {
	got := Created(invictus(t))
	kinds := map[string]int{}
	for _, r := range got {
		kinds[r.Kind]++
		if r.Kind == "ec2-instance" && r.Cleanup[0] != "aws ec2 terminate-instances --region us-east-1 --instance-ids "+r.ID {
			t.Errorf("instance cleanup = %q", r.Cleanup)
		}
	}
	for _, k := range []string{"ec2-instance", "iam-role", "iam-policy", "role-inline-policy", "role-policy-attachment",
		"s3-bucket", "lambda-function", "ec2-security-group"} {
		if kinds[k] == 0 {
			t.Errorf("no %s found in the invictus simulation; found %v", k, kinds)
		}
	}
	t.Logf("invictus: %d resources created: %v", len(got), kinds)
}

// record builds a successful call with the given request and response.
func record(t *testing.T, source, name, req, resp string) cloudtrail.Event {
	t.Helper()
	return ev(t, fmt.Sprintf(`{"eventID":"id-%s","eventTime":"2024-08-01T10:00:00Z","eventSource":%q,"eventName":%q,
		"awsRegion":"eu-west-1","userIdentity":{"type":"IAMUser","userName":"alice","accessKeyId":"K"},
		"requestParameters":%s,"responseElements":%s}`, name, source, name, req, resp))
}

func TestCreatedHandBuiltKinds(t *testing.T) {
	tests := []struct {
		name string
		e    func(t *testing.T) cloudtrail.Event
		want []string
	}{
		{"ses email identity", func(t *testing.T) cloudtrail.Event {
			return record(t, "ses.amazonaws.com", "VerifyEmailIdentity", `{"emailAddress":"x@example.com"}`, `null`)
		}, []string{"aws ses delete-identity --region eu-west-1 --identity x@example.com"}},
		{"sesv2 identity", func(t *testing.T) cloudtrail.Event {
			return record(t, "ses.amazonaws.com", "CreateEmailIdentity", `{"emailIdentity":"example.com"}`, `{}`)
		}, []string{"aws sesv2 delete-email-identity --region eu-west-1 --email-identity example.com"}},
		{"key pair", func(t *testing.T) cloudtrail.Event {
			return record(t, "ec2.amazonaws.com", "ImportKeyPair", `{"keyName":"kp"}`, `{"keyPairId":"key-1"}`)
		}, []string{"aws ec2 delete-key-pair --region eu-west-1 --key-name kp"}},
		{"sqs queue", func(t *testing.T) cloudtrail.Event {
			return record(t, "sqs.amazonaws.com", "CreateQueue", `{"queueName":"q"}`, `{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/1/q"}`)
		}, []string{"aws sqs delete-queue --region eu-west-1 --queue-url https://sqs.eu-west-1.amazonaws.com/1/q"}},
		{"sns topic", func(t *testing.T) cloudtrail.Event {
			return record(t, "sns.amazonaws.com", "CreateTopic", `{"name":"t"}`, `{"topicArn":"arn:aws:sns:eu-west-1:1:t"}`)
		}, []string{"aws sns delete-topic --region eu-west-1 --topic-arn arn:aws:sns:eu-west-1:1:t"}},
		{"policy version", func(t *testing.T) cloudtrail.Event {
			return record(t, "iam.amazonaws.com", "CreatePolicyVersion", `{"policyArn":"arn:aws:iam::1:policy/p","setAsDefault":true}`, `{"policyVersion":{"versionId":"v2"}}`)
		}, []string{"aws iam delete-policy-version --policy-arn arn:aws:iam::1:policy/p --version-id v2"}},
		{"key for oneself names the caller", func(t *testing.T) cloudtrail.Event {
			return record(t, "iam.amazonaws.com", "CreateAccessKey", `null`, `{"accessKey":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`)
		}, []string{"aws iam delete-access-key --user-name alice --access-key-id AKIAIOSFODNN7EXAMPLE"}},
		{"hostile names are quoted for the shell", func(t *testing.T) cloudtrail.Event {
			return record(t, "s3.amazonaws.com", "CreateBucket", `{"bucketName":"b; rm -rf ~ 'x'"}`, `null`)
		}, []string{`aws s3 rb 's3://b; rm -rf ~ '\''x'\''' --force`}},
		{"guardduty deleted is a note only", func(t *testing.T) cloudtrail.Event {
			return record(t, "guardduty.amazonaws.com", "DeleteDetector", `{"detectorId":"d1"}`, `null`)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Created([]cloudtrail.Event{tt.e(t)})
			if len(got) != 1 {
				t.Fatalf("Created = %+v; want one resource", got)
			}
			if diff := cmp.Diff(tt.want, got[0].Cleanup); diff != "" {
				t.Errorf("cleanup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreatedSkipsFailedCalls(t *testing.T) {
	e := record(t, "iam.amazonaws.com", "CreateUser", `{"userName":"u"}`, `{"user":{"userName":"u"}}`)
	e.ErrorCode = "AccessDenied"
	if got := Created([]cloudtrail.Event{e}); len(got) != 0 {
		t.Errorf("a failed CreateUser created %+v", got)
	}
}
