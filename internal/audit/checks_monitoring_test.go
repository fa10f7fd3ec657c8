package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// monitorFindings runs every monitoring check on inv.
func monitorFindings(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, c := range monitorChecks() {
		out = append(out, c.run(inv, cfg)...)
	}
	return out
}

// withGroup is the well-kept account with its log group changed by mod.
func withGroup(mod func(*LogGroup)) Inventory {
	inv := account()
	g := watchedGroup()
	mod(&g)
	inv.LogGroups = map[string]LogGroup{g.ARN: g}
	return inv
}

// dropFilter removes the filter (and alarm) of monitor id.
func dropFilter(id string) func(*LogGroup) {
	return func(g *LogGroup) {
		g.Filters = slices.DeleteFunc(g.Filters, func(f MetricFilter) bool { return f.Name == id })
	}
}

// setPattern gives monitor id's filter another pattern.
func setPattern(id, pattern string) func(*LogGroup) {
	return func(g *LogGroup) {
		for i := range g.Filters {
			if g.Filters[i].Name == id {
				g.Filters[i].Pattern = pattern
			}
		}
	}
}

// TestEveryMonitorFailsWithoutItsFilter: each monitor passes on its own
// filter and alarm and fails, alone, when that filter is gone.
func TestEveryMonitorFailsWithoutItsFilter(t *testing.T) {
	if got := summary(monitorFindings(account(), DefaultConfig(asOf))); len(got) != 0 {
		t.Fatalf("a watched account: %v, want no findings", got)
	}
	for _, m := range monitors {
		got := summary(monitorFindings(withGroup(dropFilter(m.info.ID)), DefaultConfig(asOf)))
		if want := []string{m.info.ID + " low root"}; !cmp.Equal(want, got) {
			t.Errorf("without %s's filter: %v, want %v", m.info.ID, got, want)
		}
	}
}

// TestMonitorsAcceptTheBenchmarksOwnSpellings: the patterns as people
// write them (older benchmark versions, no event source, other quoting and
// order, wildcards) match; near misses (an event left out, a narrowing
// condition, another field) do not.
func TestMonitorsAcceptTheBenchmarksOwnSpellings(t *testing.T) {
	for _, tt := range []struct {
		id, pattern string
		pass        bool
	}{
		{"KW-MON-UNAUTHORIZED-API", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`, true},
		{"KW-MON-UNAUTHORIZED-API", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`, true},
		{"KW-MON-UNAUTHORIZED-API", `{ $.errorCode = "AccessDenied*" }`, false},
		{"KW-MON-CONSOLE-NO-MFA", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`, true},
		{"KW-MON-CONSOLE-NO-MFA", `{($.eventName="ConsoleLogin")&&($.additionalEventData.MFAUsed!="Yes")&&($.userIdentity.type="IAMUser")&&($.responseElements.ConsoleLogin="Success")}`, true},
		{"KW-MON-CONSOLE-NO-MFA", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "Yes") }`, false},
		{"KW-MON-ROOT-USE", `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, true},
		{"KW-MON-ROOT-USE", `{ $.userIdentity.type = Root }`, true},
		{"KW-MON-ROOT-USE", `{ $.userIdentity.type = "IAMUser" && $.userIdentity.invokedBy NOT EXISTS }`, false},
		{"KW-MON-IAM-POLICY", `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`, true},
		{"KW-MON-IAM-POLICY", `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)}`, false},
		{"KW-MON-CLOUDTRAIL-CONFIG", `{ ($.eventName = StopLogging) || ($.eventName = StartLogging) || ($.eventName = DeleteTrail) || ($.eventName = UpdateTrail) || ($.eventName = CreateTrail) }`, true},
		{"KW-MON-CLOUDTRAIL-CONFIG", `{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }`, false},
		{"KW-MON-CONSOLE-AUTH-FAIL", `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`, true},
		{"KW-MON-CONSOLE-AUTH-FAIL", `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") && ($.userIdentity.type = Root) }`, false},
		{"KW-MON-KMS-KEY-DELETION", `{($.eventSource=kms.amazonaws.com)&&(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}`, true},
		{"KW-MON-KMS-KEY-DELETION", `{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }`, false},
		{"KW-MON-S3-BUCKET-POLICY", `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`, true},
		{"KW-MON-S3-BUCKET-POLICY", `{ ($.eventSource = s3.amazonaws.com) && ($.eventName = PutBucket* || $.eventName = DeleteBucket*) }`, true},
		{"KW-MON-S3-BUCKET-POLICY", `{ ($.eventSource = s3.amazonaws.com) && ($.eventName = PutBucketPolicy) }`, false},
		{"KW-MON-CONFIG", `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`, true},
		{"KW-MON-CONFIG", `{ ($.eventSource = ec2.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`, false},
		{"KW-MON-SECURITY-GROUP", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`, true},
		{"KW-MON-SECURITY-GROUP", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = CreateSecurityGroup) }`, false},
		{"KW-MON-NACL", `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`, true},
		{"KW-MON-NACL", `{ ($.eventName = CreateNetworkAcl) || ($.eventName = DeleteNetworkAcl) }`, false},
		{"KW-MON-NETWORK-GATEWAY", `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`, true},
		{"KW-MON-NETWORK-GATEWAY", `{ ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) }`, false},
		{"KW-MON-ROUTE-TABLE", `{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }`, true},
		{"KW-MON-ROUTE-TABLE", `{ ($.eventName = CreateRoute) || ($.eventName = DeleteRoute) }`, false},
		{"KW-MON-VPC", `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`, true},
		{"KW-MON-VPC", `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) }`, false},
		{"KW-MON-ORGANIZATIONS", `{ ($.eventSource = organizations.amazonaws.com) }`, true},
		{"KW-MON-ORGANIZATIONS", `{ ($.eventSource = organizations.amazonaws.com) && ($.eventName = CreateAccount) }`, false},
	} {
		got := summary(monitorFindings(withGroup(setPattern(tt.id, tt.pattern)), DefaultConfig(asOf)))
		if tt.pass && len(got) != 0 {
			t.Errorf("%s with %s: %v, want a pass", tt.id, tt.pattern, got)
		}
		if !tt.pass && !cmp.Equal(got, []string{tt.id + " low root"}) {
			t.Errorf("%s with %s: %v, want its finding alone", tt.id, tt.pattern, got)
		}
	}
}

