package retire

import (
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/retire/netranges"
)

const testKey = "AKIAIOSFODNN7EXAMPLE"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// call is one event of testKey from addr with user agent ua.
func call(addr, ua string) cloudtrail.Event {
	return cloudtrail.Event{EventTime: t0, EventSource: "s3.amazonaws.com", EventName: "ListBuckets", SourceIPAddress: addr, UserAgent: ua,
		UserIdentity: cloudtrail.UserIdentity{Type: "IAMUser", UserName: "deploy", AccessKeyID: testKey, AccountID: "111122223333"}}
}

func times(n int, e cloudtrail.Event) []cloudtrail.Event {
	out := make([]cloudtrail.Event, n)
	for i := range out {
		out[i] = e
		out[i].EventTime = e.EventTime.Add(time.Duration(i) * time.Minute)
	}
	return out
}

func classify(t *testing.T, events ...cloudtrail.Event) Verdict {
	t.Helper()
	tab, err := netranges.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := NewClassifier(tab)
	for _, e := range events {
		c.Add(e)
	}
	return c.Classify(testKey)
}

// User agents as AWS's SDKs and tools write them (the SDKs append
// exec-env/ from AWS_EXECUTION_ENV; aws-cli v2 writes os/ and md/ fields),
// from addresses of the embedded published ranges.
func TestClassifiesEachUse(t *testing.T) {
	const (
		cliLinux  = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#s3.cp"
		cliMac    = "aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.11.11 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.ls"
		boto3EC2  = "Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.40"
		lambdaGo  = "aws-sdk-go/1.40.21 (go1.17; linux; amd64) exec-env/AWS_Lambda_go1.x"
		fargate   = "Boto3/1.26.2 Python/3.10.8 Linux/4.14.294-220.533.amzn2.x86_64 exec-env/AWS_ECS_FARGATE Botocore/1.29.2"
		browser   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
		ghAction  = "configure-aws-credentials-for-github-actions"
		boto3Win  = "Boto3/1.28.0 Python/3.11.4 Windows/10 Botocore/1.31.0"
		terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.47.7"
	)
	for _, c := range []struct {
		name        string
		addr, ua    string
		class       Class
		kind        string
		reasonBegin string
	}{
		{"an EC2 instance", "3.5.140.2", boto3EC2, ClassAWS, ReplaceInstanceProfile, "user agent from an EC2 instance"},
		{"aws-cli from EC2's range", "3.5.140.2", cliLinux, ClassAWS, ReplaceInstanceProfile, "source in AWS's EC2 range ap-northeast-2"},
		{"EC2's IPv6 range", "2600:1f18:4abc::17", cliLinux, ClassAWS, ReplaceInstanceProfile, "source in AWS's EC2 range us-east-1"},
		{"a Lambda function", "52.94.76.1", lambdaGo, ClassAWS, ReplaceFunctionRole, "user agent from a Lambda function"},
		{"a Fargate task", "3.5.140.9", fargate, ClassAWS, ReplaceTaskRole, "user agent from an ECS task"},
		{"CodeBuild's range", "3.26.127.25", cliLinux, ClassAWS, ReplaceServiceRole, "source in AWS's CODEBUILD range ap-southeast-2"},
		{"GitHub Actions' range", "4.148.0.17", cliLinux, ClassGitHub, ReplaceGitHubOIDC, "source in GitHub Actions' published ranges"},
		{"GitHub Actions' IPv6 range", "2603:1020::5", cliLinux, ClassGitHub, ReplaceGitHubOIDC, "source in GitHub Actions' published ranges"},
		{"configure-aws-credentials on a self-hosted runner", "81.2.69.160", ghAction, ClassGitHub, ReplaceGitHubOIDC, "user agent of GitHub Actions"},
		{"Google Cloud (GitLab.com's runners)", "35.196.0.10", terraform, ClassGitLab, ReplaceGitLabOIDC, "source in Google Cloud's"},
		{"a laptop", "81.2.69.160", cliMac, ClassPerson, ReplaceExecRole, "a CLI or SDK on macOS from an address in no published"},
		{"a browser", "81.2.69.160", browser, ClassPerson, ReplaceExecRole, "a web browser"},
		{"Windows", "2a02:c7c:5e2a::1", boto3Win, ClassPerson, ReplaceExecRole, "a CLI or SDK on Windows"},
		{"the Java SDK on a Mac", "81.2.69.160", "aws-sdk-java/1.11.590 Mac_OS_X/10.14.6 Java_HotSpot(TM)_64-Bit_Server_VM/25.202-b08 java/1.8.0_202", ClassPerson, ReplaceExecRole, "a CLI or SDK on macOS"},
		{"Terraform from home", "81.2.69.160", terraform, ClassPerson, ReplaceExecRole, "an address in no published cloud or CI range"},
		{"a vendor from AWS's range", "3.5.140.2", "aws-sdk-go/1.44.0 (go1.20; linux; amd64) Datadog/7.50", ClassThirdParty, ReplaceExternalIDRole, "user agent of Datadog's service"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := classify(t, times(3, call(c.addr, c.ua))...)
			if v.Class != c.class || v.Kind != c.kind {
				t.Fatalf("%s / %s: class %s kind %s, want %s %s (evidence %+v)", c.addr, c.ua, v.Class, v.Kind, c.class, c.kind, v.Evidence)
			}
			if len(v.Evidence) != 1 || v.Evidence[0].Events != 3 || !hasPrefix(v.Evidence[0].Reason, c.reasonBegin) {
				t.Errorf("evidence %+v, want one of 3 events beginning %q", v.Evidence, c.reasonBegin)
			}
		})
	}
}

