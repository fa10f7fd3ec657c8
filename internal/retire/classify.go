package retire

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/retire/netranges"
)

// Weight is the share of a key's deciding events a class needs to count:
// a key whose events are 90% one class and 10% another is mixed.
const Weight = 0.1

// Classifier folds events, as they are read, into a tally per access key
// (long-term keys and session keys alike: which sessions belong to a key is
// policy's selection, handed to Classify).
type Classifier struct {
	ranges *netranges.Table
	byKey  map[string]*tally
}

// tally is what one access key's events said.
type tally struct {
	events int
	first  time.Time
	last   time.Time
	by     map[signal]*Evidence
}

// signal is one event's verdict: the class, the replacement kind it points
// to (aws only) and the reason, which groups events into one Evidence.
type signal struct {
	class  Class
	kind   string
	reason string
}

// NewClassifier classifies with ranges (netranges.Default in use).
func NewClassifier(ranges *netranges.Table) *Classifier {
	return &Classifier{ranges: ranges, byKey: map[string]*tally{}}
}

// Add counts e for its access key.
func (c *Classifier) Add(e cloudtrail.Event) {
	k := e.UserIdentity.AccessKeyID
	if !strings.HasPrefix(k, "AKIA") && !strings.HasPrefix(k, "ASIA") {
		return
	}
	t := c.byKey[k]
	if t == nil {
		t = &tally{by: map[signal]*Evidence{}}
		c.byKey[k] = t
	}
	t.events++
	if t.first.IsZero() || e.EventTime.Before(t.first) {
		t.first = e.EventTime
	}
	if e.EventTime.After(t.last) {
		t.last = e.EventTime
	}
	s, example, ok := c.signal(e)
	if !ok {
		return
	}
	ev := t.by[s]
	if ev == nil {
		ev = &Evidence{Class: s.class, Reason: s.reason, FirstSeen: e.EventTime, LastSeen: e.EventTime, Example: example}
		t.by[s] = ev
	}
	ev.Events++
	if e.EventTime.Before(ev.FirstSeen) {
		ev.FirstSeen = e.EventTime
	}
	if e.EventTime.After(ev.LastSeen) {
		ev.LastSeen = e.EventTime
	}
}

