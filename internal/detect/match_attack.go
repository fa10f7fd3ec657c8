package detect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// attackRules cover the MITRE ATT&CK IaaS techniques a stolen key enables
// beyond the Stratus Red Team catalogue (docs/watch.md's ATT&CK table):
// authentication changed, security tools silenced, recovery removed, data
// destroyed, encrypted or made public, compute hijacked. Each is quiet when
// AWS acts for the account and, unless its matcher says otherwise, when
// the call failed.
var attackRules = onTheirEvents([]Rule{
	{ID: "KW-CT-IAM-MFA-CHANGED", Severity: severity.High, Title: "MFA device of another user deactivated or enabled", Technique: "T1556.006",
		Description: "Removing another user's MFA, or binding a device of one's own to them, takes over how that user proves who they are.",
		Remediation: "Re-register the user's own MFA device, reset their password, and contain the calling key.",
		Events:      []string{"DeactivateMFADevice", "EnableMFADevice"}, Match: matchMFAOther},
	{ID: "KW-CT-IAM-FEDERATION-CHANGED", Severity: severity.High, Title: "identity provider trusted or changed", Technique: "T1484.002",
		Description: "A new or changed SAML or OIDC provider lets whoever controls it sign in as the account's federated roles.",
		Remediation: "Delete the provider or restore its metadata; check which roles trust it; contain the key.",
		Events: []string{"CreateSAMLProvider", "UpdateSAMLProvider", "CreateOpenIDConnectProvider",
			"UpdateOpenIDConnectProviderThumbprint", "AddClientIDToOpenIDConnectProvider"}, Match: matchFederation},
	{ID: "KW-CT-IAM-OTHER-CREDENTIAL", Severity: severity.High, Title: "SSH key, certificate or service credential added for another user", Technique: "T1098.001",
		Description: "Git credentials, SSH keys and signing certificates are credentials too; a Bedrock API key is LLM-jacking's way back in.",
		Remediation: "Delete the credential (aws iam delete-service-specific-credential, delete-ssh-public-key) and contain the key.",
		Events:      []string{"CreateServiceSpecificCredential", "UploadSSHPublicKey", "UploadSigningCertificate"}, Match: matchOtherCredential},
	{ID: "KW-CT-PASSROLE-COMPUTE", Severity: severity.Medium, Title: "role handed to existing compute", Technique: "T1548.005",
		Description: "Swapping an instance profile, a function's role or a Glue endpoint's role runs existing code with a role the caller picked: PassRole escalation.",
		Remediation: "Restore the previous role, check what ran under the new one, and contain the key.",
		Events: []string{"AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation", "UpdateFunctionConfiguration",
			"CreateDevEndpoint", "UpdateDevEndpoint"}, Match: matchPassRole},
	{ID: "KW-CT-DETECTION-TAMPERED", Severity: severity.High, Title: "security tooling or its alerts weakened", Technique: "T1562.001",
		Description: "Security Hub, Inspector, Detective or Access Analyzer off; GuardDuty findings auto-archived or an IP trusted; alarms, alert rules, log groups or bucket logging removed.",
		Remediation: "Restore the control or the deleted alarm, rule or log group, then contain the key.",
		Events: append(flatNames(tamperCalls), "CreateFilter", "UpdateFilter", "CreateIPSet", "UpdateIPSet",
			"PutBucketLogging"), Match: matchTamper},
	{ID: "KW-CT-KMS-KEY-DESTROYED", Severity: severity.High, Title: "KMS key scheduled for deletion or disabled", Technique: "T1485",
		Description: "Whatever a deleted key encrypted (volumes, snapshots, objects, secrets) is lost for good once the waiting period ends.",
		Remediation: "Cancel the deletion (aws kms cancel-key-deletion) or enable the key again, then contain the key.",
		Events:      []string{"ScheduleKeyDeletion", "DisableKey", "DeleteImportedKeyMaterial"}, Match: matchAWSCall("kms.amazonaws.com")},
	{ID: "KW-CT-S3-FOREIGN-ENCRYPTION", Severity: severity.Critical, Title: "S3 objects encrypted with a key the account does not hold", Technique: "T1486",
		Stratus:     []string{"aws.impact.s3-ransomware-client-side-encryption"},
		Description: "SSE-C (a key only the caller knows) or another account's KMS key on objects or as a bucket default: the S3 ransomware pattern. Object writes are S3 data events.",
		Remediation: "Block SSE-C on the bucket (a policy denying s3:x-amz-server-side-encryption-customer-algorithm), restore prior versions, contain the key.",
		Events: []string{"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
			"PutBucketEncryption"}, Match: matchForeignEncryption},
	{ID: "KW-CT-BACKUP-REMOVED", Severity: severity.High, Title: "backups or versioning turned off", Technique: "T1490",
		Description: "Backup vaults, plans, Recycle Bin rules or snapshot policies deleted, RDS backups set to 0 days, S3 versioning suspended: recovery removed first.",
		Remediation: "Recreate the backup plan or rule, resume versioning, and contain the key before data is touched.",
		Events:      append(flatNames(backupCalls), "PutBucketVersioning", "ModifyDBInstance", "ModifyDBCluster"),
		Match:       matchBackupRemoved},
	{ID: "KW-CT-DB-DELETED-NO-SNAPSHOT", Severity: severity.High, Title: "database deleted without a final snapshot", Technique: "T1485",
		Description: "An RDS or Redshift database deleted with its final snapshot skipped cannot be restored.",
		Remediation: "Restore from automated backups if any are kept; contain the key.",
		Events:      []string{"DeleteDBInstance", "DeleteDBCluster", "DeleteCluster"}, Match: matchDBNoSnapshot},
	{ID: "KW-CT-S3-PUBLIC-ACCESS", Severity: severity.High, Title: "S3 Block Public Access removed or an ACL opened", Technique: "T1530",
		Description: "Block Public Access lifted (bucket or account), or a bucket or object ACL granting AllUsers, AuthenticatedUsers or another account.",
		Remediation: "Turn Block Public Access back on (aws s3api put-public-access-block), restore the ACL, contain the key.",
		Events: []string{"DeleteBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock",
			"PutAccountPublicAccessBlock", "PutBucketAcl", "PutObjectAcl"}, Match: matchS3Public},
	{ID: "KW-CT-DATA-EXPORT", Severity: severity.Medium, Title: "data set to copy out of the account", Technique: "T1537",
		Description: "Bucket replication configured, an instance or image exported to S3, or a DynamoDB table exported to another account's bucket.",
		Remediation: "Remove the replication or cancel the export task; check the destination's owner; contain the key.",
		Events:      []string{"PutBucketReplication", "CreateInstanceExportTask", "ExportImage", "ExportTableToPointInTime"},
		Match:       matchDataExport},
	{ID: "KW-CT-QUOTA-RAISED", Severity: severity.Medium, Title: "service quota increase requested", Technique: "T1578.005",
		Description: "Mining and spam need more than a new account's quotas allow: GPU vCPUs, instances, SES sending.",
		Remediation: "Confirm the request was planned; otherwise withdraw it through Support and contain the key.",
		Events:      []string{"RequestServiceQuotaIncrease"}, Match: matchQuota},
	{ID: "KW-CT-MINING-MANAGED", Severity: severity.High, Title: "GPU or very large instances set up outside RunInstances", Technique: "T1496",
		Description: "Spot requests, launch templates and configurations, SageMaker notebooks, training, processing and endpoints with GPU or 24xlarge+ types.",
		Remediation: "Delete the template, request or job, check every region for running capacity, and contain the key.",
		Events: []string{"RequestSpotInstances", "CreateLaunchTemplate", "CreateLaunchTemplateVersion", "CreateLaunchConfiguration",
			"CreateNotebookInstance", "CreateTrainingJob", "CreateProcessingJob", "CreateEndpointConfig"}, Match: matchMiningManaged},
	{ID: "KW-CT-BEDROCK-RECON", Severity: severity.Medium, Title: "Bedrock model access or logging probed", Technique: "T1526",
		Stratus:     []string{"aws.impact.bedrock-invoke-model"},
		Description: "LLM-jacking starts by checking which models the account may use and whether invocations are logged. Refused attempts count.",
		Remediation: "Confirm the caller uses Bedrock; otherwise contain the key and keep model invocation logging on.",
		Events: []string{"GetFoundationModelAvailability", "ListFoundationModelAgreementOffers", "GetUseCaseForModelAccess",
			"GetModelInvocationLoggingConfiguration"}, Match: matchBedrockRecon},
	{ID: "KW-CT-LAMBDA-URL-PUBLIC", Severity: severity.High, Title: "Lambda function URL without authentication", Technique: "T1546",
		Description: "A function URL of auth type NONE is a public HTTPS door into code that runs as the function's role.",
		Remediation: "Delete the function URL or set its auth type to AWS_IAM, and contain the key.",
		Events:      []string{"CreateFunctionUrlConfig", "UpdateFunctionUrlConfig"}, Match: matchLambdaURL},
	{ID: "KW-CT-EC2-ROOT-VOLUME-REPLACED", Severity: severity.Medium, Title: "instance root volume replaced", Technique: "T1578.004",
		Description: "Replacing a root volume reverts the instance to a snapshot or image, wiping what was on its disk (and the evidence).",
		Remediation: "Keep the replaced volume (it is retained unless deleted) for investigation; contain the key.",
		Events:      []string{"CreateReplaceRootVolumeTask"}, Match: matchAWSCall("ec2.amazonaws.com")},
	{ID: "KW-CT-ORG-POLICY-CHANGED", Severity: severity.High, Title: "Organizations guardrail policy detached, deleted or changed", Technique: "T1484",
		Description: "A service or resource control policy detached, deleted or rewritten, or the policy type disabled: every account below it loses that guardrail at once.",
		Remediation: "Reattach or restore the policy from its last version (infrastructure code or AWS Config), then contain the key of the management account.",
		Events:      []string{"DetachPolicy", "DeletePolicy", "UpdatePolicy", "DisablePolicyType"}, ReadsResp: true, Match: matchOrgPolicy},
	{ID: "KW-CT-KMS-KEY-SHARED", Severity: severity.High, Title: "KMS key opened to another account or to everyone", Technique: "T1537",
		Description: "A key policy allowing another account or * without a condition, or a grant to another account's principal: whatever the key encrypts (snapshots, objects, secrets) can be read outside.",
		Remediation: "Restore the key policy or revoke the grant (aws kms revoke-grant); check what was shared with the key; contain the key.",
		Events:      []string{"PutKeyPolicy", "CreateKey", "CreateGrant"}, Match: matchKMSShared},
	{ID: "KW-CT-IAM-GROUP-ESCALATION", Severity: severity.High, Title: "user added to an administrators' group, or to a group by themselves", Technique: "T1098.003",
		Description: "AddUserToGroup into a group named for administrators (admin, poweruser, breakglass, ...), or a user adding themselves to any group: the group's rights become theirs.",
		Remediation: "Remove the user from the group (aws iam remove-user-from-group) and contain the calling key.",
		Events:      []string{"AddUserToGroup"}, Match: matchGroupEscalation},
	{ID: "KW-CT-IAM-BROAD-POLICY", Severity: severity.Medium, Title: "AWS-managed full-access policy attached", Technique: "T1098.003",
		Description: "PowerUserAccess or an AWS-managed …FullAccess policy (AmazonS3FullAccess, AmazonEC2FullAccess, ...) attached: a whole service handed over at once.",
		Remediation: "Replace it with a policy scoped to what the principal needs (keywarden policy suggest); confirm with the principal's owner.",
		Events:      []string{"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"}, Match: matchBroadPolicy},
	{ID: "KW-CT-S3-RANSOM-NOTE-NAMED", Severity: severity.Low, Title: "object named like a ransom note written to S3", Technique: "T1486",
		Description: "A small text object whose name says decrypt, recover, restore, ransom or files deleted. KW-CT-S3-RANSOM-NOTE raises it to critical after destruction. S3 data events.",
		Remediation: "Read the object; if it is a ransom note, contain the key and restore from versions, a replica or a backup.",
		Events:      []string{"PutObject"}, Match: matchRansomNote},
})