func TestMonitorNeedsAnAlarmThatNotifies(t *testing.T) {
	const id = "KW-MON-ROOT-USE"
	alarm := func(mod func(*Alarm)) func(*LogGroup) {
		return func(g *LogGroup) {
			for i := range g.Alarms {
				if g.Alarms[i].Name == id {
					mod(&g.Alarms[i])
				}
			}
		}
	}
	noSubscriber := withGroup(func(g *LogGroup) { g.Subscribers[alarmTopic] = 0 })
	unreadTopic := withGroup(func(g *LogGroup) { delete(g.Subscribers, alarmTopic) })
	otherMetric := withGroup(alarm(func(a *Alarm) { a.Metric.Name = "Other" }))
	disabled := withGroup(alarm(func(a *Alarm) { a.Enabled = false }))
	noAction := withGroup(alarm(func(a *Alarm) { a.Actions = nil }))
	automation := withGroup(alarm(func(a *Alarm) { a.Actions = []string{"arn:aws:ssm:us-east-1:123456789012:opsitem:3"} }))
	if got := summary(monitorFindings(noSubscriber, DefaultConfig(asOf))); len(got) != len(monitors) {
		t.Errorf("a topic nobody reads: %v, want every monitor to fail", got)
	}
	for name, inv := range map[string]Inventory{"other metric": otherMetric, "disabled": disabled, "no action": noAction} {
		if got := summary(monitorFindings(inv, DefaultConfig(asOf))); !cmp.Equal(got, []string{id + " low root"}) {
			t.Errorf("%s: %v, want %s alone", name, got, id)
		}
	}
	for name, inv := range map[string]Inventory{"topic not read": unreadTopic, "non-SNS action": automation} {
		if got := summary(monitorFindings(inv, DefaultConfig(asOf))); len(got) != 0 {
			t.Errorf("%s: %v, want a pass", name, got)
		}
	}
	fs := monitorFindings(disabled, DefaultConfig(asOf))
	groups := fs[0].Evidence["log_groups"].([]map[string]any)
	if len(groups) != 1 || !slices.Equal(groups[0]["alarms_without_subscriber"].([]string), []string{id}) {
		t.Errorf("evidence %v, want the silent alarm named", fs[0].Evidence)
	}
}

func TestMonitorNeedsALoggingMultiRegionTrail(t *testing.T) {
	regional := account()
	regional.Trails[0].MultiRegion = false
	stopped := account()
	stopped.Trails[0].Logging = No
	unknownLogging := account()
	unknownLogging.Trails[0].Logging = Unknown
	groupUnread := withGroup(func(g *LogGroup) { g.Unread = "logs:DescribeMetricFilters denied" })
	trailsUnread := account()
	trailsUnread.TrailsRead = false
	every := func(suffix string) []string {
		var out []string
		for _, m := range monitors {
			out = append(out, m.info.ID+" low root"+suffix)
		}
		slices.Sort(out)
		return out
	}
	for name, tt := range map[string]struct {
		inv  Inventory
		want []string
	}{
		"single-region trail": {regional, every("")}, "stopped trail": {stopped, every("")},
		"logging unknown": {unknownLogging, every(" unknown")}, "group unread": {groupUnread, every(" unknown")},
		"trails unread": {trailsUnread, every(" unknown")},
	} {
		if diff := cmp.Diff(tt.want, summary(monitorFindings(tt.inv, DefaultConfig(asOf)))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	f := monitorFindings(regional, DefaultConfig(asOf))[0]
	if !strings.Contains(f.Evidence["reason"].(string), "no multi-region trail") || !strings.Contains(f.Remediation, "KW-CT-NO-CLOUDWATCH") {
		t.Errorf("single-region trail: evidence %v, remediation %q", f.Evidence, f.Remediation)
	}
	f = monitorFindings(withGroup(dropFilter("KW-MON-ROOT-USE")), DefaultConfig(asOf))[0]
	if !strings.Contains(f.Remediation, "aws logs put-metric-filter --region us-east-1 --log-group-name trail ") {
		t.Errorf("remediation %q, want the filter on the trail's group", f.Remediation)
	}
}
