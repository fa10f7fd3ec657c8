package respond

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// call builds one event: identity type and name, user agent and error code
// vary per case; everything else is fixed.
func call(t *testing.T, source, name, idType, user, ua, errCode, req string) cloudtrail.Event {
	t.Helper()
	return ev(t, fmt.Sprintf(`{"eventID":"e","eventTime":"2024-08-01T10:00:00Z","eventSource":%q,"eventName":%q,
		"userAgent":%q,"errorCode":%q,"userIdentity":{"type":%q,"userName":%q,"accessKeyId":"AKIAIOSFODNN7EXAMPLE",
		"arn":"arn:aws:iam::111122223333:user/%s"},"requestParameters":%s}`, source, name, ua, errCode, idType, user, user, req))
}

func rulesFired(events []cloudtrail.Event) []string {
	var out []string
	for _, f := range RedFlags(events) {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	slices.Sort(out)
	return out
}

func TestRedFlagRules(t *testing.T) {
	const iam, sts = "iam.amazonaws.com", "sts.amazonaws.com"
	admin := `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`
	star := `{"roleName":"r","policyName":"p","policyDocument":"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":[\"*\"]}}"}`
	narrow := `{"roleName":"r","policyName":"p","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"}`
	tests := []struct {
		name string
		e    func(t *testing.T) cloudtrail.Event
		want []string
	}{
		{"create user", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreateUser", "IAMUser", "alice", "aws-cli", "", `{"userName":"x"}`)
		}, []string{"KW-CT-IAM-CREATE-USER"}},
		{"failed create user is quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreateUser", "IAMUser", "alice", "aws-cli", "AccessDenied", `{"userName":"x"}`)
		}, nil},
		{"key for another user", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreateAccessKey", "IAMUser", "alice", "aws-cli", "", `{"userName":"bob"}`)
		}, []string{"KW-CT-IAM-CREATE-KEY-OTHER"}},
		{"key for oneself is rotation", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreateAccessKey", "IAMUser", "alice", "aws-cli", "", `{"userName":"alice"}`)
		}, nil},
		{"password for another user", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreateLoginProfile", "IAMUser", "alice", "aws-cli", "", `{"userName":"bob"}`)
		}, []string{"KW-CT-IAM-LOGIN-PROFILE"}},
		{"AdministratorAccess attached", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "AttachUserPolicy", "IAMUser", "alice", "aws-cli", "", admin)
		}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"inline */* policy put", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "PutRolePolicy", "IAMUser", "alice", "aws-cli", "", star)
		}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"narrow inline policy is quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "PutRolePolicy", "IAMUser", "alice", "aws-cli", "", narrow)
		}, nil},
		{"policy version", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "CreatePolicyVersion", "IAMUser", "alice", "aws-cli", "", `{"policyArn":"arn:aws:iam::1:policy/p"}`)
		}, []string{"KW-CT-IAM-POLICY-VERSION"}},
		{"session token from a user key", func(t *testing.T) cloudtrail.Event {
			return call(t, sts, "GetSessionToken", "IAMUser", "alice", "aws-cli", "", `null`)
		}, []string{"KW-CT-STS-SESSION-FROM-KEY"}},
		{"trufflehog checks the key", func(t *testing.T) cloudtrail.Event {
			return call(t, sts, "GetCallerIdentity", "IAMUser", "alice", "TruffleHog", "", `null`)
		}, []string{"KW-CT-RECON-CALLER-ID-SCANNER"}},
		{"caller identity from the cli is quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, sts, "GetCallerIdentity", "IAMUser", "alice", "aws-cli/2.15.0", "", `null`)
		}, nil},
		{"authorization details dumped", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "GetAccountAuthorizationDetails", "IAMUser", "alice", "Boto3", "", `null`)
		}, []string{"KW-CT-RECON-LIST"}},
		{"trail stopped", func(t *testing.T) cloudtrail.Event {
			return call(t, "cloudtrail.amazonaws.com", "StopLogging", "IAMUser", "alice", "aws-cli", "", `{"name":"t"}`)
		}, []string{"KW-CT-EVASION"}},
		{"flow logs deleted", func(t *testing.T) cloudtrail.Event {
			return call(t, "ec2.amazonaws.com", "DeleteFlowLogs", "IAMUser", "alice", "aws-cli", "", `{}`)
		}, []string{"KW-CT-EVASION"}},
		{"selectors that drop management events", func(t *testing.T) cloudtrail.Event {
			return call(t, "cloudtrail.amazonaws.com", "PutEventSelectors", "IAMUser", "alice", "aws-cli", "",
				`{"trailName":"t","eventSelectors":[{"includeManagementEvents":false,"readWriteType":"All"}]}`)
		}, []string{"KW-CT-EVASION"}},
		{"selectors that keep everything are quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, "cloudtrail.amazonaws.com", "PutEventSelectors", "IAMUser", "alice", "aws-cli", "",
				`{"trailName":"t","eventSelectors":[{"includeManagementEvents":true,"readWriteType":"All"}]}`)
		}, nil},
		{"send quota probed", func(t *testing.T) cloudtrail.Event {
			return call(t, "ses.amazonaws.com", "GetSendQuota", "IAMUser", "alice", "Boto3", "", `null`)
		}, []string{"KW-CT-SES-RECON"}},
		{"send quota read by trusted advisor is quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, "ses.amazonaws.com", "GetSendQuota", "AssumedRole", "", "trustedadvisor.amazonaws.com", "", `null`)
		}, nil},
		{"sender identity verified", func(t *testing.T) cloudtrail.Event {
			return call(t, "ses.amazonaws.com", "VerifyEmailIdentity", "IAMUser", "alice", "Boto3", "", `{"emailAddress":"a@b.c"}`)
		}, []string{"KW-CT-SES-ABUSE"}},
		{"gpu instances, even refused", func(t *testing.T) cloudtrail.Event {
			return call(t, "ec2.amazonaws.com", "RunInstances", "IAMUser", "alice", "Boto3", "Client.UnauthorizedOperation",
				`{"instanceType":"p3.16xlarge","maxCount":10}`)
		}, []string{"KW-CT-EC2-MINING"}},
		{"a t3.micro is quiet", func(t *testing.T) cloudtrail.Event {
			return call(t, "ec2.amazonaws.com", "RunInstances", "IAMUser", "alice", "Boto3", "", `{"instanceType":"t3.micro"}`)
		}, nil},
		{"root activity", func(t *testing.T) cloudtrail.Event {
			return call(t, "s3.amazonaws.com", "GetObject", "Root", "", "Boto3", "", `null`)
		}, []string{"KW-CT-ROOT"}},
		{"quarantine attached by AWS", func(t *testing.T) cloudtrail.Event {
			return call(t, iam, "AttachUserPolicy", "AssumedRole", "", "AWS Internal", "",
				`{"userName":"alice","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}`)
		}, []string{"KW-CT-QUARANTINE-ATTACHED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, rulesFired([]cloudtrail.Event{tt.e(t)})); diff != "" {
				t.Errorf("rules fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccessDeniedBurst(t *testing.T) {
	denials := func(n int, gap time.Duration) []cloudtrail.Event {
		var out []cloudtrail.Event
		start := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
		for i := range n {
			e := call(t, "s3.amazonaws.com", "ListBuckets", "IAMUser", "alice", "x", "AccessDenied", `null`)
			e.EventName = fmt.Sprintf("Call%d", i) // not recon: only the burst may fire
			e.EventSource = "lambda.amazonaws.com"
			e.EventTime = start.Add(time.Duration(i) * gap)
			out = append(out, e)
		}
		return out
	}
	tests := []struct {
		name   string
		events []cloudtrail.Event
		want   int
	}{
		{"ten denials in ten minutes", denials(10, time.Minute), 1},
		{"nine denials are not a burst", denials(9, time.Second), 0},
		{"ten denials spread over an hour", denials(10, 6*time.Minute), 0},
		{"twenty quick denials are two bursts", denials(20, time.Second), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			for _, f := range RedFlags(tt.events) {
				if f.Rule != "KW-CT-ACCESS-DENIED-BURST" {
					t.Errorf("unexpected flag %s", f.Rule)
				}
				n++
			}
			if n != tt.want {
				t.Errorf("%d burst flags, want %d", n, tt.want)
			}
		})
	}
}

// TestRedFlagsOnStratusAttacks: each real detonation raises its rule.
func TestRedFlagsOnStratusAttacks(t *testing.T) {
	tests := []struct{ technique, rule string }{
		{"aws.persistence.iam-create-admin-user", "KW-CT-IAM-CREATE-USER"},
		{"aws.persistence.iam-create-admin-user", "KW-CT-IAM-ADMIN-ATTACHED"},
		{"aws.persistence.iam-create-admin-user", "KW-CT-IAM-CREATE-KEY-OTHER"},
		{"aws.persistence.iam-backdoor-user", "KW-CT-IAM-CREATE-KEY-OTHER"},
		{"aws.persistence.iam-create-user-login-profile", "KW-CT-IAM-LOGIN-PROFILE"},
		{"aws.persistence.iam-create-backdoor-role", "KW-CT-IAM-ADMIN-ATTACHED"},
		{"aws.persistence.sts-federation-token", "KW-CT-STS-SESSION-FROM-KEY"},
		{"aws.defense-evasion.cloudtrail-stop", "KW-CT-EVASION"},
		{"aws.defense-evasion.cloudtrail-delete", "KW-CT-EVASION"},
		{"aws.defense-evasion.cloudtrail-event-selectors", "KW-CT-EVASION"},
		{"aws.defense-evasion.vpc-remove-flow-logs", "KW-CT-EVASION"},
		{"aws.execution.ec2-launch-unusual-instances", "KW-CT-EC2-MINING"},
	}
	for _, tt := range tests {
		t.Run(tt.technique+"/"+tt.rule, func(t *testing.T) {
			got := rulesFired(stratus(t, tt.technique))
			if !slices.Contains(got, tt.rule) {
				t.Errorf("%s fired %v; want %s among them", tt.technique, got, tt.rule)
			}
		})
	}
}

func TestRuleIDsAreUniqueAndComplete(t *testing.T) {
	seen := map[string]bool{burstRule.ID: true}
	for _, r := range Rules {
		if seen[r.ID] || r.Match == nil || r.Technique == "" || r.Title == "" {
			t.Errorf("rule %+v: duplicate id or missing field", r.ID)
		}
		seen[r.ID] = true
	}
	// The catalogue grew in detect; the starter ids must stay (users
	// suppress rules by id).
	for _, id := range []string{"KW-CT-IAM-CREATE-USER", "KW-CT-IAM-CREATE-KEY-OTHER", "KW-CT-IAM-LOGIN-PROFILE",
		"KW-CT-IAM-ADMIN-ATTACHED", "KW-CT-IAM-POLICY-VERSION", "KW-CT-STS-SESSION-FROM-KEY",
		"KW-CT-RECON-CALLER-ID-SCANNER", "KW-CT-RECON-LIST", "KW-CT-EVASION", "KW-CT-SES-RECON", "KW-CT-SES-ABUSE",
		"KW-CT-EC2-MINING", "KW-CT-ROOT", "KW-CT-QUARANTINE-ATTACHED", "KW-CT-ACCESS-DENIED-BURST"} {
		if !seen[id] {
			t.Errorf("starter rule %s is gone", id)
		}
	}
}