// other is the user an IAM call targets when that is not the caller.
func other(e *cloudtrail.Event, req map[string]any) (string, bool) {
	t := Str(req, "userName")
	return t, t != "" && t != self(e)
}

func matchMFAOther(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	t, ok := other(e, req)
	return baseName(e.EventName) + " for user " + t, ok && byHand(e)
}

func matchFederation(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return strings.TrimSpace(baseName(e.EventName) + " " + firstNonEmpty(Str(req, "name"), Str(req, "url"),
		Str(req, "sAMLProviderArn"), Str(req, "openIDConnectProviderArn"))), byHand(e)
}

// matchOtherCredential: for another user, or a Bedrock API key for anyone
// (a long-term key to the models, made for the caller or a new user).
func matchOtherCredential(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	t, ok := other(e, req)
	svc := Str(req, "serviceName")
	d := baseName(e.EventName) + " for user " + firstNonEmpty(t, self(e))
	if svc != "" {
		d += " (" + svc + ")"
	}
	return d, byHand(e) && (ok || svc == "bedrock.amazonaws.com")
}

func matchPassRole(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	var role string
	switch baseName(e.EventName) {
	case "AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation":
		for _, k := range []string{"AssociateIamInstanceProfileRequest", "ReplaceIamInstanceProfileAssociationRequest"} {
			role = firstNonEmpty(role, Str(req, k, "IamInstanceProfile", "Arn"), Str(req, k, "IamInstanceProfile", "Name"))
		}
		role = firstNonEmpty(role, Str(req, "iamInstanceProfile", "arn"), Str(req, "iamInstanceProfile", "name"), "an instance profile")
	case "UpdateFunctionConfiguration":
		role = Str(req, "role")
	case "UpdateDevEndpoint":
		// A new SSH key on a Glue endpoint is a shell as its role.
		if Get(req, "publicKey") != nil || Get(req, "addPublicKeys") != nil {
			role = "its role (SSH key added)"
		}
	default:
		role = Str(req, "roleArn")
	}
	target := firstNonEmpty(Str(req, "functionName"), Str(req, "endpointName"),
		Str(req, "AssociateIamInstanceProfileRequest", "InstanceId"), Str(req, "instanceId"))
	return strings.TrimSpace(target + " runs as " + role), byHand(e) && role != ""
}

