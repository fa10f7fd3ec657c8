package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

const acct = "111122223333"

// event builds a CloudTrail record in AWS's documented shape: a user's
// call (IAMUser, access key AKIA...) unless fields override it.
func event(t testing.TB, source, name, req string, extra ...string) cloudtrail.Event {
	t.Helper()
	if req == "" {
		req = "null"
	}
	rec := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::%[1]s:user/alice","accountId":"%[1]s","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"},
	"eventTime":"2026-11-02T10:00:00Z","eventSource":"%[2]s","eventName":"%[3]s","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2",
	"requestParameters":%[4]s,"responseElements":null,"eventType":"AwsApiCall","recipientAccountId":"%[1]s"%[5]s}`, acct, source, name, req, strings.Join(extra, ""))
	e, err := cloudtrail.Decode([]byte(rec))
	if err != nil {
		t.Fatalf("decode %s: %v", rec, err)
	}
	return e
}

// needsOf renders what a call needs as "action resource" lines, sorted.
func needsOf(t testing.TB, e cloudtrail.Event) []string {
	o, err := NewObserved(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range o.needs(e) {
		for _, r := range n.resources {
			line := n.action + " " + r
			if n.unmapped {
				line += " (unmapped)"
			}
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// TestMappingExceptions holds one positive and (where the exception could
// over-reach) one near-miss case for every rule that makes an action
// differ from "eventSource prefix : eventName".
func TestMappingExceptions(t *testing.T) {
	for _, c := range []struct {
		name, source, event, req, extra string
		want                            []string
	}{
		// S3: list calls are authorized on the bucket as s3:ListBucket.
		{"ListObjectsV2", "s3.amazonaws.com", "ListObjectsV2", `{"bucketName":"data","list-type":"2","prefix":"logs/"}`, "",
			[]string{"s3:ListBucket arn:aws:s3:::data"}},
		{"ListObjects", "s3.amazonaws.com", "ListObjects", `{"bucketName":"data"}`, "", []string{"s3:ListBucket arn:aws:s3:::data"}},
		{"ListObjectVersions", "s3.amazonaws.com", "ListObjectVersions", `{"bucketName":"data","versions":""}`, "",
			[]string{"s3:ListBucketVersions arn:aws:s3:::data"}},
		{"HeadBucket", "s3.amazonaws.com", "HeadBucket", `{"bucketName":"data"}`, "", []string{"s3:ListBucket arn:aws:s3:::data"}},
		{"HeadObject", "s3.amazonaws.com", "HeadObject", `{"bucketName":"data","key":"a/b.txt"}`, "", []string{"s3:GetObject arn:aws:s3:::data/a/b.txt"}},
		{"GetObject (resources list)", "s3.amazonaws.com", "GetObject", `{"bucketName":"data","key":"a/b.txt"}`,
			`,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data/a/b.txt"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data"}]`,
			[]string{"s3:GetObject arn:aws:s3:::data/a/b.txt"}},
		{"GetObject of a version", "s3.amazonaws.com", "GetObject", `{"bucketName":"data","key":"k","versionId":"3HL4kqtJlcpXroDTDmJ"}`, "",
			[]string{"s3:GetObjectVersion arn:aws:s3:::data/k"}},
		{"DeleteObject (near miss: no version)", "s3.amazonaws.com", "DeleteObject", `{"bucketName":"data","key":"k"}`, "",
			[]string{"s3:DeleteObject arn:aws:s3:::data/k"}},
		{"DeleteObjects", "s3.amazonaws.com", "DeleteObjects", `{"bucketName":"data","delete":""}`, "", []string{"s3:DeleteObject arn:aws:s3:::data/*"}},
		{"CompleteMultipartUpload", "s3.amazonaws.com", "CompleteMultipartUpload", `{"bucketName":"data","key":"big.bin","uploadId":"x"}`, "",
			[]string{"s3:PutObject arn:aws:s3:::data/big.bin"}},
		{"UploadPart", "s3.amazonaws.com", "UploadPart", `{"bucketName":"data","key":"big.bin","partNumber":"1","uploadId":"x"}`, "",
			[]string{"s3:PutObject arn:aws:s3:::data/big.bin"}},
		{"ListBuckets", "s3.amazonaws.com", "ListBuckets", `{"Host":"s3.amazonaws.com"}`, "", []string{"s3:ListAllMyBuckets *"}},
		{"GetBucketEncryption", "s3.amazonaws.com", "GetBucketEncryption", `{"bucketName":"data","encryption":""}`, "",
			[]string{"s3:GetEncryptionConfiguration arn:aws:s3:::data"}},
		{"PutObject (near miss: its own name)", "s3.amazonaws.com", "PutObject", `{"bucketName":"data","key":"x"}`, "",
			[]string{"s3:PutObject arn:aws:s3:::data/x"}},
		// Namespaces that are not the IAM prefix.
		{"monitoring -> cloudwatch", "monitoring.amazonaws.com", "PutMetricData", `{"namespace":"App"}`, "", []string{"cloudwatch:PutMetricData *"}},
		{"email -> ses", "email.amazonaws.com", "SendEmail", `{"source":"a@example.com"}`, "",
			[]string{"ses:SendEmail arn:aws:ses:us-east-1:111122223333:identity/*"}},
		{"tagging -> tag", "tagging.amazonaws.com", "GetResources", `{}`, "", []string{"tag:GetResources *"}},
		// Dated event names.
		{"Lambda CreateFunction20150331", "lambda.amazonaws.com", "CreateFunction20150331",
			`{"functionName":"resize","runtime":"python3.12","role":"arn:aws:iam::111122223333:role/lambda-exec","handler":"app.h"}`, "",
			[]string{"iam:PassRole arn:aws:iam::111122223333:role/lambda-exec", "lambda:CreateFunction arn:aws:lambda:us-east-1:111122223333:function:resize"}},
		{"Lambda UpdateFunctionConfiguration20150331v2 with a role", "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2",
			`{"functionName":"resize","role":"arn:aws:iam::111122223333:role/lambda-exec2"}`, "",
			[]string{"iam:PassRole arn:aws:iam::111122223333:role/lambda-exec2", "lambda:UpdateFunctionConfiguration arn:aws:lambda:us-east-1:111122223333:function:resize"}},
		{"Lambda UpdateFunctionConfiguration (near miss: no role)", "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2",
			`{"functionName":"resize","timeout":30}`, "",
			[]string{"lambda:UpdateFunctionConfiguration arn:aws:lambda:us-east-1:111122223333:function:resize"}},
		{"Lambda GetFunction20150331v2 by ARN", "lambda.amazonaws.com", "GetFunction20150331v2",
			`{"functionName":"arn:aws:lambda:us-east-1:111122223333:function:resize"}`, "",
			[]string{"lambda:GetFunction arn:aws:lambda:us-east-1:111122223333:function:resize"}},
		{"Lambda Invoke", "lambda.amazonaws.com", "Invoke", `{"functionName":"arn:aws:lambda:us-east-1:111122223333:function:resize"}`, "",
			[]string{"lambda:InvokeFunction arn:aws:lambda:us-east-1:111122223333:function:resize"}},
		// Calls that need a second action.
		{"RunInstances with a profile", "ec2.amazonaws.com", "RunInstances",
			`{"instancesSet":{"items":[{"imageId":"ami-0abcdef1234567890","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","iamInstanceProfile":{"name":"web"},"subnetId":"subnet-0123"}`, "",
			nil},
		{"ECS RegisterTaskDefinition with roles", "ecs.amazonaws.com", "RegisterTaskDefinition",
			`{"family":"web","taskRoleArn":"arn:aws:iam::111122223333:role/task","executionRoleArn":"arn:aws:iam::111122223333:role/exec"}`, "",
			[]string{"ecs:RegisterTaskDefinition arn:aws:ecs:us-east-1:111122223333:task-definition/web:*", "iam:PassRole arn:aws:iam::111122223333:role/exec", "iam:PassRole arn:aws:iam::111122223333:role/task"}},
		{"CloudFormation CreateStack with RoleARN", "cloudformation.amazonaws.com", "CreateStack",
			`{"stackName":"app","roleARN":"arn:aws:iam::111122223333:role/cfn"}`, "",
			[]string{"cloudformation:CreateStack arn:aws:cloudformation:us-east-1:111122223333:stack/app/*", "iam:PassRole arn:aws:iam::111122223333:role/cfn"}},
		{"AssumeRole (near miss: a roleArn passes nothing)", "sts.amazonaws.com", "AssumeRole",
			`{"roleArn":"arn:aws:iam::111122223333:role/admin","roleSessionName":"s"}`, "",
			[]string{"sts:AssumeRole arn:aws:iam::111122223333:role/admin"}},
		{"iam CreateRole (near miss: IAM's role parameters pass nothing)", "iam.amazonaws.com", "CreateRole",
			`{"roleName":"app","assumeRolePolicyDocument":"{}"}`, "",
			[]string{"iam:CreateRole arn:aws:iam::111122223333:role/app"}},
		// Calls that need nothing.
		{"GetCallerIdentity", "sts.amazonaws.com", "GetCallerIdentity", ``, "", nil},
		{"console sign-in", "signin.amazonaws.com", "ConsoleLogin", ``, `,"additionalEventData":{"MFAUsed":"No"}`, nil},
		// Resources from parameters.
		{"GetSecretValue by name", "secretsmanager.amazonaws.com", "GetSecretValue", `{"secretId":"prod/db"}`, "",
			[]string{"secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-??????"}},
		{"GetParameter", "ssm.amazonaws.com", "GetParameter", `{"name":"/app/token","withDecryption":true}`, "",
			[]string{"ssm:GetParameter arn:aws:ssm:us-east-1:111122223333:parameter/app/token"}},
		{"SendMessage", "sqs.amazonaws.com", "SendMessage", `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/jobs","messageBody":"x"}`, "",
			[]string{"sqs:SendMessage arn:aws:sqs:us-east-1:111122223333:jobs"}},
		{"SendMessageBatch", "sqs.amazonaws.com", "SendMessageBatch", `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/jobs"}`, "",
			[]string{"sqs:SendMessage arn:aws:sqs:us-east-1:111122223333:jobs"}},
		{"Publish", "sns.amazonaws.com", "Publish", `{"topicArn":"arn:aws:sns:us-east-1:111122223333:alerts","message":"x"}`, "",
			[]string{"sns:Publish arn:aws:sns:us-east-1:111122223333:alerts"}},
		{"PutItem", "dynamodb.amazonaws.com", "PutItem", `{"tableName":"orders"}`, "",
			[]string{"dynamodb:PutItem arn:aws:dynamodb:us-east-1:111122223333:table/orders"}},
		{"StopInstances", "ec2.amazonaws.com", "StopInstances", `{"instancesSet":{"items":[{"instanceId":"i-0a"},{"instanceId":"i-0b"}]},"force":false}`, "",
			[]string{"ec2:StopInstances arn:aws:ec2:us-east-1:111122223333:instance/i-0a", "ec2:StopInstances arn:aws:ec2:us-east-1:111122223333:instance/i-0b"}},
		{"GetUser", "iam.amazonaws.com", "GetUser", `{"userName":"bob"}`, "", []string{"iam:GetUser arn:aws:iam::111122223333:user/bob"}},
		// Unknown calls are kept, flagged.
		{"unmapped", "s3.amazonaws.com", "FrobnicateBucket", `{"bucketName":"data"}`, "", []string{"s3:FrobnicateBucket * (unmapped)"}},
		{"unknown service", "newthing.amazonaws.com", "DoThing", `{}`, "", []string{"newthing:DoThing * (unmapped)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := needsOf(t, event(t, c.source, c.event, c.req, c.extra))
			if c.want == nil && c.name == "RunInstances with a profile" {
				if !slices.Contains(got, "iam:PassRole arn:aws:iam::111122223333:role/*") ||
					!slices.Contains(got, "ec2:RunInstances arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890") ||
					!slices.Contains(got, "ec2:RunInstances arn:aws:ec2:us-east-1:111122223333:subnet/subnet-0123") ||
					!slices.Contains(got, "ec2:RunInstances arn:aws:ec2:us-east-1:111122223333:volume/*") {
					t.Fatalf("RunInstances with a profile needs:\n%s", strings.Join(got, "\n"))
				}
				return
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestRunInstancesWithoutProfilePassesNoRole(t *testing.T) {
	got := needsOf(t, event(t, "ec2.amazonaws.com", "RunInstances", `{"instancesSet":{"items":[{"imageId":"ami-1"}]},"instanceType":"t3.micro"}`))
	for _, n := range got {
		if strings.HasPrefix(n, "iam:PassRole") {
			t.Fatalf("no profile, yet %s", n)
		}
	}
}

func TestServiceActingAsItselfNeedsNothing(t *testing.T) {
	e := event(t, "kms.amazonaws.com", "Decrypt", `{"encryptionContext":{"aws:cloudtrail:arn":"x"}}`)
	e.UserIdentity = cloudtrail.UserIdentity{Type: "AWSService", InvokedBy: "cloudtrail.amazonaws.com"}
	if got := needsOf(t, e); len(got) != 0 {
		t.Fatalf("AWSService call needs %v", got)
	}
	// Near miss: a service calling KMS on the principal's behalf (a forward
	// access session, invokedBy secretsmanager) is checked against the
	// principal's own policy: the Decrypt is needed.
	fas := event(t, "kms.amazonaws.com", "Decrypt", `{"encryptionContext":{"SecretARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"}}`,
		`,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]`)
	fas.UserIdentity.InvokedBy = "secretsmanager.amazonaws.com"
	got := needsOf(t, fas)
	if !slices.Equal(got, []string{"kms:Decrypt arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}) {
		t.Fatalf("forward access Decrypt needs %v", got)
	}
}

// TestTablesNameWhatTheDataKnows keeps the exception tables true to the
// embedded data: every namespace maps to a known service prefix, every
// renamed call to actions the data has.
func TestTablesNameWhatTheDataKnows(t *testing.T) {
	d, err := iamdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	for ns, prefix := range namespaces {
		if !d.HasService(prefix) {
			t.Errorf("namespace %s -> %s: no such service prefix", ns, prefix)
		}
	}
	for call, actions := range renamed {
		for _, a := range slices.Concat(actions, []string{versioned[call]}) {
			if a == "" {
				continue
			}
			p, n, _ := strings.Cut(a, ":")
			if _, ok := d.Action(p, n); !ok {
				t.Errorf("%s -> %s: no such action", call, a)
			}
		}
	}
	for from, to := range versioned {
		for _, a := range []string{from, to} {
			p, n, _ := strings.Cut(a, ":")
			if _, ok := d.Action(p, n); !ok {
				t.Errorf("versioned %s -> %s: %s is no action", from, to, a)
			}
		}
	}
}
