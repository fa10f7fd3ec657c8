package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

// The monitoring checks (CIS v3.0.0 and v5.0.0 section 4, Security Hub
// CloudWatch.1-14): for each kind of event the benchmark names, a
// multi-region trail that is logging must deliver to a CloudWatch Logs
// group holding a metric filter that matches at least those events, with
// an alarm on the filter's metric that notifies someone.

// monitor is one recommendation: the events, as a filter pattern in the
// benchmark's own form with every condition any of its versions adds (a
// filter matching more — without the extra conditions — covers it too).
type monitor struct {
	info    CheckInfo
	events  string // our summary, for the remediation
	pattern string
	form    []clause // pattern's normal form
}

// eventsOf is the pattern matching any of names from source.
func eventsOf(source string, names ...string) string {
	alts := make([]string, len(names))
	for i, n := range names {
		alts[i] = "($.eventName = " + n + ")"
	}
	return fmt.Sprintf("{ ($.eventSource = %s) && (%s) }", source, strings.Join(alts, " || "))
}

func newMonitor(id, title, cis, sh, events, pattern string) monitor {
	controls := []string{"CIS-v3.0-" + cis, "CIS-v5.0-" + cis}
	if sh != "" {
		controls = append(controls, sh)
	}
	form, err := parseFilterPattern(pattern)
	if err != nil {
		panic(fmt.Sprintf("monitor %s: %v", id, err))
	}
	return monitor{info: CheckInfo{ID: id, Title: "No alarm on " + title, Severity: severity.Low, Controls: controls},
		events: events, pattern: pattern, form: form}
}

