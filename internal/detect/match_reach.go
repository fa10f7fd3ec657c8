package detect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// reachRules are what a stolen key reaches for beyond IAM: data shared
// out of the account, doors opened into it, code run on its machines.
// Each names the Stratus Red Team techniques it detects.
var reachRules = onTheirEvents([]Rule{
	{ID: "KW-CT-S3-POLICY-OPEN", Severity: severity.Critical, Title: "bucket policy grants everyone or another account", Technique: "T1537",
		Stratus:     []string{"aws.exfiltration.s3-backdoor-bucket-policy"},
		Description: "A bucket policy allowing Principal * or a foreign account, without a condition, hands the data out.",
		Remediation: "Restore the previous bucket policy, turn on Block Public Access, and contain the key.",
		Events:      []string{"PutBucketPolicy"}, Match: matchBucketPolicy},
	{ID: "KW-CT-SNAPSHOT-SHARED", Severity: severity.High, Title: "image or snapshot shared outside the account", Technique: "T1537",
		Stratus: []string{"aws.exfiltration.ec2-share-ami", "aws.exfiltration.ec2-share-ebs-snapshot",
			"aws.exfiltration.rds-share-snapshot"},
		Description: "An AMI, EBS or RDS snapshot made public or shared with another account copies the data out.",
		Remediation: "Remove the added permission (the same call with remove), then contain the key.",
		Events: []string{"ModifyImageAttribute", "ModifySnapshotAttribute", "ModifyDBSnapshotAttribute",
			"ModifyDBClusterSnapshotAttribute"}, Match: matchShared},
	{ID: "KW-CT-EC2-INGRESS-OPEN", Severity: severity.High, Title: "security group opened to the whole internet", Technique: "T1562.007",
		Stratus:     []string{"aws.exfiltration.ec2-security-group-open-port-22-ingress"},
		Description: "Ingress from 0.0.0.0/0 or ::/0 lets anyone reach the instances behind the group.",
		Remediation: "Revoke the rule (aws ec2 revoke-security-group-ingress) and contain the key.",
		Events:      []string{"AuthorizeSecurityGroupIngress"}, Match: matchIngressOpen},
	{ID: "KW-CT-IAM-TRUST-EXTERNAL", Severity: severity.Critical, Title: "role trusts everyone or another account", Technique: "T1098.003",
		Stratus:     []string{"aws.persistence.iam-backdoor-role", "aws.persistence.iam-create-backdoor-role"},
		Description: "A trust policy naming * or a foreign account lets its owner assume the role from outside.",
		Remediation: "Restore the trust policy (or delete the role) and contain the key.",
		Events:      []string{"CreateRole", "UpdateAssumeRolePolicy"}, Match: matchTrustExternal},
	{ID: "KW-CT-LAMBDA-PUBLIC", Severity: severity.High, Title: "Lambda function opened to everyone", Technique: "T1546",
		Stratus:     []string{"aws.persistence.lambda-backdoor-function"},
		Description: "A resource policy with principal * lets anyone invoke the function, and run code as its role.",
		Remediation: "Remove the statement (aws lambda remove-permission) and contain the key.",
		Events:      []string{"AddPermission"}, Match: matchLambdaPublic},
	{ID: "KW-CT-LAMBDA-CHANGED", Severity: severity.Medium, Title: "Lambda code or layers replaced", Technique: "T1525",
		Stratus:     []string{"aws.persistence.lambda-overwrite-code", "aws.persistence.lambda-layer-extension"},
		Description: "New code or a new layer (an extension runs beside every invocation) outside the deploy pipeline.",
		Remediation: "Confirm the deploy; otherwise restore the previous version and contain the key.",
		Events:      []string{"UpdateFunctionCode", "UpdateFunctionConfiguration"}, Match: matchLambdaChanged},
	{ID: "KW-CT-ROLESANYWHERE-ANCHOR", Severity: severity.High, Title: "IAM Roles Anywhere trust anchor created", Technique: "T1098",
		Stratus:     []string{"aws.persistence.rolesanywhere-create-trust-anchor"},
		Description: "A trust anchor lets whoever holds its certificate authority mint role credentials from anywhere.",
		Remediation: "Delete the trust anchor and its profiles, then contain the key.",
		Events:      []string{"CreateTrustAnchor", "UpdateTrustAnchor"}, Match: matchAWSCall("rolesanywhere.amazonaws.com")},
	{ID: "KW-CT-EC2-USER-DATA", Severity: severity.High, Title: "instance user data replaced", Technique: "T1059.009",
		Stratus:     []string{"aws.execution.ec2-user-data"},
		Description: "New user data runs as root at the instance's next start: code execution through the API.",
		Remediation: "Restore the user data, check the instance, and contain the key.",
		Events:      []string{"ModifyInstanceAttribute"}, Match: matchUserDataWrite},
	{ID: "KW-CT-EC2-SECRETS-READ", Severity: severity.Medium, Title: "instance user data or Windows password read", Technique: "T1552.005",
		Stratus:     []string{"aws.discovery.ec2-download-user-data", "aws.credential-access.ec2-get-password-data"},
		Description: "User data often holds secrets; GetPasswordData returns a Windows instance's administrator password. Refused attempts count: they are the hunt.",
		Remediation: "Move secrets out of user data, rotate what it held, and contain the key if the read is unexpected.",
		Events:      []string{"DescribeInstanceAttribute", "GetPasswordData"}, Match: matchInstanceSecrets},
	{ID: "KW-CT-SECRETS-BATCH-READ", Severity: severity.Medium, Title: "secrets read in bulk by filter", Technique: "T1555.006",
		Stratus:     []string{"aws.credential-access.secretsmanager-batch-retrieve-secrets"},
		Description: "BatchGetSecretValue with a filter returns every secret that matches, up to 20 a call; applications read theirs by name.",
		Remediation: "Rotate the secrets that were read, then contain the key.",
		Events:      []string{"BatchGetSecretValue"}, Match: matchBatchSecrets},
	{ID: "KW-CT-SAGEMAKER-LIFECYCLE", Severity: severity.High, Title: "SageMaker notebook lifecycle script set", Technique: "T1059.009",
		Stratus:     []string{"aws.execution.sagemaker-update-lifecycle-config"},
		Description: "A lifecycle configuration runs its script as the notebook's role at every start.",
		Remediation: "Remove the lifecycle configuration, check the notebook's role, and contain the key.",
		Events: []string{"CreateNotebookInstanceLifecycleConfig", "UpdateNotebookInstanceLifecycleConfig",
			"UpdateNotebookInstance"}, Match: matchSageMakerLifecycle},
	{ID: "KW-CT-SSM-REMOTE", Severity: severity.Medium, Title: "commands or a shell sent to instances through SSM", Technique: "T1651",
		Stratus:     []string{"aws.execution.ssm-send-command", "aws.execution.ssm-start-session"},
		Description: "SendCommand and StartSession run code on instances as root, from the API.",
		Remediation: "Check what ran (aws ssm list-command-invocations); contain the key if unexpected.",
		Events:      []string{"SendCommand", "StartSession"}, Match: matchAWSCall("ssm.amazonaws.com")},
	{ID: "KW-CT-EC2-SSH-KEY-PUSHED", Severity: severity.High, Title: "SSH key pushed to an instance or serial console", Technique: "T1021.004",
		Stratus: []string{"aws.lateral-movement.ec2-instance-connect",
			"aws.lateral-movement.ec2-serial-console-send-ssh-public-key"},
		Description: "EC2 Instance Connect and the serial console accept a key from the API: a shell without the instance's keys.",
		Remediation: "Check the instance for what was done; turn serial console access off; contain the key.",
		Events:      []string{"SendSSHPublicKey", "SendSerialConsoleSSHPublicKey", "EnableSerialConsoleAccess"}, Match: matchSSHKeyPush},
	{ID: "KW-CT-BEDROCK-ABUSE", Severity: severity.Medium, Title: "Bedrock models unlocked or invoked", Technique: "T1496",
		Stratus:     []string{"aws.impact.bedrock-invoke-model"},
		Description: "LLM-jacking: a stolen key enables model access and invokes models at the account's expense.",
		Remediation: "Confirm the caller uses Bedrock; otherwise revoke model access and contain the key.",
		Events: []string{"InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream",
			"PutFoundationModelEntitlement", "CreateFoundationModelAgreement", "PutUseCaseForModelAccess"},
		Match: matchAWSCall("bedrock.amazonaws.com")},
	{ID: "KW-CT-EC2-AMI-DEREGISTERED", Severity: severity.Medium, Title: "AMI deregistered", Technique: "T1485",
		Stratus:     []string{"aws.impact.ec2-deregister-ami"},
		Description: "Deregistering images destroys what instances are rebuilt from.",
		Remediation: "Confirm the cleanup was planned; restore from the Recycle Bin if a retention rule holds it.",
		Events:      []string{"DeregisterImage"}, Match: matchAWSCall("ec2.amazonaws.com")},
	{ID: "KW-CT-S3-LIFECYCLE-SHORT", Severity: severity.High, Title: "bucket objects set to expire within a week", Technique: "T1485",
		Stratus:     []string{"aws.defense-evasion.cloudtrail-lifecycle-rule"},
		Description: "A lifecycle rule that expires objects in days deletes logs (a trail's bucket) or data quietly.",
		Remediation: "Restore the previous lifecycle configuration and contain the key.",
		Events:      []string{"PutBucketLifecycle", "PutBucketLifecycleConfiguration"}, Match: matchLifecycleShort},
})

