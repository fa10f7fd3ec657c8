package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/severity"
)

// Places an embedded key can be found (EmbeddedKey.Where, evidence "where").
const (
	WhereLambdaEnv   = "lambda-env"          // a Lambda function's environment variables
	WhereEC2UserData = "ec2-user-data"       // an EC2 instance's user data
	WhereECSTaskEnv  = "ecs-task-definition" // an ECS task definition's container environment
	WhereSSMString   = "ssm-parameter"       // an SSM Parameter Store String parameter
)

// EmbeddedKey is an access key (or part of one) the scan detector found in
// plain text inside an account's resource: anyone who can read the resource
// can use the key. The secret is held as secret.Secret and never leaves in
// clear.
type EmbeddedKey struct {
	Where    string // one of the Where* constants
	Resource string // ARN of the function, instance, task definition or parameter
	// Detail says where inside the resource: variable names for Lambda,
	// "container/VARIABLE" for ECS, the parameter name for SSM, "userData".
	Detail       string
	Rule         scan.Rule // pair, lone secret, lone key id or session credentials
	KeyID        string    // empty for a lone secret
	Secret       secret.Secret
	SecretSHA256 string
	Encoding     string // "" or how the key was encoded (base64, url, json-escaped)
}

var embeddedInfo = CheckInfo{
	ID: "KW-EMBEDDED-KEY", Title: "Access key embedded in a resource's configuration", Severity: severity.Critical,
	Controls: []string{},
}

// checkEmbeddedKeys fails for every key found in plain text in a Lambda
// environment, EC2 user data, ECS task definition or SSM String parameter:
// critical for a working pair, high for a lone secret (or session
// credentials), medium for a lone key id (it names the account, it is not a
// credential). A place that could not be read is undecided, not passed.
func checkEmbeddedKeys(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, where := range embeddedUnread(inv) {
		f := undecided(embeddedInfo, inv, "", where)
		if regions := regionsNotRead(inv, inv.EmbeddedUnreadRegions[where]); len(regions) > 0 {
			f.Evidence["regions_not_read"] = regions
		}
		out = append(out, f)
	}
	for _, e := range inv.Embedded {
		f := newFinding(embeddedInfo, inv, e.Resource)
		f.KeyID = e.KeyID
		f.Severity = e.Rule.Severity()
		f.Title = embeddedTitle(e)
		f.Evidence["where"] = e.Where
		f.Evidence["detail"] = e.Detail
		f.Evidence["rule"] = string(e.Rule)
		// Evidence holds the redacted form as a plain string, so no report
		// format can ever reach the clear value.
		if !e.Secret.IsZero() {
			f.Evidence["secret"] = e.Secret.Redacted()
			f.Evidence["secret_sha256"] = e.SecretSHA256
		}
		if e.Encoding != "" {
			f.Evidence["encoding"] = e.Encoding
		}
		if e.Where == WhereECSTaskEnv {
			// Security Hub's ECS.8: secrets should not be passed as container environment variables.
			f.Controls = append(f.Controls, "ECS.8")
		}
		f.Remediation = embeddedRemediation(e)
		out = append(out, f)
	}
	return out
}

// embeddedUnread lists the places not read everywhere: EmbeddedUnread,
// and every place when the account's regions could not all be listed.
func embeddedUnread(inv Inventory) []string {
	if !inv.RegionsIncomplete {
		return inv.EmbeddedUnread
	}
	out := slices.Clone(inv.EmbeddedUnread)
	for _, where := range []string{WhereLambdaEnv, WhereEC2UserData, WhereECSTaskEnv, WhereSSMString} {
		if !slices.Contains(out, where) {
			out = append(out, where)
		}
	}
	return out
}

var embeddedPlace = map[string]string{
	WhereLambdaEnv:   "a Lambda function's environment",
	WhereEC2UserData: "an EC2 instance's user data",
	WhereECSTaskEnv:  "an ECS task definition",
	WhereSSMString:   "an SSM String parameter",
}

