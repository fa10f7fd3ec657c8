package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// DefaultLearning is how long a key's calls only teach its baseline.
const DefaultLearning = 7 * 24 * time.Hour

// maxBaselineValues bounds each dimension of a key's baseline. A key seen
// from more networks than this has no meaningful "usual", so the
// dimension stops alerting instead of growing without end.
const maxBaselineValues = 512

// dimension is one property of a call a key's baseline remembers.
type dimension struct {
	rule  Rule
	field func(e *cloudtrail.Event) string       // the part of the call the value comes from
	value func(b *Baseline, field string) string // "" means the call says nothing
}

var dimensions = []dimension{
	{Rule{ID: "KW-CT-BASELINE-NETWORK", Severity: severity.Medium, Title: "key used from a new network", Technique: "T1078.004",
		Description: "The key called from a /24 (IPv4) or /48 (IPv6) it had not used before.",
		Remediation: "Ask the key's owner where they are; if unknown, contain the key."},
		func(e *cloudtrail.Event) string { return e.SourceIPAddress }, func(_ *Baseline, ip string) string { return Network(ip) }},
	{Rule{ID: "KW-CT-BASELINE-USER-AGENT", Severity: severity.Medium, Title: "key used with a new kind of client", Technique: "T1078.004",
		Description: "The key called with a user-agent family (aws-cli, boto3, Go SDK, console, ...) new for it.",
		Remediation: "Confirm the new tool with the key's owner; if unknown, contain the key."},
		func(e *cloudtrail.Event) string { return e.UserAgent }, func(b *Baseline, ua string) string { return b.families.family(ua) }},
	{Rule{ID: "KW-CT-BASELINE-REGION", Severity: severity.Medium, Title: "key used in a new region", Technique: "T1535",
		Description: "The key acted in a region it had not used before.",
		Remediation: "Check the region for resources the owner did not create."},
		func(e *cloudtrail.Event) string { return e.AWSRegion }, verbatim},
	{Rule{ID: "KW-CT-BASELINE-SERVICE", Severity: severity.Low, Title: "key used on a new service", Technique: "T1526",
		Description: "The key called a service it had not called before.",
		Remediation: "Confirm the new use with the key's owner."},
		func(e *cloudtrail.Event) string { return e.EventSource }, verbatim},
}

func verbatim(_ *Baseline, field string) string { return field }

// BaselineRules describes the baseline alerts (for docs and SARIF).
func BaselineRules() []Rule {
	out := make([]Rule, len(dimensions))
	for i, d := range dimensions {
		out[i] = d.rule
	}
	return out
}

// Baseline learns, per access key, the networks, client families, regions
// and services it uses, and alerts when a key shows a new one after its
// learning period (counted from the key's first observed call); never
// during it. Calls AWS makes on the key's behalf are ignored. State lives
// in a write-back cache that reaches Store on Flush.
type Baseline struct {
	Learning time.Duration // 0 means DefaultLearning
	Store    Store

	cache    map[string]*keyBaseline
	dirty    map[string]bool
	families familyCache
}

type keyBaseline struct {
	First int64               `json:"first"` // unix seconds of the first call seen
	Seen  map[string][]string `json:"seen"`  // rule id -> sorted values

	// judged is, per dimension, the field of the key's last judged call.
	// Judging a field again cannot change Seen or alert (Seen only grows),
	// so a key that keeps its client and network skips the value's
	// derivation and search. The initial "" may match: its value is "".
	judged []string
}

const baselineNamespace = "baseline/v1"

// Observe learns from e and reports what is new about it.
func (b *Baseline) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	key := e.UserIdentity.AccessKeyID
	if key == "" || e.EventTime.IsZero() || byAWSService(e) {
		return nil, nil
	}
	kb, err := b.load(ctx, key)
	if err != nil {
		return nil, err
	}
	if kb.First == 0 || e.EventTime.Unix() < kb.First {
		kb.First = e.EventTime.Unix()
		b.dirty[key] = true
	}
	learning := b.Learning
	if learning <= 0 {
		learning = DefaultLearning
	}
	age := e.EventTime.Sub(time.Unix(kb.First, 0))
	var out []Alert
	for i := range dimensions {
		d := &dimensions[i]
		f := d.field(e)
		if f == kb.judged[i] {
			continue
		}
		kb.judged[i] = f
		v := d.value(b, f)
		seen := kb.Seen[d.rule.ID]
		at, found := slices.BinarySearch(seen, v)
		if v == "" || found || len(seen) >= maxBaselineValues {
			continue
		}
		kb.Seen[d.rule.ID] = slices.Insert(seen, at, v)
		b.dirty[key] = true
		if age >= learning {
			a := d.rule.Alert(e, fmt.Sprintf("first %s after %d known", v, len(seen)))
			a.Details["new"], a.Details["known"] = v, len(seen)
			out = append(out, a)
		}
	}
	return out, nil
}

