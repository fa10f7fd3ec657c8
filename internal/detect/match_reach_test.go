package detect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// TestReachRulesOnLabelledEvents: hand-written events in the shapes AWS
// documents for each call, positives and the look-alikes that must stay
// quiet (AWS acting for the account, a grant within the account, a
// refused call).
func TestReachRulesOnLabelledEvents(t *testing.T) {
	const (
		in      = `"recipientAccountId":"111122223333",`
		role    = "arn:aws:sts::111122223333:assumed-role/admin/mallory"
		console = "console.amazonaws.com"
	)
	ec2, iam, lambda, s3 := "ec2.amazonaws.com", "iam.amazonaws.com", "lambda.amazonaws.com", "s3.amazonaws.com"
	tests := []struct {
		name string
		r    rec
		want []string
	}{
		// S3 bucket policy
		{"bucket policy for everyone", rec{source: s3, name: "PutBucketPolicy", extra: in, req: `{"bucketName":"data",
			"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}}`},
			[]string{"KW-CT-S3-POLICY-OPEN"}},
		{"bucket policy for a foreign account, by an assumed role", rec{source: s3, name: "PutBucketPolicy", idType: "AssumedRole", arn: role, extra: in,
			req: `{"bucketName":"data","bucketPolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":"s3:*"}}}`},
			[]string{"KW-CT-S3-POLICY-OPEN"}},
		{"bucket policy as a string, from the console", rec{source: s3, name: "PutBucketPolicy", ua: console, extra: in,
			req: `{"bucketName":"data","bucketPolicy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"s3:GetObject\"}]}"}`},
			[]string{"KW-CT-S3-POLICY-OPEN"}},
		{"bucket policy within the account is quiet", rec{source: s3, name: "PutBucketPolicy", extra: in,
			req: `{"bucketName":"data","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:GetObject"}]}}`}, nil},
		{"public statement limited by a condition is quiet", rec{source: s3, name: "PutBucketPolicy", extra: in,
			req: `{"bucketName":"data","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}}`}, nil},
		{"deny-all-but-TLS statement is quiet", rec{source: s3, name: "PutBucketPolicy", extra: in,
			req: `{"bucketName":"data","bucketPolicy":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}}`}, nil},
		{"refused bucket policy is quiet", rec{source: s3, name: "PutBucketPolicy", errCode: "AccessDenied", extra: in,
			req: `{"bucketName":"data","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}}`}, nil},
		// sharing
		{"AMI shared with a foreign account", rec{source: ec2, name: "ModifyImageAttribute", extra: in,
			req: `{"imageId":"ami-1","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"userId":"444455556666"}]}}}`},
			[]string{"KW-CT-SNAPSHOT-SHARED"}},
		{"AMI made public by root", rec{source: ec2, name: "ModifyImageAttribute", idType: "Root", arn: "arn:aws:iam::111122223333:root", extra: in,
			req: `{"imageId":"ami-1","launchPermission":{"add":{"items":[{"group":"all"}]}}}`},
			[]string{"KW-CT-ROOT", "KW-CT-SNAPSHOT-SHARED"}},
		{"EBS snapshot shared", rec{source: ec2, name: "ModifySnapshotAttribute", extra: in,
			req: `{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"444455556666"}]}}}`},
			[]string{"KW-CT-SNAPSHOT-SHARED"}},
		{"RDS snapshot shared", rec{source: "rds.amazonaws.com", name: "ModifyDBSnapshotAttribute", extra: in,
			req: `{"dBSnapshotIdentifier":"db","attributeName":"restore","valuesToAdd":["444455556666"]}`},
			[]string{"KW-CT-SNAPSHOT-SHARED"}},
		{"permission removed is quiet", rec{source: ec2, name: "ModifySnapshotAttribute", extra: in,
			req: `{"snapshotId":"snap-1","createVolumePermission":{"remove":{"items":[{"userId":"444455556666"}]}}}`}, nil},
		{"RDS snapshot shared within the account is quiet", rec{source: "rds.amazonaws.com", name: "ModifyDBSnapshotAttribute", extra: in,
			req: `{"dBSnapshotIdentifier":"db","attributeName":"restore","valuesToAdd":["111122223333"]}`}, nil},
		// security groups
		{"port 22 open to the world", rec{source: ec2, name: "AuthorizeSecurityGroupIngress", extra: in,
			req: `{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}`},
			[]string{"KW-CT-EC2-INGRESS-OPEN"}},
		{"IPv6 open, legacy top-level cidrIp form", rec{source: ec2, name: "AuthorizeSecurityGroupIngress", idType: "AssumedRole", arn: role,
			req: `{"groupId":"sg-1","ipPermissions":{"items":[{"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}`},
			[]string{"KW-CT-EC2-INGRESS-OPEN"}},
		{"ingress from an office range is quiet", rec{source: ec2, name: "AuthorizeSecurityGroupIngress",
			req: `{"groupId":"sg-1","ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"198.51.100.0/24"}]}}]}}`}, nil},
		{"ingress opened by Elastic Beanstalk is quiet", rec{source: ec2, name: "AuthorizeSecurityGroupIngress",
			idType: "AssumedRole", invokedBy: "elasticbeanstalk.amazonaws.com",
			req: `{"groupId":"sg-1","cidrIp":"0.0.0.0/0"}`}, nil},
		// role trust
		{"role trust widened to a foreign account", rec{source: iam, name: "UpdateAssumeRolePolicy", extra: in,
			req: `{"roleName":"ops","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":\"sts:AssumeRole\"}]}"}`},
			[]string{"KW-CT-IAM-TRUST-EXTERNAL"}},
		{"role created trusting a bare account id", rec{source: iam, name: "CreateRole", ua: console, extra: in,
			req: `{"roleName":"x","assumeRolePolicyDocument":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"444455556666\"},\"Action\":\"sts:AssumeRole\"}}"}`},
			[]string{"KW-CT-IAM-TRUST-EXTERNAL"}},
		{"service role is quiet", rec{source: iam, name: "CreateRole", extra: in,
			req: `{"roleName":"x","assumeRolePolicyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}`}, nil},
		{"trust with an ExternalId condition is quiet", rec{source: iam, name: "CreateRole", extra: in,
			req: `{"roleName":"x","assumeRolePolicyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"x\"}}}]}"}`}, nil},
		{"service-linked role created by AWS is quiet", rec{source: iam, name: "CreateRole",
			extra: in, idType: "AWSService", invokedBy: "autoscaling.amazonaws.com",
			req: `{"roleName":"x","assumeRolePolicyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"}]}"}`}, nil},
		// Lambda, with the dated event names Lambda writes
		{"Lambda opened to everyone (dated name)", rec{source: lambda, name: "AddPermission20150331v2",
			req: `{"functionName":"f","principal":"*","action":"lambda:InvokeFunction","statementId":"s"}`},
			[]string{"KW-CT-LAMBDA-PUBLIC"}},
		{"Lambda opened to S3 is quiet", rec{source: lambda, name: "AddPermission20150331v2",
			req: `{"functionName":"f","principal":"s3.amazonaws.com","action":"lambda:InvokeFunction"}`}, nil},
		{"Lambda code replaced (dated name)", rec{source: lambda, name: "UpdateFunctionCode20150331v2", req: `{"functionName":"f"}`},
			[]string{"KW-CT-LAMBDA-CHANGED"}},
		{"Lambda layer added (dated name)", rec{source: lambda, name: "UpdateFunctionConfiguration20150331v2", idType: "AssumedRole", arn: role,
			req: `{"functionName":"f","layers":["arn:aws:lambda:us-east-1:444455556666:layer:ext:1"]}`},
			[]string{"KW-CT-LAMBDA-CHANGED"}},
		{"Lambda memory changed is quiet", rec{source: lambda, name: "UpdateFunctionConfiguration20150331v2", req: `{"functionName":"f","memorySize":512}`}, nil},
		{"Lambda code update refused is quiet", rec{source: lambda, name: "UpdateFunctionCode20150331v2", errCode: "AccessDeniedException", req: `{"functionName":"f"}`}, nil},
		{"Lambda code deployed by CloudFormation is quiet", rec{source: lambda, name: "UpdateFunctionCode20150331v2",
			idType: "AssumedRole", invokedBy: "cloudformation.amazonaws.com", req: `{"functionName":"f"}`}, nil},
		// other persistence and execution
		{"Roles Anywhere trust anchor", rec{source: "rolesanywhere.amazonaws.com", name: "CreateTrustAnchor", req: `{"name":"a","enabled":true}`},
			[]string{"KW-CT-ROLESANYWHERE-ANCHOR"}},
		{"user data replaced", rec{source: ec2, name: "ModifyInstanceAttribute", req: `{"instanceId":"i-1","userData":"<sensitiveDataRemoved>"}`},
			[]string{"KW-CT-EC2-USER-DATA"}},
		{"instance type changed is quiet", rec{source: ec2, name: "ModifyInstanceAttribute", req: `{"instanceId":"i-1","instanceType":{"value":"t3.large"}}`}, nil},
		{"user data read", rec{source: ec2, name: "DescribeInstanceAttribute", idType: "AssumedRole", arn: role, req: `{"instanceId":"i-1","attribute":"userData"}`},
			[]string{"KW-CT-EC2-SECRETS-READ"}},
		{"other attribute read is quiet", rec{source: ec2, name: "DescribeInstanceAttribute", req: `{"instanceId":"i-1","attribute":"instanceType"}`}, nil},
		{"Windows password read", rec{source: ec2, name: "GetPasswordData", req: `{"instanceId":"i-1"}`}, []string{"KW-CT-EC2-SECRETS-READ"}},
		{"Windows password refused still alerts", rec{source: ec2, name: "GetPasswordData", errCode: "Client.UnauthorizedOperation", req: `{"instanceId":"i-1"}`},
			[]string{"KW-CT-EC2-SECRETS-READ"}},
		{"user data read by Systems Manager is quiet", rec{source: ec2, name: "DescribeInstanceAttribute", idType: "AWSService", invokedBy: "ssm.amazonaws.com",
			req: `{"instanceId":"i-1","attribute":"userData"}`}, nil},
		{"secrets read by filter", rec{source: "secretsmanager.amazonaws.com", name: "BatchGetSecretValue",
			req: `{"filters":[{"key":"tag-key","values":["env"]}]}`}, []string{"KW-CT-SECRETS-BATCH-READ"}},
		{"secrets read by name list is quiet", rec{source: "secretsmanager.amazonaws.com", name: "BatchGetSecretValue",
			req: `{"secretIdList":["db","api"]}`}, nil},
		{"SageMaker lifecycle script", rec{source: "sagemaker.amazonaws.com", name: "CreateNotebookInstanceLifecycleConfig",
			req: `{"notebookInstanceLifecycleConfigName":"lc"}`}, []string{"KW-CT-SAGEMAKER-LIFECYCLE"}},
		{"SageMaker lifecycle attached", rec{source: "sagemaker.amazonaws.com", name: "UpdateNotebookInstance",
			req: `{"notebookInstanceName":"nb","lifecycleConfigName":"lc"}`}, []string{"KW-CT-SAGEMAKER-LIFECYCLE"}},
		{"SageMaker notebook resized is quiet", rec{source: "sagemaker.amazonaws.com", name: "UpdateNotebookInstance",
			req: `{"notebookInstanceName":"nb","instanceType":"ml.t3.large"}`}, nil},
		{"SSM command sent", rec{source: "ssm.amazonaws.com", name: "SendCommand", req: `{"documentName":"AWS-RunShellScript","instanceIds":["i-1","i-2"]}`},
			[]string{"KW-CT-SSM-REMOTE"}},
		{"SSM session from the console", rec{source: "ssm.amazonaws.com", name: "StartSession", ua: console, idType: "AssumedRole", arn: role, req: `{"target":"i-1"}`},
			[]string{"KW-CT-SSM-REMOTE"}},
		{"SSM command by State Manager is quiet", rec{source: "ssm.amazonaws.com", name: "SendCommand",
			idType: "AWSService", invokedBy: "ssm.amazonaws.com", req: `{"documentName":"AWS-RunPatchBaseline"}`}, nil},
		{"SSH key through Instance Connect", rec{source: "ec2-instance-connect.amazonaws.com", name: "SendSSHPublicKey",
			req: `{"instanceId":"i-1","instanceOSUser":"ec2-user"}`}, []string{"KW-CT-EC2-SSH-KEY-PUSHED"}},
		{"serial console key", rec{source: "ec2-instance-connect.amazonaws.com", name: "SendSerialConsoleSSHPublicKey", idType: "AssumedRole", arn: role,
			req: `{"instanceId":"i-1","serialPort":0}`}, []string{"KW-CT-EC2-SSH-KEY-PUSHED"}},
		{"serial console enabled", rec{source: ec2, name: "EnableSerialConsoleAccess"}, []string{"KW-CT-EC2-SSH-KEY-PUSHED"}},
		{"refused Instance Connect is quiet", rec{source: "ec2-instance-connect.amazonaws.com", name: "SendSSHPublicKey", errCode: "AccessDenied",
			req: `{"instanceId":"i-1"}`}, nil},
		// impact
		{"Bedrock model invoked", rec{source: "bedrock.amazonaws.com", name: "InvokeModel", idType: "AssumedRole", arn: role,
			req: `{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0"}`}, []string{"KW-CT-BEDROCK-ABUSE"}},
		{"Bedrock model access unlocked", rec{source: "bedrock.amazonaws.com", name: "PutFoundationModelEntitlement", req: `{"modelId":"m"}`},
			[]string{"KW-CT-BEDROCK-ABUSE"}},
		{"Bedrock listing models is quiet", rec{source: "bedrock.amazonaws.com", name: "ListFoundationModels"}, nil},
		{"AMI deregistered", rec{source: ec2, name: "DeregisterImage", req: `{"imageId":"ami-1"}`}, []string{"KW-CT-EC2-AMI-DEREGISTERED"}},
		{"AMI deregistered by Image Builder is quiet", rec{source: ec2, name: "DeregisterImage",
			idType: "AssumedRole", invokedBy: "imagebuilder.amazonaws.com", req: `{"imageId":"ami-1"}`}, nil},
		{"trail bucket set to expire in a day", rec{source: s3, name: "PutBucketLifecycle",
			req: `{"bucketName":"trail","LifecycleConfiguration":{"Rule":{"ID":"x","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":1}}}}`},
			[]string{"KW-CT-S3-LIFECYCLE-SHORT"}},
		{"expiry as text in a rule list", rec{source: s3, name: "PutBucketLifecycle",
			req: `{"bucketName":"trail","LifecycleConfiguration":{"Rule":[{"Status":"Enabled","Expiration":{"Days":"3"}}]}}`},
			[]string{"KW-CT-S3-LIFECYCLE-SHORT"}},
		{"a year's expiry is quiet", rec{source: s3, name: "PutBucketLifecycle",
			req: `{"bucketName":"b","LifecycleConfiguration":{"Rule":{"Status":"Enabled","Expiration":{"Days":365}}}}`}, nil},
		{"a disabled short rule is quiet", rec{source: s3, name: "PutBucketLifecycle",
			req: `{"bucketName":"b","LifecycleConfiguration":{"Rule":{"Status":"Disabled","Expiration":{"Days":1}}}}`}, nil},
		{"S3 acting for the account is quiet", rec{source: s3, name: "PutBucketPolicy", extra: in, idType: "AWSService", invokedBy: "s3.amazonaws.com",
			req: `{"bucketName":"data","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rulesFired(t, NewEngine(), []cloudtrail.Event{tt.r.event(t)})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBaseNameDropsLambdaVersions(t *testing.T) {
	for in, want := range map[string]string{
		"UpdateFunctionConfiguration20150331v2": "UpdateFunctionConfiguration",
		"CreateFunction20150331":                "CreateFunction",
		"GetPolicy20150331v2":                   "GetPolicy",
		"ListObjectsV2":                         "ListObjectsV2",
		"DescribeInstances":                     "DescribeInstances",
		"AssumeRoleWithSAML":                    "AssumeRoleWithSAML",
	} {
		if got := baseName(in); got != want {
			t.Errorf("baseName(%s) = %s, want %s", in, got, want)
		}
	}
}