// tamperCalls silence a security tool or remove where its alerts go;
// GuardDuty filters and IP sets and bucket logging are judged by their
// parameters.
var tamperCalls = map[string][]string{
	"securityhub.amazonaws.com":     {"DisableSecurityHub", "BatchDisableStandards", "DisassociateFromAdministratorAccount", "DisassociateFromMasterAccount"},
	"inspector2.amazonaws.com":      {"Disable"},
	"detective.amazonaws.com":       {"DeleteGraph", "DisassociateMembership"},
	"access-analyzer.amazonaws.com": {"DeleteAnalyzer"},
	"guardduty.amazonaws.com":       {"StopMonitoringMembers", "DeleteMembers", "DeletePublishingDestination"},
	"monitoring.amazonaws.com":      {"DeleteAlarms", "DisableAlarmActions"},
	"events.amazonaws.com":          {"DisableRule", "DeleteRule"},
	"logs.amazonaws.com":            {"DeleteLogGroup", "DeleteLogStream", "DeleteSubscriptionFilter"},
	"cloudtrail.amazonaws.com":      {"DeleteEventDataStore", "StopEventDataStoreIngestion"},
	"bedrock.amazonaws.com":         {"DeleteModelInvocationLoggingConfiguration"},
}

func matchTamper(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) {
		return "", false
	}
	name := baseName(e.EventName)
	switch {
	case is(e, "guardduty.amazonaws.com", "CreateFilter", "UpdateFilter"):
		return "GuardDuty filter " + Str(req, "name") + " archives findings", strings.EqualFold(Str(req, "action"), "ARCHIVE")
	case is(e, "guardduty.amazonaws.com", "CreateIPSet", "UpdateIPSet"):
		on, isBool := Get(req, "activate").(bool)
		return "GuardDuty trusted IP list " + firstNonEmpty(Str(req, "name"), Str(req, "ipSetId")), !isBool || on
	case is(e, "s3.amazonaws.com", "PutBucketLogging"):
		status, _ := Get(req, "BucketLoggingStatus").(map[string]any)
		return "access logging of " + Str(req, "bucketName") + " turned off", Get(req, "BucketLoggingStatus") != nil && status["LoggingEnabled"] == nil
	}
	target := firstNonEmpty(Str(req, "logGroupName"), Str(req, "ruleName"), Str(req, "name"), Str(req, "analyzerName"),
		Str(req, "graphArn"), Str(req, "eventDataStore"), strings.Join(strs(Get(req, "alarmNames")), ","))
	return strings.TrimSpace(name + " " + target), slices.Contains(tamperCalls[e.EventSource], name) || e.EventSource == ""
}