// Keys are the access keys seen, sorted.
func (c *Classifier) Keys() []string {
	var ks []string
	for k := range c.byKey {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Verdict is how one key is used.
type Verdict struct {
	Class    Class
	Kind     string // the replacement kind the class points to (Replace*); empty for mixed and unknown
	Evidence []Evidence
	Events   int // every event of the key and its sessions, deciding or not
	Deciding int // the events that said where the key is used
	First    time.Time
	Last     time.Time
	Notes    []string
}

// Classify merges the tallies of keys (a key and the sessions minted from
// it) into one verdict. No event at all is unused; events none of which
// decides (every one made by an AWS service on the key's behalf, or from a
// masked address) are unknown, with a note: nothing says what could replace the key.
func (c *Classifier) Classify(keys ...string) Verdict {
	var v Verdict
	by := map[signal]*Evidence{}
	for _, k := range keys {
		t := c.byKey[k]
		if t == nil {
			continue
		}
		v.Events += t.events
		if v.First.IsZero() || t.first.Before(v.First) {
			v.First = t.first
		}
		if t.last.After(v.Last) {
			v.Last = t.last
		}
		for s, ev := range t.by {
			cur := by[s]
			if cur == nil {
				cp := *ev
				by[s] = &cp
				continue
			}
			cur.Events += ev.Events
			cur.FirstSeen, cur.LastSeen = minTime(cur.FirstSeen, ev.FirstSeen), maxTime(cur.LastSeen, ev.LastSeen)
		}
	}
	perClass := map[Class]int{}
	perKind := map[string]int{}
	for s, ev := range by {
		v.Evidence = append(v.Evidence, *ev)
		v.Deciding += ev.Events
		perClass[s.class] += ev.Events
		if s.kind != "" {
			perKind[s.kind] += ev.Events
		}
	}
	slices.SortFunc(v.Evidence, func(a, b Evidence) int {
		if a.Events != b.Events {
			return b.Events - a.Events
		}
		return strings.Compare(a.Class.String()+a.Reason, b.Class.String()+b.Reason)
	})
	switch {
	case v.Events == 0:
		v.Class, v.Kind = ClassUnused, ReplaceDelete
		return v
	case v.Deciding == 0:
		v.Class = ClassUnknown
		v.Notes = append(v.Notes, "every event of the key was made by an AWS service on its behalf: none says where the key itself is used")
		return v
	}
	var weighty []Class
	for cl, n := range perClass {
		if float64(n) >= Weight*float64(v.Deciding) {
			weighty = append(weighty, cl)
		}
	}
	slices.Sort(weighty)
	if len(weighty) > 1 {
		v.Class = ClassMixed
		names := make([]string, len(weighty))
		for i, cl := range weighty {
			names[i] = string(cl)
		}
		v.Notes = append(v.Notes, "used as "+strings.Join(names, " and ")+": no single replacement; split the key's uses (one key or role per consumer) first")
		return v
	}
	v.Class = weighty[0]
	v.Kind = kindOf(v.Class, perKind)
	return v
}

// kindOf is the replacement a class points to; for aws, the service most
// of its events came from.
func kindOf(cl Class, perKind map[string]int) string {
	switch cl {
	case ClassGitHub:
		return ReplaceGitHubOIDC
	case ClassGitLab:
		return ReplaceGitLabOIDC
	case ClassPerson:
		return ReplaceExecRole
	case ClassThirdParty:
		return ReplaceExternalIDRole
	}
	best, n := ReplaceInstanceProfile, 0
	for _, k := range []string{ReplaceInstanceProfile, ReplaceTaskRole, ReplaceFunctionRole, ReplaceServiceRole} {
		if perKind[k] > n {
			best, n = k, perKind[k]
		}
	}
	return best
}

func (c Class) String() string { return string(c) }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// signal is what one event says of where its key is used; false when it
// says nothing: an AWS service calling on the key's behalf (invokedBy, a
// service name for an address), or an address with no meaning and a user
// agent that tells nothing.
func (c *Classifier) signal(e cloudtrail.Event) (signal, string, bool) {
	ua := e.UserAgent
	if e.UserIdentity.InvokedBy != "" || e.UserIdentity.Type == "AWSService" || ua == "AWS Internal" || strings.HasSuffix(ua, ".amazonaws.com") {
		return signal{}, "", false
	}
	addr, err := netip.ParseAddr(e.SourceIPAddress)
	if err != nil {
		return signal{}, "", false // "s3.amazonaws.com", "AWS Internal": a service's call
	}
	if s, ok := byAgent(ua); ok {
		return s, ua, true
	}
	if e.EventSource == "signin.amazonaws.com" {
		// GetSigninToken with the key's session: a console opened from it (aws-vault login, a federation broker).
		return signal{ClassPerson, ReplaceExecRole, "a console sign-in (signin.amazonaws.com " + e.EventName + ")"}, addr.String(), true
	}
	if addr.IsPrivate() || addr.IsLoopback() || unrouted(addr) {
		if bytes.Contains(e.Raw, []byte(`"vpcEndpointId"`)) {
			return signal{ClassAWS, ReplaceInstanceProfile, "private address through a VPC endpoint: a workload in a VPC"}, addr.String(), true
		}
		if s, ok := interactive(ua); ok {
			return s, ua, true
		}
		return signal{}, "", false // a private network, or a log whose addresses were masked: nothing to go by
	}
	if r, ok := c.ranges.Lookup(addr); ok {
		return byRange(r, ua), addr.String(), true
	}
	if s, ok := interactive(ua); ok {
		s.reason += " from an address in no published cloud or CI range"
		return s, ua, true
	}
	return signal{ClassPerson, ReplaceExecRole, "an address in no published cloud or CI range (a home, an office, or a data centre of one's own)"}, addr.String(), true
}

// notRouted are addresses no call from the internet comes from: shared
// carrier space, documentation, benchmarking and reserved blocks (what a
// log with masked addresses holds).
var notRouted = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"), netip.MustParsePrefix("2001:db8::/32"),
}

func unrouted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range notRouted {
		if p.Contains(a) {
			return true
		}
	}
	return !a.IsGlobalUnicast()
}

// byRange is the class of a published range's address.
func byRange(r netranges.Range, ua string) signal {
	switch r.Set {
	case netranges.GitHub:
		return signal{ClassGitHub, "", "source in GitHub Actions' published ranges"}
	case netranges.GCP:
		return signal{ClassGitLab, "", "source in Google Cloud's published ranges, where GitLab.com's hosted runners run"}
	}
	where := "AWS's " + r.Service + " range"
	if r.Region != "" {
		where += " " + r.Region
	}
	switch r.Service {
	case "CODEBUILD":
		return signal{ClassAWS, ReplaceServiceRole, "source in " + where + ": a CodeBuild project"}
	case "WORKSPACES_GATEWAYS", "CLOUD9", "EC2_INSTANCE_CONNECT":
		return signal{ClassPerson, ReplaceExecRole, "source in " + where + ": a person's cloud desktop or shell"}
	case "EC2":
		return signal{ClassAWS, ReplaceInstanceProfile, "source in " + where + ": an instance (or a container or function behind it)"}
	}
	return signal{ClassAWS, ReplaceInstanceProfile, "source in " + where}
}