// onTheirEvents makes each rule's matcher judge only the events it lists
// (with Lambda's dated names): respond runs matchers over a whole history
// without the engine's index.
func onTheirEvents(rules []Rule) []Rule {
	for i := range rules {
		m, names := rules[i].Match, rules[i].Events
		rules[i].Match = func(e *cloudtrail.Event, req, resp map[string]any) (string, bool) {
			if !slices.Contains(names, baseName(e.EventName)) {
				return "", false
			}
			return m(e, req, resp)
		}
	}
	return rules
}

// byHand is a successful call that a key holder made, not AWS acting for
// the account.
func byHand(e *cloudtrail.Event) bool { return succeeded(e) && !byAWSService(e) }

// matchAWSCall fires on a rule's events from source when a key holder
// made them and they succeeded.
func matchAWSCall(source string) func(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return func(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
		return baseName(e.EventName), (e.EventSource == "" || e.EventSource == source) && byHand(e)
	}
}

// account is the account the event happened in.
func account(e *cloudtrail.Event) string {
	return firstNonEmpty(e.RecipientAccountID, e.UserIdentity.AccountID)
}

// outsiders lists the principals of a policy's Allow statements without a
// Condition that are everyone or in an account other than own.
func outsiders(doc any, own string) []string {
	if s, ok := doc.(string); ok {
		doc = nil
		_ = json.Unmarshal([]byte(s), &doc)
	}
	var out []string
	for _, st := range statements(doc) {
		if st["Effect"] != "Allow" || st["Condition"] != nil {
			continue
		}
		for _, p := range principals(st["Principal"]) {
			if p == "*" || (accountOf(p) != "" && accountOf(p) != own) {
				out = append(out, p)
			}
		}
	}
	return out
}