// foreignKey reports a KMS key ARN of an account other than own.
func foreignKey(key, own string) bool {
	a := accountOf(key)
	return a != "" && own != "" && a != own
}

// matchForeignEncryption: S3 writes an SSE-C object's algorithm in the
// request (and SSEApplied "SSE_C" in additionalEventData); a KMS key of
// another account is named in the request header or the bucket default.
func matchForeignEncryption(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) {
		return "", false
	}
	bucket, own := Str(req, "bucketName"), account(e)
	if baseName(e.EventName) == "PutBucketEncryption" {
		conf, _ := Get(req, "ServerSideEncryptionConfiguration").(map[string]any)
		for _, r := range listOf(conf["Rule"]) {
			if k := Str(r, "ApplyServerSideEncryptionByDefault", "KMSMasterKeyID"); foreignKey(k, own) {
				return "bucket " + bucket + " encrypts by default with " + k, true
			}
		}
		return "", false
	}
	if Str(req, "x-amz-server-side-encryption-customer-algorithm") != "" ||
		bytes.Contains(e.ResponseElements, []byte("x-amz-server-side-encryption-customer-algorithm")) ||
		bytes.Contains(e.AdditionalEventData, []byte(`"SSE_C"`)) {
		return "objects of " + bucket + " written with SSE-C (a customer-held key)", true
	}
	// The response is decoded only when it names a key: these are the
	// busiest events of a data-event trail.
	k := Str(req, "x-amz-server-side-encryption-aws-kms-key-id")
	if k == "" && bytes.Contains(e.ResponseElements, []byte("aws-kms-key-id")) {
		k = Str(Object(e.ResponseElements), "x-amz-server-side-encryption-aws-kms-key-id")
	}
	return "objects of " + bucket + " encrypted with " + k, foreignKey(k, own)
}