// byAgent reads what a user agent says for itself: a vendor's service, a
// CI system, an AWS runtime (AWS_EXECUTION_ENV, which the SDKs append as
// exec-env/), an instance's agent or kernel.
func byAgent(ua string) (signal, bool) {
	low := strings.ToLower(ua)
	for _, v := range vendors {
		if strings.Contains(low, v.match) {
			return signal{ClassThirdParty, "", "user agent of " + v.name + "'s service"}, true
		}
	}
	switch {
	case strings.Contains(low, "configure-aws-credentials-for-github-actions"), strings.Contains(low, "github-actions"), strings.Contains(low, "githubactions"):
		return signal{ClassGitHub, "", "user agent of GitHub Actions (aws-actions/configure-aws-credentials)"}, true
	case strings.Contains(low, "gitlab"):
		return signal{ClassGitLab, "", "user agent of GitLab CI"}, true
	case strings.Contains(ua, "exec-env/AWS_Lambda_"):
		return signal{ClassAWS, ReplaceFunctionRole, "user agent from a Lambda function (exec-env/AWS_Lambda_*)"}, true
	case strings.Contains(ua, "exec-env/AWS_ECS_"):
		return signal{ClassAWS, ReplaceTaskRole, "user agent from an ECS task (exec-env/AWS_ECS_*)"}, true
	case strings.Contains(ua, "exec-env/CloudShell"):
		return signal{ClassPerson, ReplaceExecRole, "user agent from AWS CloudShell: a person's shell"}, true
	case strings.Contains(low, "codebuild"):
		return signal{ClassAWS, ReplaceServiceRole, "user agent from CodeBuild"}, true
	case strings.Contains(ua, "amazon-ssm-agent"), strings.Contains(ua, ".amzn2.") || strings.Contains(ua, ".amzn2023."):
		return signal{ClassAWS, ReplaceInstanceProfile, "user agent from an EC2 instance (Amazon Linux kernel or the SSM agent)"}, true
	}
	return signal{}, false
}

// interactive is a user agent only a person's machine sends: a browser,
// the console, an SDK or CLI on macOS or Windows.
func interactive(ua string) (signal, bool) {
	low := strings.ToLower(ua)
	switch {
	case strings.Contains(ua, "Console") && strings.Contains(ua, "aws-internal"), strings.HasPrefix(ua, "signin.amazonaws.com"):
		return signal{ClassPerson, ReplaceExecRole, "the AWS console"}, true
	case strings.Contains(ua, "Mozilla/"):
		return signal{ClassPerson, ReplaceExecRole, "a web browser"}, true
	case strings.Contains(low, "os/macos"), strings.Contains(ua, "Darwin/"), strings.Contains(ua, "Mac_OS_X/"), strings.Contains(low, "md/goos#darwin"), strings.Contains(low, "goos/darwin"):
		return signal{ClassPerson, ReplaceExecRole, "a CLI or SDK on macOS"}, true
	case strings.Contains(low, "os/windows"), strings.Contains(ua, "Windows/"), strings.Contains(ua, "Windows_NT"), strings.Contains(ua, "Windows_10/"), strings.Contains(ua, "Windows_11/"):
		return signal{ClassPerson, ReplaceExecRole, "a CLI or SDK on Windows"}, true
	}
	return signal{}, false
}

// vendors are services of other organisations that call AWS with a
// customer's key and name themselves in the user agent (lower case).
var vendors = []struct{ match, name string }{
	{"tfc-agent", "HCP Terraform (Terraform Cloud)"},
	{"terraform cloud", "HCP Terraform (Terraform Cloud)"},
	{"datadog", "Datadog"},
	{"lacework", "Lacework"},
	{"wiz.io", "Wiz"},
	{"wizcli", "Wiz"},
	{"orca-security", "Orca Security"},
	{"redlock", "Prisma Cloud"},
	{"prismacloud", "Prisma Cloud"},
	{"cloudhealth", "CloudHealth"},
	{"cloudability", "Cloudability"},
	{"vantagehq", "Vanta"},
	{"drata", "Drata"},
	{"snowflake", "Snowflake"},
	{"fivetran", "Fivetran"},
	{"databricks", "Databricks"},
	{"circleci", "CircleCI"},
	{"travis-ci", "Travis CI"},
	{"bitbucket", "Bitbucket Pipelines"},
	{"spacelift", "Spacelift"},
	{"env0", "env0"},
	{"newrelic", "New Relic"},
	{"sumologic", "Sumo Logic"},
	{"splunk", "Splunk"},
	{"dynatrace", "Dynatrace"},
}