func embeddedTitle(e EmbeddedKey) string {
	what := "Access key pair"
	switch e.Rule {
	case scan.RuleSecretKey:
		what = "Secret access key"
	case scan.RuleKeyID:
		what = "Access key id"
	case scan.RuleSession:
		what = "Session credentials"
	}
	place, ok := embeddedPlace[e.Where]
	if !ok {
		place = "a resource's configuration"
	}
	return what + " embedded in " + place
}

// embeddedRemediation says how to take the key out of the resource, where to
// keep it instead, and to rotate it: it has been readable by everyone who can
// read the resource's configuration.
func embeddedRemediation(e EmbeddedKey) string {
	var remove string
	switch e.Where {
	case WhereLambdaEnv:
		fn := shq(e.Resource)
		remove = fmt.Sprintf("remove %s from the function's environment: `aws lambda get-function-configuration --function-name %s "+
			"--query Environment` and then `aws lambda update-function-configuration --function-name %s --environment file://env.json` "+
			"with the variable left out (the call replaces every variable); published versions keep their own copy, "+
			"delete them with `aws lambda delete-function --function-name %s --qualifier N`. Give the function's execution role "+
			"the rights instead, or read the value from Secrets Manager at run time", e.Detail, fn, fn, fn)
	case WhereEC2UserData:
		id := shq(e.Resource[strings.LastIndex(e.Resource, "/")+1:])
		remove = fmt.Sprintf("user data can change only while the instance is stopped: `aws ec2 stop-instances --instance-ids %s`, "+
			"`aws ec2 modify-instance-attribute --instance-id %s --attribute userData --value file://user-data-without-key`, "+
			"then start it; check launch templates and scripts that carry the same user data. Use an instance profile "+
			"(an IAM role) instead, or Secrets Manager", id, id)
	case WhereECSTaskEnv:
		td := shq(e.Resource)
		remove = fmt.Sprintf("task definition revisions cannot be edited: register a new revision without %s "+
			"(`aws ecs register-task-definition`), move services to it (`aws ecs update-service`), then "+
			"`aws ecs deregister-task-definition --task-definition %s` and `aws ecs delete-task-definitions --task-definitions %s`. "+
			"Use a task role instead, or the container's secrets (Secrets Manager valueFrom)", e.Detail, td, td)
	case WhereSSMString:
		remove = fmt.Sprintf("the parameter's history keeps every old value, so overwriting is not enough: "+
			"`aws ssm delete-parameter --name %s`, and store what is still needed in Secrets Manager or as a SecureString; "+
			"better, give the reader an IAM role", shq(e.Detail))
	default:
		remove = "remove the key from the resource and use an IAM role or Secrets Manager instead"
	}
	if e.Rule == scan.RuleKeyID {
		return remove + "; the key id alone is not a credential, but look for its secret nearby and rotate the key if it is found"
	}
	return remove + "; then rotate the key (it was readable by everyone who can read this configuration): " + embeddedRotate(e)
}

func embeddedRotate(e EmbeddedKey) string {
	if e.KeyID == "" {
		return "its key id is not in sight: find the key this secret belongs to (the resource's other values, its history), " +
			"create a new key, deliver it, then deactivate and delete the old one"
	}
	if strings.HasPrefix(e.KeyID, "ASIA") {
		return "session credentials expire on their own; revoke the role's active sessions " +
			"(IAM console: Revoke active sessions) if they have not"
	}
	return fmt.Sprintf("`aws iam get-access-key-last-used --access-key-id %s` names its user; create a new key, deliver it, "+
		"then `aws iam update-access-key --access-key-id %s --status Inactive --user-name USER` and delete it once nothing breaks "+
		"(or let `keywarden rotate` do all of it)", shq(e.KeyID), shq(e.KeyID))
}