// listOf is an element S3 echoes from XML: one object, or a list of them.
func listOf(v any) []map[string]any {
	switch r := v.(type) {
	case map[string]any:
		return []map[string]any{r}
	case []any:
		var out []map[string]any
		for _, x := range r {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// backupCalls remove recovery outright.
var backupCalls = map[string][]string{
	"backup.amazonaws.com": {"DeleteBackupVault", "DeleteBackupPlan", "DeleteBackupSelection", "DeleteBackupVaultLockConfiguration"},
	"rbin.amazonaws.com":   {"DeleteRule", "UnlockRule"},
	"dlm.amazonaws.com":    {"DeleteLifecyclePolicy"},
	"rds.amazonaws.com":    {"DeleteDBInstanceAutomatedBackup", "DeleteDBClusterAutomatedBackup"},
}

func matchBackupRemoved(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) {
		return "", false
	}
	switch name := baseName(e.EventName); {
	case is(e, "s3.amazonaws.com", "PutBucketVersioning"):
		vc, _ := Get(req, "VersioningConfiguration").(map[string]any)
		return "versioning of " + Str(req, "bucketName") + " suspended", Str(vc, "Status") == "Suspended"
	case is(e, "rds.amazonaws.com", "ModifyDBInstance", "ModifyDBCluster"):
		v := Get(req, "backupRetentionPeriod")
		return "automated backups of " + firstNonEmpty(Str(req, "dBInstanceIdentifier"), Str(req, "dBClusterIdentifier")) +
			" turned off", v != nil && number(v) == 0
	default:
		target := firstNonEmpty(Str(req, "backupVaultName"), Str(req, "backupPlanId"), Str(req, "identifier"),
			Str(req, "policyId"), Str(req, "dbiResourceId"), Str(req, "selectionId"))
		return strings.TrimSpace(name + " " + target), slices.Contains(backupCalls[e.EventSource], name) || e.EventSource == ""
	}
}

func matchDBNoSnapshot(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	skip := Get(req, "skipFinalSnapshot") == true || Get(req, "skipFinalClusterSnapshot") == true
	src := e.EventSource == "" || e.EventSource == "rds.amazonaws.com" || e.EventSource == "redshift.amazonaws.com"
	return firstNonEmpty(Str(req, "dBInstanceIdentifier"), Str(req, "dBClusterIdentifier"), Str(req, "clusterIdentifier")) +
		" deleted without a final snapshot", src && skip && byHand(e)
}

// publicGrantees are the ACL groups that mean everyone.
var publicGrantees = [][]byte{[]byte("acs.amazonaws.com/groups/global/AllUsers"), []byte("acs.amazonaws.com/groups/global/AuthenticatedUsers"),
	[]byte(`"public-read`), []byte(`"authenticated-read"`)}

func matchS3Public(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) {
		return "", false
	}
	target := firstNonEmpty(Str(req, "bucketName"), "the account")
	switch name := baseName(e.EventName); name {
	case "DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock":
		return "Block Public Access removed from " + target, true
	case "PutBucketPublicAccessBlock", "PutAccountPublicAccessBlock":
		conf, _ := Get(req, "PublicAccessBlockConfiguration").(map[string]any)
		var off []string
		for _, k := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
			if v, ok := conf[k]; ok && (v == false || v == "false") {
				off = append(off, k)
			}
		}
		return "Block Public Access of " + target + " lifted: " + strings.Join(off, ", "), len(off) > 0
	default:
		if obj := Str(req, "key"); obj != "" {
			target += "/" + obj
		}
		if slices.ContainsFunc(publicGrantees, func(g []byte) bool { return bytes.Contains(e.RequestParameters, g) }) {
			return "ACL of " + target + " grants everyone", true
		}
		return "ACL of " + target + " grants another account", foreignGrant(req)
	}
}

