package respond

import (
	"fmt"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Creators outside IAM. Field shapes as logged:
//
//	RunInstances                  resp.instancesSet.items[].{instanceId,instanceType}
//	CreateKeyPair / ImportKeyPair req.keyName                 resp.keyPairId
//	CreateSecurityGroup           req.groupName               resp.groupId
//	AuthorizeSecurityGroupIngress req.groupId                 resp.securityGroupRuleSet.items[].{securityGroupRuleId,cidrIpv4,fromPort,toPort}
//	CreateFunction20150331        resp.{functionName,functionArn}
//	AddPermission20150331v2       req.{functionName,statementId,principal}
//	CreateBucket                  req.bucketName              resp null
//	VerifyEmailIdentity           req.emailAddress; VerifyDomainIdentity req.domain; CreateEmailIdentity req.emailIdentity
//	CreateTopic                   resp.topicArn; CreateQueue resp.queueUrl
//	CreateTrustAnchor             resp.trustAnchor.{trustAnchorId,trustAnchorArn}; CreateProfile resp.profile.{profileId,profileArn}
//	StopLogging / DeleteTrail     req.name (a name or an ARN)
//	DeleteDetector                req.detectorId
func init() {
	register(runInstances, "RunInstances")
	register(keyPair, "CreateKeyPair", "ImportKeyPair")
	register(securityGroup, "CreateSecurityGroup")
	register(ingress, "AuthorizeSecurityGroupIngress")
	register(lambdaFunction, "CreateFunction20150331", "CreateFunction")
	register(lambdaPermission, "AddPermission20150331v2", "AddPermission20150331", "AddPermission")
	register(bucket, "CreateBucket")
	register(sesIdentity, "VerifyEmailIdentity", "VerifyDomainIdentity", "VerifyEmailAddress", "CreateEmailIdentity")
	register(snsTopic, "CreateTopic")
	register(sqsQueue, "CreateQueue")
	register(rolesAnywhere, "CreateTrustAnchor", "CreateProfile")
	register(trailStopped, "StopLogging", "DeleteTrail")
	register(detectorDeleted, "DeleteDetector")
}

func runInstances(e cloudtrail.Event, _, resp map[string]any) []CreatedResource {
	var out []CreatedResource
	for _, it := range items(resp, "instancesSet") {
		id := str(it, "instanceId")
		if id == "" {
			continue
		}
		out = append(out, CreatedResource{Kind: "ec2-instance", ID: id, Region: e.AWSRegion,
			Cleanup: []string{command("ec2", "terminate-instances", "--region", e.AWSRegion, "--instance-ids", id)},
			Note:    "instance type " + str(it, "instanceType") + "; snapshot its volumes first if you need evidence"})
	}
	return out
}

func keyPair(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	name := firstNonEmpty(str(req, "keyName"), str(resp, "keyName"))
	if name == "" {
		return nil
	}
	return []CreatedResource{{Kind: "ec2-key-pair", ID: name, Region: e.AWSRegion,
		Cleanup: []string{command("ec2", "delete-key-pair", "--region", e.AWSRegion, "--key-name", name)}}}
}

func securityGroup(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	id := str(resp, "groupId")
	if id == "" {
		return nil
	}
	return []CreatedResource{{Kind: "ec2-security-group", ID: id, Region: e.AWSRegion, Note: "name " + str(req, "groupName"),
		Cleanup: []string{command("ec2", "delete-security-group", "--region", e.AWSRegion, "--group-id", id)}}}
}

func ingress(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	var out []CreatedResource
	for _, it := range items(resp, "securityGroupRuleSet") {
		id, group := str(it, "securityGroupRuleId"), firstNonEmpty(str(it, "groupId"), str(req, "groupId"))
		if id == "" || group == "" {
			continue
		}
		src := firstNonEmpty(str(it, "cidrIpv4"), str(it, "cidrIpv6"), str(it, "referencedGroupInfo", "groupId"))
		out = append(out, CreatedResource{Kind: "ec2-ingress-rule", ID: id, Region: e.AWSRegion,
			Note: fmt.Sprintf("opens %v %v-%v to %s on %s", get(it, "ipProtocol"), get(it, "fromPort"), get(it, "toPort"), src, group),
			Cleanup: []string{command("ec2", "revoke-security-group-ingress", "--region", e.AWSRegion,
				"--group-id", group, "--security-group-rule-ids", id)}})
	}
	return out
}

func lambdaFunction(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	name := firstNonEmpty(str(resp, "functionName"), str(req, "functionName"))
	if name == "" {
		return nil
	}
	return []CreatedResource{{Kind: "lambda-function", ID: name, ARN: str(resp, "functionArn"), Region: e.AWSRegion,
		Cleanup: []string{command("lambda", "delete-function", "--region", e.AWSRegion, "--function-name", name)}}}
}

func lambdaPermission(e cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	fn, sid := str(req, "functionName"), str(req, "statementId")
	if fn == "" || sid == "" {
		return nil
	}
	return []CreatedResource{{Kind: "lambda-permission", ID: fn + ":" + sid, Region: e.AWSRegion,
		Note: fmt.Sprintf("lets %v call %v", get(req, "principal"), get(req, "action")),
		Cleanup: []string{command("lambda", "remove-permission", "--region", e.AWSRegion,
			"--function-name", fn, "--statement-id", sid)}}}
}

func bucket(e cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	name := str(req, "bucketName")
	if name == "" {
		return nil
	}
	return []CreatedResource{{Kind: "s3-bucket", ID: name, ARN: "arn:aws:s3:::" + name, Region: e.AWSRegion,
		Cleanup: []string{"aws s3 rb " + shellQuote("s3://"+name) + " --force"},
		Note:    "--force deletes every object: copy what you need as evidence first"}}
}

func sesIdentity(e cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	id := firstNonEmpty(str(req, "emailAddress"), str(req, "domain"), str(req, "emailIdentity"))
	if id == "" {
		return nil
	}
	c := command("ses", "delete-identity", "--region", e.AWSRegion, "--identity", id)
	if e.EventName == "CreateEmailIdentity" {
		c = command("sesv2", "delete-email-identity", "--region", e.AWSRegion, "--email-identity", id)
	}
	return []CreatedResource{{Kind: "ses-identity", ID: id, Region: e.AWSRegion, Cleanup: []string{c}}}
}

func snsTopic(e cloudtrail.Event, _, resp map[string]any) []CreatedResource {
	arn := str(resp, "topicArn")
	if arn == "" {
		return nil
	}
	return []CreatedResource{{Kind: "sns-topic", ID: arn, ARN: arn, Region: e.AWSRegion,
		Cleanup: []string{command("sns", "delete-topic", "--region", e.AWSRegion, "--topic-arn", arn)}}}
}

func sqsQueue(e cloudtrail.Event, _, resp map[string]any) []CreatedResource {
	url := str(resp, "queueUrl")
	if url == "" {
		return nil
	}
	return []CreatedResource{{Kind: "sqs-queue", ID: url, Region: e.AWSRegion,
		Cleanup: []string{command("sqs", "delete-queue", "--region", e.AWSRegion, "--queue-url", url)}}}
}

func rolesAnywhere(e cloudtrail.Event, _, resp map[string]any) []CreatedResource {
	if id := str(resp, "trustAnchor", "trustAnchorId"); id != "" {
		return []CreatedResource{{Kind: "rolesanywhere-trust-anchor", ID: id, ARN: str(resp, "trustAnchor", "trustAnchorArn"), Region: e.AWSRegion,
			Cleanup: []string{command("rolesanywhere", "delete-trust-anchor", "--region", e.AWSRegion, "--trust-anchor-id", id)}}}
	}
	if id := str(resp, "profile", "profileId"); id != "" {
		return []CreatedResource{{Kind: "rolesanywhere-profile", ID: id, ARN: str(resp, "profile", "profileArn"), Region: e.AWSRegion,
			Cleanup: []string{command("rolesanywhere", "delete-profile", "--region", e.AWSRegion, "--profile-id", id)}}}
	}
	return nil
}

func trailStopped(e cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	name := str(req, "name")
	if name == "" {
		return nil
	}
	if e.EventName == "DeleteTrail" {
		return []CreatedResource{{Kind: "trail-deleted", ID: name, Region: e.AWSRegion,
			Note: "undo: the trail is gone; recreate it (aws cloudtrail create-trail) and start logging"}}
	}
	return []CreatedResource{{Kind: "trail-stopped", ID: name, Region: e.AWSRegion, Note: "undo: logging was stopped",
		Cleanup: []string{command("cloudtrail", "start-logging", "--region", e.AWSRegion, "--name", name)}}}
}

func detectorDeleted(e cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	if e.EventSource != "guardduty.amazonaws.com" {
		return nil
	}
	return []CreatedResource{{Kind: "guardduty-detector-deleted", ID: str(req, "detectorId"), Region: e.AWSRegion,
		Note: "note only: GuardDuty was turned off in this region and its findings are gone; re-enable with aws guardduty create-detector --enable"}}
}