func statements(doc any) []map[string]any {
	m, _ := doc.(map[string]any)
	var out []map[string]any
	switch s := m["Statement"].(type) {
	case map[string]any:
		out = append(out, s)
	case []any:
		for _, x := range s {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
	}
	return out
}

// principals are the AWS principals (and *) of a Principal element.
func principals(p any) []string {
	switch v := p.(type) {
	case string:
		return []string{v}
	case map[string]any:
		return strs(v["AWS"])
	}
	return nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, y := range x {
			if s, ok := y.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// accountOf is the account of an ARN or a bare 12-digit account id.
func accountOf(p string) string {
	if parts := strings.Split(p, ":"); len(parts) >= 5 && parts[0] == "arn" {
		return parts[4]
	}
	if len(p) == 12 && strings.Trim(p, "0123456789") == "" {
		return p
	}
	return ""
}

func matchBucketPolicy(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	who := outsiders(Get(req, "bucketPolicy"), account(e))
	return "bucket " + Str(req, "bucketName") + " allows " + strings.Join(who, ", "), byHand(e) && len(who) > 0
}

func matchTrustExternal(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	doc := firstNonEmpty(Str(req, "assumeRolePolicyDocument"), Str(req, "policyDocument"))
	who := outsiders(doc, account(e))
	return "role " + Str(req, "roleName") + " trusts " + strings.Join(who, ", "), byHand(e) && len(who) > 0
}

// matchShared: the permission added names "all" (public) or an account
// other than the event's.
func matchShared(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	var to []string
	if baseName(e.EventName) == "ModifyImageAttribute" || baseName(e.EventName) == "ModifySnapshotAttribute" {
		for _, it := range append(Items(req, "launchPermission", "add"), Items(req, "createVolumePermission", "add")...) {
			to = append(to, firstNonEmpty(Str(it, "userId"), Str(it, "group")))
		}
	} else if strings.EqualFold(Str(req, "attributeName"), "restore") {
		to = strs(Get(req, "valuesToAdd"))
	}
	to = slices.DeleteFunc(to, func(a string) bool { return a == "" || a == account(e) })
	return firstNonEmpty(Str(req, "imageId"), Str(req, "snapshotId"), Str(req, "dBSnapshotIdentifier"),
		Str(req, "dBClusterSnapshotIdentifier")) + " shared with " + strings.Join(to, ", "), byHand(e) && len(to) > 0
}

func matchIngressOpen(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	open := func(cidr string) bool { return strings.HasSuffix(cidr, "/0") }
	hit := open(Str(req, "cidrIp"))
	for _, p := range Items(req, "ipPermissions") {
		for _, r := range Items(p, "ipRanges") {
			hit = hit || open(Str(r, "cidrIp"))
		}
		for _, r := range Items(p, "ipv6Ranges") {
			hit = hit || open(Str(r, "cidrIpv6"))
		}
	}
	return "group " + Str(req, "groupId") + " open to the internet", byHand(e) && hit
}

func matchLambdaPublic(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	p := Str(req, "principal")
	return "function " + Str(req, "functionName") + " invocable by " + p, byHand(e) && p == "*"
}

func matchLambdaChanged(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	fn := Str(req, "functionName")
	if baseName(e.EventName) == "UpdateFunctionCode" {
		return "code of " + fn + " replaced", byHand(e)
	}
	layers := strs(Get(req, "layers"))
	return "layers of " + fn + " set to " + strings.Join(layers, ", "), byHand(e) && len(layers) > 0
}

func matchUserDataWrite(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	set := Get(req, "userData") != nil || Str(req, "attribute") == "userData"
	return "user data of " + Str(req, "instanceId"), byHand(e) && set
}

// matchInstanceSecrets: the detail names the call, not the instance, so a
// sweep over a hundred instances is one alert (dedup goes by detail).
func matchInstanceSecrets(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	d := "instance user data read"
	hit := Str(req, "attribute") == "userData"
	if baseName(e.EventName) == "GetPasswordData" {
		d, hit = "Windows password data read", true
	}
	if e.ErrorCode != "" {
		d += " (failed: " + e.ErrorCode + ")"
	}
	return d, hit && !byAWSService(e)
}

func matchBatchSecrets(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "secrets matching a filter", byHand(e) && Get(req, "filters") != nil
}

func matchSageMakerLifecycle(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	name := Str(req, "notebookInstanceLifecycleConfigName")
	if baseName(e.EventName) == "UpdateNotebookInstance" {
		name = Str(req, "lifecycleConfigName")
	}
	return "lifecycle configuration " + name, byHand(e) && name != ""
}

// matchSSHKeyPush names the call only, as matchInstanceSecrets does.
func matchSSHKeyPush(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return baseName(e.EventName), byHand(e)
}

// matchLifecycleShort: an enabled rule expiring objects within 7 days.
func matchLifecycleShort(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	conf, _ := Get(req, "LifecycleConfiguration").(map[string]any)
	var rules []map[string]any
	switch r := conf["Rule"].(type) {
	case map[string]any:
		rules = append(rules, r)
	case []any:
		for _, x := range r {
			if o, ok := x.(map[string]any); ok {
				rules = append(rules, o)
			}
		}
	}
	for _, r := range rules {
		d := number(Get(r, "Expiration", "Days"))
		if r["Status"] == "Enabled" && d > 0 && d <= 7 {
			return fmt.Sprintf("objects of %s expire after %g days", Str(req, "bucketName"), d), byHand(e)
		}
	}
	return "", false
}

// number reads a count CloudTrail writes as a JSON number or a string
// (S3 echoes the XML body, whose values are text).
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}
