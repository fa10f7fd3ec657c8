package detect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// TestAttackRulesOnLabelledEvents: events in the shapes AWS documents for
// each call (request parameters as CloudTrail writes them), positives
// and the look-alikes that must stay quiet: AWS acting for the account, a
// user managing their own credentials, a refused call, the safe value of
// the same parameter.
func TestAttackRulesOnLabelledEvents(t *testing.T) {
	const (
		in      = `"recipientAccountId":"111122223333",`
		role    = "arn:aws:sts::111122223333:assumed-role/admin/mallory"
		console = "console.amazonaws.com"
		sseC    = `"additionalEventData":{"SSEApplied":"SSE_C","bytesTransferredIn":0},`
		foreign = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		own     = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	iam, s3, ec2, gd := "iam.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com", "guardduty.amazonaws.com"
	lambda, rds, bedrock, sm := "lambda.amazonaws.com", "rds.amazonaws.com", "bedrock.amazonaws.com", "sagemaker.amazonaws.com"
	tests := []struct {
		name string
		r    rec
		want []string
	}{
		// T1556.006 MFA
		{"MFA of another user deactivated", rec{source: iam, name: "DeactivateMFADevice",
			req: `{"userName":"bob","serialNumber":"arn:aws:iam::111122223333:mfa/bob"}`}, []string{"KW-CT-IAM-MFA-CHANGED"}},
		{"own MFA device bound to another user, by an assumed role", rec{source: iam, name: "EnableMFADevice", idType: "AssumedRole", arn: role,
			req: `{"userName":"bob","serialNumber":"arn:aws:iam::111122223333:mfa/m"}`}, []string{"KW-CT-IAM-MFA-CHANGED"}},
		{"user replacing their own MFA is quiet", rec{source: iam, name: "DeactivateMFADevice",
			req: `{"userName":"alice","serialNumber":"arn:aws:iam::111122223333:mfa/alice"}`}, nil},
		{"SSO user enabling their own MFA is quiet", rec{source: iam, name: "EnableMFADevice", idType: "AssumedRole", arn: role,
			req: `{"userName":"mallory","serialNumber":"arn:aws:iam::111122223333:mfa/mallory"}`}, nil},
		{"refused MFA deactivation is quiet", rec{source: iam, name: "DeactivateMFADevice", errCode: "AccessDenied",
			req: `{"userName":"bob"}`}, nil},
		// T1484.002 federation
		{"SAML provider created", rec{source: iam, name: "CreateSAMLProvider", req: `{"name":"okta","sAMLMetadataDocument":"<x/>"}`},
			[]string{"KW-CT-IAM-FEDERATION-CHANGED"}},
		{"OIDC provider created from the console", rec{source: iam, name: "CreateOpenIDConnectProvider", ua: console,
			req: `{"url":"https://token.actions.githubusercontent.com","clientIDList":["sts.amazonaws.com"]}`}, []string{"KW-CT-IAM-FEDERATION-CHANGED"}},
		{"SAML provider set up by IAM Identity Center is quiet", rec{source: iam, name: "CreateSAMLProvider", idType: "AWSService",
			invokedBy: "sso.amazonaws.com", req: `{"name":"AWSSSO_x"}`}, nil},
		{"listing providers is quiet", rec{source: iam, name: "ListSAMLProviders"}, nil},
		// T1098.001 other credentials
		{"Git credentials for another user", rec{source: iam, name: "CreateServiceSpecificCredential",
			req: `{"userName":"bob","serviceName":"codecommit.amazonaws.com"}`}, []string{"KW-CT-IAM-OTHER-CREDENTIAL"}},
		{"SSH key for another user", rec{source: iam, name: "UploadSSHPublicKey", req: `{"userName":"bob","sSHPublicKeyBody":"ssh-rsa AAAA"}`},
			[]string{"KW-CT-IAM-OTHER-CREDENTIAL"}},
		{"Bedrock API key for oneself", rec{source: iam, name: "CreateServiceSpecificCredential",
			req: `{"userName":"alice","serviceName":"bedrock.amazonaws.com","credentialAgeDays":30}`}, []string{"KW-CT-IAM-OTHER-CREDENTIAL"}},
		{"own Git credentials are quiet", rec{source: iam, name: "CreateServiceSpecificCredential",
			req: `{"userName":"alice","serviceName":"codecommit.amazonaws.com"}`}, nil},
		{"own SSH key without a user name is quiet", rec{source: iam, name: "UploadSSHPublicKey", req: `{"sSHPublicKeyBody":"ssh-rsa AAAA"}`}, nil},
		// T1548.005 PassRole to existing compute
		{"instance profile swapped", rec{source: ec2, name: "ReplaceIamInstanceProfileAssociation",
			req: `{"ReplaceIamInstanceProfileAssociationRequest":{"IamInstanceProfile":{"Name":"admin"},"AssociationId":"iip-assoc-1"}}`},
			[]string{"KW-CT-PASSROLE-COMPUTE"}},
		{"instance profile attached", rec{source: ec2, name: "AssociateIamInstanceProfile",
			req: `{"AssociateIamInstanceProfileRequest":{"InstanceId":"i-1","IamInstanceProfile":{"Arn":"arn:aws:iam::111122223333:instance-profile/admin"}}}`},
			[]string{"KW-CT-PASSROLE-COMPUTE"}},
		{"Lambda role swapped (dated name)", rec{source: lambda, name: "UpdateFunctionConfiguration20150331v2",
			req: `{"functionName":"f","role":"arn:aws:iam::111122223333:role/admin"}`}, []string{"KW-CT-PASSROLE-COMPUTE"}},
		{"Glue dev endpoint with a role", rec{source: "glue.amazonaws.com", name: "CreateDevEndpoint",
			req: `{"endpointName":"e","roleArn":"arn:aws:iam::111122223333:role/admin","publicKey":"ssh-rsa AAAA"}`}, []string{"KW-CT-PASSROLE-COMPUTE"}},
		{"Lambda timeout changed is quiet", rec{source: lambda, name: "UpdateFunctionConfiguration20150331v2", req: `{"functionName":"f","timeout":30}`}, nil},
		{"instance profile attached by EC2 Auto Scaling is quiet", rec{source: ec2, name: "AssociateIamInstanceProfile", idType: "AssumedRole",
			invokedBy: "autoscaling.amazonaws.com", req: `{"AssociateIamInstanceProfileRequest":{"IamInstanceProfile":{"Name":"web"}}}`}, nil},
		{"Glue endpoint updated without keys is quiet", rec{source: "glue.amazonaws.com", name: "UpdateDevEndpoint", req: `{"endpointName":"e"}`}, nil},
		// T1562.001 tooling
		{"Security Hub disabled", rec{source: "securityhub.amazonaws.com", name: "DisableSecurityHub"}, []string{"KW-CT-DETECTION-TAMPERED"}},
		{"GuardDuty findings auto-archived", rec{source: gd, name: "CreateFilter",
			req: `{"detectorId":"d","name":"quiet","action":"ARCHIVE","findingCriteria":{"criterion":{"severity":{"gte":1}}}}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"GuardDuty trusted IP list", rec{source: gd, name: "CreateIPSet", req: `{"detectorId":"d","name":"ok","format":"TXT","location":"s3://b/ips.txt","activate":true}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"alarms deleted", rec{source: "monitoring.amazonaws.com", name: "DeleteAlarms", req: `{"alarmNames":["root-login","trail-stopped"]}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"alert rule disabled", rec{source: "events.amazonaws.com", name: "DisableRule", req: `{"name":"guardduty-to-slack"}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"log group deleted", rec{source: "logs.amazonaws.com", name: "DeleteLogGroup", req: `{"logGroupName":"/aws/cloudtrail"}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"bucket access logging turned off", rec{source: s3, name: "PutBucketLogging",
			req: `{"bucketName":"data","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"logging":""}`},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"Bedrock invocation logging deleted", rec{source: bedrock, name: "DeleteModelInvocationLoggingConfiguration"},
			[]string{"KW-CT-DETECTION-TAMPERED"}},
		{"GuardDuty filter that only tags is quiet", rec{source: gd, name: "CreateFilter", req: `{"detectorId":"d","name":"n","action":"NOOP"}`}, nil},
		{"GuardDuty IP set deactivated is quiet", rec{source: gd, name: "UpdateIPSet", req: `{"detectorId":"d","ipSetId":"i","activate":false}`}, nil},
		{"bucket access logging turned on is quiet", rec{source: s3, name: "PutBucketLogging",
			req: `{"bucketName":"data","BucketLoggingStatus":{"LoggingEnabled":{"TargetBucket":"logs","TargetPrefix":"data/"}}}`}, nil},
		{"log group deleted by CloudFormation is quiet", rec{source: "logs.amazonaws.com", name: "DeleteLogGroup", idType: "AssumedRole",
			invokedBy: "cloudformation.amazonaws.com", req: `{"logGroupName":"/aws/lambda/f"}`}, nil},
		{"Recycle Bin DeleteRule is not an EventBridge rule", rec{source: "rbin.amazonaws.com", name: "DeleteRule", req: `{"identifier":"r"}`},
			[]string{"KW-CT-BACKUP-REMOVED"}},
		// T1485 KMS
		{"KMS key scheduled for deletion", rec{source: "kms.amazonaws.com", name: "ScheduleKeyDeletion", idType: "AssumedRole", arn: role,
			req: `{"keyId":"k","pendingWindowInDays":7}`}, []string{"KW-CT-KMS-KEY-DESTROYED"}},
		{"KMS key disabled by root from the console", rec{source: "kms.amazonaws.com", name: "DisableKey", idType: "Root",
			arn: "arn:aws:iam::111122223333:root", ua: "AWS Internal", req: `{"keyId":"k"}`}, []string{"KW-CT-KMS-KEY-DESTROYED", "KW-CT-ROOT"}},
		{"KMS deletion cancelled is quiet", rec{source: "kms.amazonaws.com", name: "CancelKeyDeletion", req: `{"keyId":"k"}`}, nil},
		{"KMS deletion refused is quiet", rec{source: "kms.amazonaws.com", name: "ScheduleKeyDeletion", errCode: "AccessDeniedException", req: `{"keyId":"k"}`}, nil},
		// T1486 encryption (S3 data events)
		{"object rewritten with SSE-C (Stratus client-side-encryption)", rec{source: s3, name: "CopyObject", extra: in + sseC,
			req: `{"bucketName":"data","key":"a.txt","x-amz-copy-source":"data/a.txt","x-amz-server-side-encryption-customer-algorithm":"AES256","x-id":"CopyObject"}`},
			[]string{"KW-CT-S3-FOREIGN-ENCRYPTION"}},
		{"object written with another account's KMS key", rec{source: s3, name: "PutObject", extra: in,
			req: `{"bucketName":"data","key":"a.txt","x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"` + foreign + `"}`},
			[]string{"KW-CT-S3-FOREIGN-ENCRYPTION"}},
		{"bucket default set to another account's key", rec{source: s3, name: "PutBucketEncryption", extra: in,
			req: `{"bucketName":"data","ServerSideEncryptionConfiguration":{"Rule":{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"` + foreign + `"}}}}`},
			[]string{"KW-CT-S3-FOREIGN-ENCRYPTION"}},
		{"object written with the account's own KMS key is quiet", rec{source: s3, name: "PutObject", extra: in,
			req: `{"bucketName":"data","key":"a.txt","x-amz-server-side-encryption-aws-kms-key-id":"` + own + `"}`}, nil},
		{"plain PutObject is quiet", rec{source: s3, name: "PutObject", extra: in + `"additionalEventData":{"SSEApplied":"Default_SSE_S3"},`,
			req: `{"bucketName":"data","key":"a.txt"}`}, nil},
		{"reading an SSE-C object is quiet", rec{source: s3, name: "GetObject", extra: in + sseC,
			req: `{"bucketName":"data","key":"a.txt","x-amz-server-side-encryption-customer-algorithm":"AES256"}`}, nil},
		{"bucket default with the account's key is quiet", rec{source: s3, name: "PutBucketEncryption", extra: in,
			req: `{"bucketName":"data","ServerSideEncryptionConfiguration":{"Rule":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"` + own + `"}}]}}`}, nil},
		{"SSE-C copy by S3 replication is quiet", rec{source: s3, name: "PutObject", extra: in + sseC, idType: "AWSService", invokedBy: "s3.amazonaws.com",
			req: `{"bucketName":"data","key":"a.txt"}`}, nil},
		// T1490 recovery
		{"recovery removed by AWS Backup (service address only) is quiet", rec{source: "backup.amazonaws.com", name: "DeleteBackupSelection",
			idType: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/AWSBackupDefaultServiceRole/AWSBackup-x",
			ip: "backup.amazonaws.com", ua: "backup.amazonaws.com", req: `{"backupPlanId":"p","selectionId":"s"}`}, nil},
		{"backup vault deleted", rec{source: "backup.amazonaws.com", name: "DeleteBackupVault", req: `{"backupVaultName":"prod"}`},
			[]string{"KW-CT-BACKUP-REMOVED"}},
		{"S3 versioning suspended", rec{source: s3, name: "PutBucketVersioning",
			req: `{"bucketName":"data","VersioningConfiguration":{"Status":"Suspended","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"versioning":""}`},
			[]string{"KW-CT-BACKUP-REMOVED"}},
		{"RDS backups set to zero days", rec{source: rds, name: "ModifyDBInstance", req: `{"dBInstanceIdentifier":"db","backupRetentionPeriod":0,"applyImmediately":true}`},
			[]string{"KW-CT-BACKUP-REMOVED"}},
		{"S3 versioning enabled is quiet", rec{source: s3, name: "PutBucketVersioning",
			req: `{"bucketName":"data","VersioningConfiguration":{"Status":"Enabled"}}`}, nil},
		{"RDS resized is quiet", rec{source: rds, name: "ModifyDBInstance", req: `{"dBInstanceIdentifier":"db","dBInstanceClass":"db.r6g.large"}`}, nil},
		{"RDS backups kept a week is quiet", rec{source: rds, name: "ModifyDBInstance", req: `{"dBInstanceIdentifier":"db","backupRetentionPeriod":7}`}, nil},
		// T1485 databases
		{"database deleted without a final snapshot", rec{source: rds, name: "DeleteDBInstance",
			req: `{"dBInstanceIdentifier":"db","skipFinalSnapshot":true,"deleteAutomatedBackups":true}`}, []string{"KW-CT-DB-DELETED-NO-SNAPSHOT"}},
		{"Redshift cluster deleted without a snapshot", rec{source: "redshift.amazonaws.com", name: "DeleteCluster",
			req: `{"clusterIdentifier":"dw","skipFinalClusterSnapshot":true}`}, []string{"KW-CT-DB-DELETED-NO-SNAPSHOT"}},
		{"database deleted with a final snapshot is quiet", rec{source: rds, name: "DeleteDBInstance",
			req: `{"dBInstanceIdentifier":"db","skipFinalSnapshot":false,"finalDBSnapshotIdentifier":"db-final"}`}, nil},
		{"ECS DeleteCluster is not a database", rec{source: "ecs.amazonaws.com", name: "DeleteCluster", req: `{"cluster":"c","skipFinalSnapshot":true}`}, nil},
		// T1530 public S3
		{"Block Public Access removed", rec{source: s3, name: "DeleteBucketPublicAccessBlock", req: `{"bucketName":"data","publicAccessBlock":""}`},
			[]string{"KW-CT-S3-PUBLIC-ACCESS"}},
		{"Block Public Access lifted", rec{source: s3, name: "PutBucketPublicAccessBlock",
			req: `{"bucketName":"data","PublicAccessBlockConfiguration":{"BlockPublicAcls":false,"IgnorePublicAcls":false,"BlockPublicPolicy":false,"RestrictPublicBuckets":false}}`},
			[]string{"KW-CT-S3-PUBLIC-ACCESS"}},
		{"bucket ACL public-read", rec{source: s3, name: "PutBucketAcl", req: `{"bucketName":"data","acl":"","x-amz-acl":["public-read"]}`},
			[]string{"KW-CT-S3-PUBLIC-ACCESS"}},
		{"object ACL grant to AllUsers", rec{source: s3, name: "PutObjectAcl", req: `{"bucketName":"data","key":"a.txt","AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]}}}`},
			[]string{"KW-CT-S3-PUBLIC-ACCESS"}},
		{"bucket ACL granting another account's canonical user", rec{source: s3, name: "PutBucketAcl",
			req: `{"bucketName":"data","AccessControlPolicy":{"Owner":{"ID":"aaaa1111"},"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"CanonicalUser","ID":"aaaa1111"},"Permission":"FULL_CONTROL"},{"Grantee":{"xsi:type":"CanonicalUser","ID":"bbbb2222"},"Permission":"READ"}]}}}`},
			[]string{"KW-CT-S3-PUBLIC-ACCESS"}},
		{"ACL granting only the owner is quiet", rec{source: s3, name: "PutBucketAcl",
			req: `{"bucketName":"data","AccessControlPolicy":{"Owner":{"ID":"aaaa1111"},"AccessControlList":{"Grant":{"Grantee":{"ID":"aaaa1111"},"Permission":"FULL_CONTROL"}}}}`}, nil},
		{"Block Public Access turned on is quiet", rec{source: s3, name: "PutBucketPublicAccessBlock",
			req: `{"bucketName":"data","PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}`}, nil},
		{"log-delivery ACL is quiet", rec{source: s3, name: "PutBucketAcl", req: `{"bucketName":"logs","AccessControlPolicy":{"AccessControlList":{"Grant":{"Grantee":{"URI":"http://acs.amazonaws.com/groups/s3/LogDelivery"},"Permission":"WRITE"}}}}`}, nil},
		{"private ACL is quiet", rec{source: s3, name: "PutBucketAcl", req: `{"bucketName":"data","x-amz-acl":["private"]}`}, nil},
		// T1537 export
		{"bucket replication configured", rec{source: s3, name: "PutBucketReplication",
			req: `{"bucketName":"data","ReplicationConfiguration":{"Role":"arn:aws:iam::111122223333:role/r","Rule":{"Status":"Enabled","Destination":{"Bucket":"arn:aws:s3:::elsewhere","Account":"444455556666"}}}}`},
			[]string{"KW-CT-DATA-EXPORT"}},
		{"DynamoDB table exported to another account", rec{source: "dynamodb.amazonaws.com", name: "ExportTableToPointInTime", extra: in,
			req: `{"tableArn":"arn:aws:dynamodb:us-east-1:111122223333:table/users","s3Bucket":"drop","s3BucketOwner":"444455556666"}`},
			[]string{"KW-CT-DATA-EXPORT"}},
		{"instance exported to S3", rec{source: ec2, name: "CreateInstanceExportTask", req: `{"instanceId":"i-1","exportToS3":{"s3Bucket":"drop"}}`},
			[]string{"KW-CT-DATA-EXPORT"}},
		{"DynamoDB export to the account's own bucket is quiet", rec{source: "dynamodb.amazonaws.com", name: "ExportTableToPointInTime", extra: in,
			req: `{"tableArn":"t","s3Bucket":"backups"}`}, nil},
		{"replication set by CloudFormation is quiet", rec{source: s3, name: "PutBucketReplication", idType: "AssumedRole",
			invokedBy: "cloudformation.amazonaws.com", req: `{"bucketName":"data"}`}, nil},
		// T1578.005, T1496, T1526
		{"quota increase requested", rec{source: "servicequotas.amazonaws.com", name: "RequestServiceQuotaIncrease",
			req: `{"serviceCode":"ec2","quotaCode":"L-DB2E81BA","desiredValue":256}`}, []string{"KW-CT-QUOTA-RAISED"}},
		{"quota read is quiet", rec{source: "servicequotas.amazonaws.com", name: "GetServiceQuota", req: `{"serviceCode":"ec2"}`}, nil},
		{"GPU launch template", rec{source: ec2, name: "CreateLaunchTemplate",
			req: `{"CreateLaunchTemplateRequest":{"LaunchTemplateName":"t","LaunchTemplateData":{"InstanceType":"g5.12xlarge","ImageId":"ami-1"}}}`},
			[]string{"KW-CT-MINING-MANAGED"}},
		{"GPU spot request refused still alerts", rec{source: ec2, name: "RequestSpotInstances", errCode: "Client.MaxSpotInstanceCountExceeded",
			req: `{"instanceCount":20,"launchSpecification":{"instanceType":"p3.16xlarge"}}`}, []string{"KW-CT-MINING-MANAGED"}},
		{"SageMaker GPU training job", rec{source: sm, name: "CreateTrainingJob", idType: "AssumedRole", arn: role,
			req: `{"trainingJobName":"j","resourceConfig":{"instanceType":"ml.p4d.24xlarge","instanceCount":4}}`}, []string{"KW-CT-MINING-MANAGED"}},
		{"small SageMaker notebook is quiet", rec{source: sm, name: "CreateNotebookInstance", req: `{"notebookInstanceName":"nb","instanceType":"ml.t3.medium"}`}, nil},
		{"small launch template is quiet", rec{source: ec2, name: "CreateLaunchTemplate",
			req: `{"CreateLaunchTemplateRequest":{"LaunchTemplateData":{"InstanceType":"t3.micro"}}}`}, nil},
		{"Bedrock model availability probed", rec{source: bedrock, name: "GetFoundationModelAvailability", ua: "Boto3/1.34",
			req: `{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0"}`}, []string{"KW-CT-BEDROCK-RECON"}},
		{"Bedrock logging checked, refused", rec{source: bedrock, name: "GetModelInvocationLoggingConfiguration", errCode: "AccessDeniedException"},
			[]string{"KW-CT-BEDROCK-RECON"}},
		{"Bedrock model page in the console is quiet", rec{source: bedrock, name: "GetFoundationModelAvailability", ua: "AWS Internal"}, nil},
		// T1546 / T1648 Lambda URL
		{"public function URL (dated name)", rec{source: lambda, name: "CreateFunctionUrlConfig20211031", req: `{"functionName":"f","authType":"NONE"}`},
			[]string{"KW-CT-LAMBDA-URL-PUBLIC"}},
		{"IAM-authenticated function URL is quiet", rec{source: lambda, name: "CreateFunctionUrlConfig20211031", req: `{"functionName":"f","authType":"AWS_IAM"}`}, nil},
		// T1578.004
		{"root volume replaced", rec{source: ec2, name: "CreateReplaceRootVolumeTask", req: `{"CreateReplaceRootVolumeTaskRequest":{"InstanceId":"i-1"}}`},
			[]string{"KW-CT-EC2-ROOT-VOLUME-REPLACED"}},
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

// s3Call is an S3 data event at t0+at by key on bucket, in the shape
// Stratus Red Team's detection notes show (eventCategory Data).
func s3Call(t testing.TB, key string, at time.Duration, name, bucket, req, extraIdentity string) cloudtrail.Event {
	if req == "" {
		req = fmt.Sprintf(`{"bucketName":%q,"Host":"%s.s3.us-east-1.amazonaws.com","x-id":%q}`, bucket, bucket, name)
	}
	return ev(t, fmt.Sprintf(`{"eventID":"e%d","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":%q,
		"eventCategory":"Data","managementEvent":false,"recipientAccountId":"111122223333","sourceIPAddress":"203.0.113.7",
		"userIdentity":{"type":"IAMUser","accessKeyId":%q,"arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"%s},
		"requestParameters":%s}`, at, t0.Add(at).Format(time.RFC3339Nano), name, key, extraIdentity, req))
}

// iamCall is a management event at t0+at with the given request.
func iamCall(t testing.TB, at time.Duration, source, name, req, resp, ident string) cloudtrail.Event {
	if ident == "" {
		ident = `"type":"IAMUser","accessKeyId":"AKIAIOSFODNN7EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"`
	}
	if resp == "" {
		resp = "null"
	}
	return ev(t, fmt.Sprintf(`{"eventID":"e%d","eventTime":%q,"eventSource":%q,"eventName":%q,"sourceIPAddress":"203.0.113.7",
		"userIdentity":{%s},"requestParameters":%s,"responseElements":%s}`,
		at, t0.Add(at).Format(time.RFC3339Nano), source, name, ident, req, resp))
}

// TestAttackBurstsOnLabelledSequences: each burst on the sequence of the
// attack it names (the Stratus S3 ransomware detonations among them) and
// on the near misses that must stay quiet.
func TestAttackBurstsOnLabelledSequences(t *testing.T) {
	const key, key2 = "AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"
	versioned := func(bucket string, i int) string {
		return fmt.Sprintf(`{"bucketName":%q,"key":"f%d.txt","versionId":"v%d","x-id":"DeleteObject"}`, bucket, i, i)
	}
	var batch, individual, markersOnly, spread, twoBuckets, reads, roleReads []cloudtrail.Event
	batch = append(batch, s3Call(t, key, 0, "ListObjectVersions", "data", "", ""),
		s3Call(t, key, time.Second, "DeleteObjects", "data", "", ""),
		s3Call(t, key, 2*time.Second, "PutObject", "data", `{"bucketName":"data","key":"FILES-DELETED.txt"}`, ""))
	individual = append(individual, s3Call(t, key, 0, "ListObjectVersions", "data", "", ""))
	for i := range 51 {
		at := time.Duration(i+1) * time.Second
		individual = append(individual, s3Call(t, key, at, "DeleteObject", "data", versioned("data", i), ""))
		markersOnly = append(markersOnly, s3Call(t, key, at, "DeleteObject", "data",
			fmt.Sprintf(`{"bucketName":"data","key":"f%d.txt"}`, i), ""))
		spread = append(spread, s3Call(t, key, time.Duration(i)*15*time.Second, "DeleteObject", "data", versioned("data", i), ""))
		bucket := []string{"a", "b"}[i%2]
		twoBuckets = append(twoBuckets, s3Call(t, key, at, "DeleteObject", bucket, versioned(bucket, i), ""))
	}
	for i := range 1000 {
		at := time.Duration(i) * 500 * time.Millisecond
		reads = append(reads, s3Call(t, key, at, "GetObject", "data", "", ""))
		roleReads = append(roleReads, s3Call(t, "ASIAIOSFODNN7EXAMPLE", at, "GetObject", "data", "", ""))
	}
	listOnly := []cloudtrail.Event{s3Call(t, key, 0, "ListObjectVersions", "data", "", ""), s3Call(t, key, time.Second, "ListObjectVersions", "data", "", "")}
	listOtherBucket := []cloudtrail.Event{s3Call(t, key, 0, "ListObjectVersions", "logs", "", ""), s3Call(t, key, time.Second, "DeleteObjects", "data", "", "")}
	listOtherKey := []cloudtrail.Event{s3Call(t, key2, 0, "ListObjectVersions", "data", "", ""), s3Call(t, key, time.Second, "DeleteObjects", "data", "", "")}
	byLifecycle := []cloudtrail.Event{
		s3Call(t, key, 0, "ListObjectVersions", "data", "", `,"invokedBy":"s3.amazonaws.com"`),
		s3Call(t, key, time.Second, "DeleteObjects", "data", "", `,"invokedBy":"s3.amazonaws.com"`)}

	ec2Call := func(at time.Duration, name, ident string) cloudtrail.Event {
		return iamCall(t, at, "ec2.amazonaws.com", name, `{"snapshotId":"snap-1"}`, "", ident)
	}
	var snaps, snapsDLM, snapsSlow, destroy, destroyCFN []cloudtrail.Event
	for i := range 10 {
		at := time.Duration(i) * 30 * time.Second
		snaps = append(snaps, ec2Call(at, "DeleteSnapshot", ""))
		snapsDLM = append(snapsDLM, ec2Call(at, "DeleteSnapshot",
			`"type":"AWSService","invokedBy":"dlm.amazonaws.com","arn":"arn:aws:iam::111122223333:role/dlm"`))
		snapsSlow = append(snapsSlow, ec2Call(time.Duration(i)*2*time.Minute, "DeleteSnapshot", ""))
		name := []string{"TerminateInstances", "DeleteBucket", "DeleteDBInstance", "DeleteFunction20150331", "DeleteTable"}[i%5]
		destroy = append(destroy, iamCall(t, at, "", name, "{}", "", ""))
		destroyCFN = append(destroyCFN, iamCall(t, at, "", name, "{}", "",
			`"type":"AssumedRole","invokedBy":"cloudformation.amazonaws.com","arn":"arn:aws:sts::111122223333:assumed-role/cfn/x"`))
	}
	var roles, oneRole, lockout, rotation, respondOne, guesses, logins []cloudtrail.Event
	for i := range 5 {
		at := time.Duration(i) * time.Minute
		roles = append(roles, iamCall(t, at, "sts.amazonaws.com", "AssumeRole",
			fmt.Sprintf(`{"roleArn":"arn:aws:iam::111122223333:role/r%d","roleSessionName":"s"}`, i), "", ""))
		oneRole = append(oneRole, iamCall(t, at, "sts.amazonaws.com", "AssumeRole",
			`{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"s"}`, "", ""))
		guesses = append(guesses, iamCall(t, at, "signin.amazonaws.com", "ConsoleLogin", "null", `{"ConsoleLogin":"Failure"}`,
			`"type":"IAMUser","accountId":"111122223333","userName":"bob"`))
		ok := `{"ConsoleLogin":"Failure"}`
		if i == 4 {
			ok = `{"ConsoleLogin":"Success"}`
		}
		logins = append(logins, iamCall(t, at, "signin.amazonaws.com", "ConsoleLogin", "null", ok,
			`"type":"IAMUser","accountId":"111122223333","userName":"bob"`))
	}
	for i, n := range []string{"DeleteLoginProfile", "UpdateAccessKey", "DeactivateMFADevice"} {
		at := time.Duration(i) * time.Minute
		req := fmt.Sprintf(`{"userName":"u%d","accessKeyId":"AKIAI44QH8DHBEXAMPLE","status":"Inactive"}`, i)
		lockout = append(lockout, iamCall(t, at, "iam.amazonaws.com", n, req, "", ""))
		rotation = append(rotation, iamCall(t, at, "iam.amazonaws.com", n, `{"userName":"alice","status":"Inactive"}`, "", ""))
		respondOne = append(respondOne, iamCall(t, at, "iam.amazonaws.com", n, `{"userName":"bob","status":"Inactive"}`, "", ""))
	}
	reactivate := append(lockout[:2:2], iamCall(t, 2*time.Minute, "iam.amazonaws.com", "UpdateAccessKey", `{"userName":"u9","status":"Active"}`, "", ""))

	by := func(id string) string { return "KW-CT-" + id + " " + key }
	tests := []struct {
		name   string
		events []cloudtrail.Event
		want   []string
	}{
		{"Stratus batch deletion: versions listed, DeleteObjects, a note", batch, []string{by("S3-VERSIONS-PURGED"), by("S3-RANSOM-NOTE")}},
		{"Stratus individual deletion: versions listed, 51 version deletes", individual,
			[]string{by("S3-VERSIONS-PURGED"), by("S3-DELETE-BURST")}},
		{"51 deletes without versions (delete markers) are a delete burst only", markersOnly, []string{by("S3-DELETE-BURST")}},
		{"version deletes spread over 12 minutes are quiet", spread, nil},
		{"deletes split over two buckets are quiet", twoBuckets, nil},
		{"listing versions alone is quiet", listOnly, nil},
		{"versions listed in another bucket are quiet", listOtherBucket, nil},
		{"versions listed by another key are quiet", listOtherKey, nil},
		{"S3 lifecycle acting for the account is quiet", byLifecycle, nil},
		{"1,000 reads with an IAM user's key", reads, []string{by("S3-READ-BURST")}},
		{"1,000 reads by a role session are quiet", roleReads, nil},
		{"10 snapshots deleted", snaps, []string{by("SNAPSHOT-DELETE-BURST")}},
		{"snapshots expired by Data Lifecycle Manager are quiet", snapsDLM, nil},
		{"10 snapshots over 18 minutes are quiet", snapsSlow, nil},
		{"10 resources destroyed (a dated Lambda name among them)", destroy, []string{by("DESTROY-BURST")}},
		{"a CloudFormation stack deleted is quiet", destroyCFN, nil},
		{"5 different roles assumed", roles, []string{by("ASSUMEROLE-BURST")}},
		{"one role assumed 5 times is quiet", oneRole, nil},
		{"3 other users locked out", lockout, []string{by("ACCESS-REMOVAL-BURST")}},
		{"a user rotating their own credentials is quiet", rotation, nil},
		{"one user contained (keywarden respond) is quiet", respondOne, nil},
		{"a key re-activated is not a removal", reactivate, nil},
		{"5 failed console logins", guesses, []string{"KW-CT-CONSOLE-LOGIN-FAIL-BURST "}},
		{"4 failures then a success are quiet", logins, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observeAll(t, Dispatch(AttackBursts(&MemStore{})...), tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDispatchFlushesEveryBurst: a burst's window saved by the dispatcher
// carries over to the next run, as watch --resume and Lambda rely on.
func TestDispatchFlushesEveryBurst(t *testing.T) {
	store := &MemStore{}
	list := s3Call(t, "AKIAIOSFODNN7EXAMPLE", 0, "ListObjectVersions", "data", "", "")
	del := s3Call(t, "AKIAIOSFODNN7EXAMPLE", time.Minute, "DeleteObjects", "data", "", "")
	first := Dispatch(AttackBursts(store)...)
	if got := observeAll(t, first, []cloudtrail.Event{list}); got != nil {
		t.Fatalf("alerts on the listing alone: %v", got)
	}
	if err := first.(Flusher).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"KW-CT-S3-VERSIONS-PURGED AKIAIOSFODNN7EXAMPLE"}
	if diff := cmp.Diff(want, observeAll(t, Dispatch(AttackBursts(store)...), []cloudtrail.Event{del})); diff != "" {
		t.Errorf("after a restart (-want +got):\n%s", diff)
	}
}

// TestRoleOfReadsTheRawRequest: the roleArn read without decoding is the
// one decoding gives, spaces and escapes included.
func TestRoleOfReadsTheRawRequest(t *testing.T) {
	for raw, want := range map[string]string{
		`{"roleArn":"arn:aws:iam::111122223333:role/a","roleSessionName":"s"}`:    "arn:aws:iam::111122223333:role/a",
		`{"roleSessionName":"s", "roleArn" : "arn:aws:iam::111122223333:role/b"}`: "arn:aws:iam::111122223333:role/b",
		`{"policy":"{\"roleArn\":\"x\"}","roleArn":"arn:aws:iam::1:role/c"}`:      "arn:aws:iam::1:role/c",
		`{"roleArn":"arn:aws:iam::1:role/\u0064"}`:                                "arn:aws:iam::1:role/d",
		`{"roleSessionName":"s"}`:                                                 "",
		`null`:                                                                    "",
	} {
		e := cloudtrail.Event{RequestParameters: []byte(raw)}
		if got := roleOf(&e); got != want {
			t.Errorf("roleOf(%s) = %q, want %q", raw, got, want)
		}
	}
}