// A console opened with the key's session (GetSigninToken: aws-vault
// login) is a person's, wherever the broker runs.
func TestConsoleSignInIsAPerson(t *testing.T) {
	e := call("3.5.140.2", "Jersey/${project.version} (HttpUrlConnection 1.8.0_372)")
	e.EventSource, e.EventName = "signin.amazonaws.com", "GetSigninToken"
	if v := classify(t, e); v.Class != ClassPerson || !hasPrefix(v.Evidence[0].Reason, "a console sign-in") {
		t.Errorf("GetSigninToken: %s %+v, want person", v.Class, v.Evidence)
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Calls AWS services make on the key's behalf (CloudFormation creating a
// stack's bucket, S3 replicating, KMS for S3) say nothing of where the
// key is used: the one laptop call decides, however many they are.
func TestServiceCallsOnTheKeysBehalfDoNotDecide(t *testing.T) {
	onBehalf := call("cloudformation.amazonaws.com", "cloudformation.amazonaws.com")
	onBehalf.UserIdentity.InvokedBy = "cloudformation.amazonaws.com"
	internal := call("AWS Internal", "AWS Internal")
	// Forward access sessions keep the caller's address and agent: only
	// invokedBy says a service made the call.
	viaEC2Addr := call("3.5.140.2", "aws-sdk-java/1.12.488 Linux/5.10.184-175.731.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372")
	viaEC2Addr.UserIdentity.InvokedBy = "athena.amazonaws.com"
	events := append(append(times(40, onBehalf), times(40, internal)...), times(40, viaEC2Addr)...)
	events = append(events, call("81.2.69.160", "aws-cli/2.15.59 ua/2.0 os/macos#22.6.0"))
	v := classify(t, events...)
	if v.Class != ClassPerson || v.Deciding != 1 || v.Events != 121 {
		t.Errorf("class %s, %d deciding of %d: want person from the 1 laptop call of 121", v.Class, v.Deciding, v.Events)
	}
	if v := classify(t, times(5, onBehalf)...); v.Class != ClassUnknown || len(v.Notes) == 0 {
		t.Errorf("only service calls: %s %v, want mixed with a note that nothing decides", v.Class, v.Notes)
	}
}

func TestMixedAndUnused(t *testing.T) {
	gh := times(5, call("4.148.0.17", "aws-cli/2.15.30 ua/2.0 os/linux#6.5.0-1016-azure"))
	laptop := times(5, call("81.2.69.160", "aws-cli/2.15.59 ua/2.0 os/macos#22.6.0"))
	if v := classify(t, append(gh, laptop...)...); v.Class != ClassMixed || v.Kind != "" || len(v.Evidence) != 2 {
		t.Errorf("GitHub and a laptop: %s %q %+v, want mixed, no replacement, both reasons", v.Class, v.Kind, v.Evidence)
	}
	// One stray call in 20 (5%) is under the weight: the key is GitHub's.
	many := times(19, call("4.148.0.17", "aws-cli/2.15.30 ua/2.0 os/linux#6.5.0-1016-azure"))
	if v := classify(t, append(many, laptop[0])...); v.Class != ClassGitHub {
		t.Errorf("19 GitHub calls and 1 from a laptop: %s, want github", v.Class)
	}
	if v := classify(t); v.Class != ClassUnused || v.Kind != ReplaceDelete {
		t.Errorf("no event: %s %s, want unused, delete", v.Class, v.Kind)
	}
}

// A private address is a VPC endpoint's only when the record says so; a
// log with addresses masked (the invictus dataset's) decides by agent alone.
func TestPrivateAddresses(t *testing.T) {
	vpce := call("10.8.8.10", "aws-cli/2.15.30 ua/2.0 os/linux#6.1.0")
	vpce.Raw = []byte(`{"sourceIPAddress":"10.8.8.10","vpcEndpointId":"vpce-0abc"}`)
	if v := classify(t, vpce); v.Class != ClassAWS {
		t.Errorf("through a VPC endpoint: %s, want aws", v.Class)
	}
	masked := call("192.168.10.20", "APN/1.0 HashiCorp/1.0 Terraform/1.1.2")
	if v := classify(t, masked); v.Deciding != 0 {
		t.Errorf("a masked address with Terraform's agent decided %+v", v.Evidence)
	}
}

// Sessions minted from the key count as the key's: Classify merges what
// it is given.
func TestClassifyMergesTheKeysSessions(t *testing.T) {
	tab, _ := netranges.Default()
	c := NewClassifier(tab)
	own := call("3.5.140.2", "aws-cli/2.15.30 ua/2.0 os/linux#6.1.0")
	sess := own
	session := awstest.FakeSessionKeyID("minted", 111122223333)
	sess.UserIdentity.AccessKeyID = session
	for _, e := range append(times(2, own), times(3, sess)...) {
		c.Add(e)
	}
	if v := c.Classify(testKey, session); v.Events != 5 || v.Evidence[0].Events != 5 {
		t.Errorf("merged %d events, evidence %+v; want 5", v.Events, v.Evidence)
	}
	if v := c.Classify(testKey); v.Events != 2 {
		t.Errorf("the key alone: %d events, want 2", v.Events)
	}
}

// Documentation and reserved addresses (what a masked log holds) are no
// home network: they decide nothing.
func TestReservedAddressesDecideNothing(t *testing.T) {
	for _, a := range []string{"203.0.113.50", "253.19.58.252", "2001:db8::1", "100.64.1.1"} {
		if v := classify(t, call(a, "stratus-red-team_6a7ec681")); v.Deciding != 0 {
			t.Errorf("%s decided %+v", a, v.Evidence)
		}
	}
}