func (b *Baseline) load(ctx context.Context, key string) (*keyBaseline, error) {
	if b.cache == nil || len(b.cache) >= maxCachedKeys {
		if err := b.Flush(ctx); err != nil {
			return nil, err
		}
		b.cache, b.dirty = map[string]*keyBaseline{}, map[string]bool{}
	}
	if kb, ok := b.cache[key]; ok {
		return kb, nil
	}
	kb := &keyBaseline{}
	if b.Store != nil {
		raw, ok, err := b.Store.Get(ctx, baselineNamespace, key)
		if err != nil {
			return nil, fmt.Errorf("load baseline of %s: %w", key, err)
		}
		if ok && json.Unmarshal(raw, kb) != nil {
			*kb = keyBaseline{} // corrupt: learn afresh rather than fail the stream
		}
	}
	if kb.Seen == nil {
		kb.Seen = map[string][]string{}
	}
	kb.judged = make([]string, len(dimensions))
	for id, vs := range kb.Seen {
		if !slices.IsSorted(vs) { // hand-edited or foreign state: BinarySearch needs order
			slices.Sort(vs)
			kb.Seen[id] = slices.Compact(vs)
		}
	}
	b.cache[key] = kb
	return kb, nil
}

// Flush writes the baselines changed since the last Flush.
func (b *Baseline) Flush(ctx context.Context) error {
	if b.Store == nil {
		clear(b.dirty)
		return nil
	}
	for key, d := range b.dirty {
		if !d {
			continue
		}
		raw, err := json.Marshal(b.cache[key])
		if err != nil {
			return fmt.Errorf("encode baseline: %w", err)
		}
		if err := b.Store.Put(ctx, baselineNamespace, key, raw); err != nil {
			return fmt.Errorf("save baseline of %s: %w", key, err)
		}
	}
	clear(b.dirty)
	return nil
}

// Network is the caller's network: the /24 of an IPv4 address, the /48 of
// an IPv6 one; "" when sourceIPAddress is a service name or "AWS Internal".
func Network(sourceIP string) string {
	ip, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// agentFamilies map a user-agent substring (lower case) to its family,
// first match wins: tools built on an SDK name themselves first.
var agentFamilies = []struct{ needle, family string }{
	{"terraform", "terraform"}, {"pulumi", "pulumi"}, {"cloudformation", "cloudformation"},
	{"aws-cdk", "cdk"}, {"trufflehog", "scanner"}, {"pacu", "scanner"}, {"cloudfox", "scanner"},
	{"scoutsuite", "scanner"}, {"prowler", "scanner"}, {"stratus-red-team", "stratus-red-team"},
	{"aws-cli", "aws-cli"}, {"aws-internal", "console"}, {"console.amazonaws.com", "console"},
	{"signin.amazonaws.com", "console"}, {"awspowershell", "powershell"}, {"aws-sdk-powershell", "powershell"},
	{"boto3", "boto3"}, {"botocore", "boto3"}, {"aws-sdk-go-v2", "go-sdk"}, {"aws-sdk-go", "go-sdk"},
	{"aws-sdk-java", "java-sdk"}, {"aws-sdk-js", "js-sdk"}, {"aws-sdk-nodejs", "js-sdk"},
	{"aws-sdk-dotnet", "dotnet-sdk"}, {"aws-sdk-ruby", "ruby-sdk"}, {"aws-sdk-php", "php-sdk"},
	{"aws-sdk-rust", "rust-sdk"}, {"rusoto", "rust-sdk"}, {"python-requests", "python-requests"},
	{"curl", "curl"}, {"mozilla", "browser"},
}

// familyCache memoises AgentFamily, which lower-cases the whole agent:
// a stream repeats few agents. It starts afresh when full, so a stream of
// ever new agents cannot grow it without end.
type familyCache map[string]string

func (c *familyCache) family(ua string) string {
	if f, ok := (*c)[ua]; ok {
		return f
	}
	if *c == nil || len(*c) > 4096 {
		*c = familyCache{}
	}
	f := AgentFamily(ua)
	(*c)[ua] = f
	return f
}

// AgentFamily names the kind of client a user agent belongs to, so a new
// CLI version is not news but a key that only ever ran terraform now
// calling from boto3 is. Unknown agents are "other:" plus their first
// product token.
func AgentFamily(ua string) string {
	if ua == "" {
		return ""
	}
	if ua == "AWS Internal" {
		return "console"
	}
	l := strings.ToLower(ua)
	for _, f := range agentFamilies {
		if strings.Contains(l, f.needle) {
			return f.family
		}
	}
	tok, _, _ := strings.Cut(l, "/")
	tok, _, _ = strings.Cut(tok, " ")
	if len(tok) > 32 {
		tok = tok[:32]
	}
	return "other:" + tok
}