// foreignGrant reports an ACL granting a canonical user other than the
// owner the same policy names (another account).
func foreignGrant(req map[string]any) bool {
	acp, _ := Get(req, "AccessControlPolicy").(map[string]any)
	owner := Str(acp, "Owner", "ID")
	acl, _ := acp["AccessControlList"].(map[string]any)
	return owner != "" && slices.ContainsFunc(listOf(acl["Grant"]), func(g map[string]any) bool {
		id := Str(g, "Grantee", "ID")
		return id != "" && id != owner
	})
}

func matchDataExport(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) {
		return "", false
	}
	switch baseName(e.EventName) {
	case "PutBucketReplication":
		conf, _ := Get(req, "ReplicationConfiguration").(map[string]any)
		var to []string
		for _, r := range listOf(conf["Rule"]) {
			to = append(to, Str(r, "Destination", "Bucket"))
		}
		return "bucket " + Str(req, "bucketName") + " replicates to " + strings.Join(to, ", "), true
	case "ExportTableToPointInTime":
		owner := Str(req, "s3BucketOwner")
		return "table exported to bucket " + Str(req, "s3Bucket") + " of " + owner, owner != "" && owner != account(e)
	}
	return baseName(e.EventName) + " to " + firstNonEmpty(Str(req, "exportToS3", "s3Bucket"), Str(req, "s3ExportLocation", "s3Bucket"), "S3"), true
}

func matchQuota(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return fmt.Sprintf("%s %s to %v", Str(req, "serviceCode"), Str(req, "quotaCode"), Get(req, "desiredValue")),
		(e.EventSource == "" || e.EventSource == "servicequotas.amazonaws.com") && byHand(e)
}

// matchMiningManaged looks for an instance type anywhere in the request
// (each API nests it differently); SageMaker's ml. prefix is dropped.
// Attempts count, as for RunInstances.
func matchMiningManaged(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if byAWSService(e) {
		return "", false
	}
	t := findInstanceType(req, 0)
	d := baseName(e.EventName) + " " + t
	if e.ErrorCode != "" {
		d += " (failed: " + e.ErrorCode + ")"
	}
	return d, t != ""
}

// findInstanceType returns the first GPU or very large instance type under
// an instanceType key at any depth (bounded: hostile records nest).
func findInstanceType(v any, depth int) string {
	if depth > 8 {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && strings.EqualFold(k, "instanceType") && miningType(strings.TrimPrefix(s, "ml.")) {
				return s
			}
		}
		for _, c := range x {
			if t := findInstanceType(c, depth+1); t != "" {
				return t
			}
		}
	case []any:
		for _, c := range x {
			if t := findInstanceType(c, depth+1); t != "" {
				return t
			}
		}
	}
	return ""
}

// matchBedrockRecon leaves out the console, whose model pages make these
// calls for whoever opens them.
func matchBedrockRecon(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	d := baseName(e.EventName)
	if e.ErrorCode != "" {
		d += " (failed: " + e.ErrorCode + ")"
	}
	return d, (e.EventSource == "" || e.EventSource == "bedrock.amazonaws.com") && !byAWSService(e) &&
		AgentFamily(e.UserAgent) != "console"
}

func matchLambdaURL(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "function URL of " + Str(req, "functionName") + " open to anyone",
		byHand(e) && strings.EqualFold(Str(req, "authType"), "NONE")
}