var monitors = []monitor{
	newMonitor("KW-MON-UNAUTHORIZED-API", "unauthorized API calls", "4.1", "CloudWatch.2", "unauthorized API calls",
		`{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && `+
			`($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`),
	newMonitor("KW-MON-CONSOLE-NO-MFA", "console sign-in without MFA", "4.2", "CloudWatch.3", "console sign-ins without MFA",
		`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && `+
			`($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`),
	newMonitor("KW-MON-ROOT-USE", "root user use", "4.3", "CloudWatch.1", "the root user's activity",
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`),
	newMonitor("KW-MON-IAM-POLICY", "IAM policy changes", "4.4", "CloudWatch.4", "IAM policy changes",
		eventsOf("iam.amazonaws.com", "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
			"PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
			"AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy")),
	newMonitor("KW-MON-CLOUDTRAIL-CONFIG", "CloudTrail configuration changes", "4.5", "CloudWatch.5", "CloudTrail configuration changes",
		eventsOf("cloudtrail.amazonaws.com", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")),
	newMonitor("KW-MON-CONSOLE-AUTH-FAIL", "console authentication failures", "4.6", "CloudWatch.6", "failed console sign-ins",
		`{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`),
	newMonitor("KW-MON-KMS-KEY-DELETION", "customer KMS keys disabled or scheduled for deletion", "4.7", "CloudWatch.7",
		"KMS keys disabled or scheduled for deletion", eventsOf("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion")),
	newMonitor("KW-MON-S3-BUCKET-POLICY", "S3 bucket policy changes", "4.8", "CloudWatch.8", "S3 bucket policy and ACL changes",
		eventsOf("s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
			"DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication")),
	newMonitor("KW-MON-CONFIG", "AWS Config changes", "4.9", "CloudWatch.9", "AWS Config recorder and delivery changes",
		eventsOf("config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
			"PutConfigurationRecorder")),
	newMonitor("KW-MON-SECURITY-GROUP", "security group changes", "4.10", "CloudWatch.10", "security group changes",
		eventsOf("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
			"RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup")),
	newMonitor("KW-MON-NACL", "network ACL changes", "4.11", "CloudWatch.11", "network ACL changes",
		eventsOf("ec2.amazonaws.com", "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
			"ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")),
	newMonitor("KW-MON-NETWORK-GATEWAY", "network gateway changes", "4.12", "CloudWatch.12", "network gateway changes",
		eventsOf("ec2.amazonaws.com", "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
			"CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway")),
	newMonitor("KW-MON-ROUTE-TABLE", "route table changes", "4.13", "CloudWatch.13", "route table changes",
		eventsOf("ec2.amazonaws.com", "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
			"DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable")),
	newMonitor("KW-MON-VPC", "VPC changes", "4.14", "CloudWatch.14", "VPC changes",
		eventsOf("ec2.amazonaws.com", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
			"CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc",
			"DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink")),
	newMonitor("KW-MON-ORGANIZATIONS", "AWS Organizations changes", "4.15", "", "AWS Organizations changes",
		eventsOf("organizations.amazonaws.com", "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
			"CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy",
			"DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
			"RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit")),
}

// monitorChecks are the monitors as checks.
func monitorChecks() []check {
	out := make([]check, len(monitors))
	for i, m := range monitors {
		out[i] = check{m.info, m.check}
	}
	return out
}

// monitoredGroups are the log groups of the trails that count: multi-region
// and logging (a trail whose logging is unknown is listed in unknown).
func monitoredGroups(inv Inventory) (groups []string, unknown []string) {
	for _, t := range inv.Trails {
		if !t.MultiRegion || t.LogGroupARN == "" || t.Logging == No {
			continue
		}
		if t.Logging == Unknown {
			unknown = append(unknown, "logging of "+t.ARN)
			continue
		}
		if !slices.Contains(groups, t.LogGroupARN) {
			groups = append(groups, t.LogGroupARN)
		}
	}
	return groups, unknown
}

// check fails once for the account when no monitored log group has a
// filter matching the monitor's events with an alarm that notifies; unknown
// when what would decide it was not read.
func (m monitor) check(inv Inventory, _ Config) []Finding {
	if !inv.TrailsRead {
		f := undecided(m.info, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails (docs/iam.md), or look yourself: " +
			"`aws cloudtrail describe-trails --include-shadow-trails`"
		return []Finding{f}
	}
	groups, unknown := monitoredGroups(inv)
	var checked []map[string]any
	for _, arn := range groups {
		g, ok := inv.LogGroups[arn]
		if !ok || g.Unread != "" {
			unknown = append(unknown, "metric filters and alarms of "+arn)
			continue
		}
		verdict, ev := m.judgeGroup(g)
		if verdict == Yes {
			return nil
		}
		if verdict == Unknown {
			unknown = append(unknown, "alarms of "+arn)
		}
		checked = append(checked, ev)
	}
	var f Finding
	if len(unknown) > 0 {
		f = undecided(m.info, inv, accountResource(inv), unknown...)
	} else {
		f = newFinding(m.info, inv, accountResource(inv))
	}
	if checked == nil {
		checked = []map[string]any{}
	}
	f.Evidence["log_groups"] = checked
	if len(groups) == 0 && len(unknown) == 0 {
		f.Evidence["reason"] = "no multi-region trail that is logging delivers to CloudWatch Logs"
	}
	f.Remediation = m.remediation(inv, groups)
	return []Finding{f}
}

// judgeGroup says whether g has a filter matching the monitor's events
// whose metric has an enabled alarm with an action that reaches someone
// (an SNS topic with a confirmed subscriber, when the topic was read).
func (m monitor) judgeGroup(g LogGroup) (Tri, map[string]any) {
	ev := map[string]any{"log_group": g.ARN}
	var matching, silent []string
	var best []clause
	bestSet := false
	for _, flt := range g.Filters {
		form, err := parseFilterPattern(flt.Pattern)
		if err != nil {
			continue
		}
		missed := uncovered(form, m.form)
		if len(missed) > 0 {
			if !bestSet || len(missed) < len(best) {
				best, bestSet = missed, true
			}
			continue
		}
		matching = append(matching, flt.Name)
		for _, metric := range flt.Metrics {
			for _, a := range g.Alarms {
				if a.Metric != metric {
					continue
				}
				if a.Enabled && notifies(a, g.Subscribers) {
					return Yes, nil
				}
				silent = append(silent, a.Name)
			}
		}
	}
	ev["matching_filters"] = nonNil(matching)
	if len(matching) > 0 {
		ev["alarms_without_subscriber"] = nonNil(silent)
	} else if bestSet {
		var missed []string
		for _, c := range best {
			missed = append(missed, c.String())
		}
		ev["closest_filter_misses"] = missed
	}
	return No, ev
}

// notifies says whether an alarm's actions reach someone: any action that
// is not an SNS topic (an automation, a ticket), or an SNS topic with a
// confirmed subscriber or whose subscribers were not read.
func notifies(a Alarm, subscribers map[string]int) bool {
	for _, act := range a.Actions {
		if !strings.Contains(act, ":sns:") {
			return true
		}
		if n, read := subscribers[act]; !read || n > 0 {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// remediation names the filter and alarm to create, on the first
// monitored group, or says to send a trail to CloudWatch Logs first.
func (m monitor) remediation(inv Inventory, groups []string) string {
	if len(groups) == 0 {
		return "send a multi-region trail to CloudWatch Logs (see KW-CT-NO-CLOUDWATCH), then add the metric filter and alarm " +
			"for " + m.events + " (docs/audit.md)"
	}
	region, name := SplitLogGroupARN(groups[0])
	metric := strings.TrimPrefix(m.info.ID, "KW-MON-")
	return fmt.Sprintf("`aws logs put-metric-filter --region %s --log-group-name %s --filter-name %s --metric-transformations "+
		"metricName=%s,metricNamespace=CISBenchmark,metricValue=1 --filter-pattern %s`, then "+
		"`aws cloudwatch put-metric-alarm --region %s --alarm-name %s --metric-name %s --namespace CISBenchmark --statistic Sum "+
		"--period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 "+
		"--alarm-actions SNS_TOPIC_ARN` (a topic with a subscriber)",
		shq(region), shq(name), metric, metric, shq(m.pattern), shq(region), metric, metric)
}

// SplitLogGroupARN returns the region and the name of a log group ARN
// (arn:aws:logs:REGION:ACCOUNT:log-group:NAME, with or without ":*").
func SplitLogGroupARN(arn string) (region, name string) {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		region = parts[3]
	}
	_, name, _ = strings.Cut(arn, ":log-group:")
	return region, strings.TrimSuffix(name, ":*")
}

// MonitorPatterns gives, by check id, the filter pattern each monitoring
// check asks for (the benchmark's, with every condition any of its versions
// adds): what `aws logs put-metric-filter` should be given.
func MonitorPatterns() map[string]string {
	out := make(map[string]string, len(monitors))
	for _, m := range monitors {
		out[m.info.ID] = m.pattern
	}
	return out
}
