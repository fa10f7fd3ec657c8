package audit

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func withBucket(mod func(*Bucket)) Inventory {
	inv := account()
	b := privateBucket()
	mod(&b)
	inv.TrailBuckets = map[string]Bucket{b.Name: b}
	return inv
}

const publicRead = `{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::trail-logs/*"}]}`

func TestCheckTrailBucketPublic(t *testing.T) {
	noBlock := func(b *Bucket) { b.Block = PublicAccessBlock{} }
	runCases(t, checkTrailBucketPublic, []checkCase{
		{"a private bucket passes", account(), nil, nil},
		{"no block, no public grant or statement passes", withBucket(noBlock), nil, nil},
		{"an AllUsers grant without the block fails", withBucket(func(b *Bucket) { noBlock(b); b.PublicGrants = []string{"AllUsers:READ"} }),
			nil, []string{"KW-CT-BUCKET-PUBLIC high trail-logs"}},
		{"an AllUsers grant the block ignores passes", withBucket(func(b *Bucket) { b.PublicGrants = []string{"AllUsers:READ"} }), nil, nil},
		{"a policy open to * fails", withBucket(func(b *Bucket) { noBlock(b); b.Policy = publicRead }),
			nil, []string{"KW-CT-BUCKET-PUBLIC high trail-logs"}},
		{"a policy open to * the block restricts passes", withBucket(func(b *Bucket) { b.Policy = publicRead }), nil, nil},
		{"a public grant is public even with the policy unread", withBucket(func(b *Bucket) {
			noBlock(b)
			b.PolicyRead, b.PublicGrants = false, []string{"AuthenticatedUsers:FULL_CONTROL"}
		}), nil, []string{"KW-CT-BUCKET-PUBLIC high trail-logs"}},
		{"block unread, ACL and policy private passes", withBucket(func(b *Bucket) { b.BlockRead, b.Block = false, PublicAccessBlock{} }), nil, nil},
		{"block and ACL unread is unknown", withBucket(func(b *Bucket) { b.BlockRead, b.ACLRead = false, false }),
			nil, []string{"KW-CT-BUCKET-PUBLIC low trail-logs unknown"}},
		{"a bucket not read is unknown", withBucket(func(b *Bucket) { b.Unread = "s3:GetBucketAcl denied" }),
			nil, []string{"KW-CT-BUCKET-PUBLIC low trail-logs unknown"}},
		{"trails unread is unknown", func() Inventory { inv := account(); inv.TrailsRead = false; return inv }(),
			nil, []string{"KW-CT-BUCKET-PUBLIC low root unknown"}},
	})
	fs := checkTrailBucketPublic(withBucket(func(b *Bucket) {
		noBlock(b)
		b.Policy, b.PublicGrants = publicRead, []string{"AllUsers:READ"}
	}), DefaultConfig(asOf))
	if len(fs) != 1 || !cmp.Equal(fs[0].Evidence["public_through"], []string{"acl:AllUsers:READ", "policy:Open"}) ||
		!slices.Equal(fs[0].Evidence["trails"].([]string), []string{goodTrail().ARN}) {
		t.Errorf("evidence: %+v", fs)
	}
}

func TestCheckTrailBucketLogging(t *testing.T) {
	shared := account()
	second := goodTrail()
	second.Name, second.ARN = "second", second.ARN+"-2"
	shared.Trails = append(shared.Trails, second)
	shared.TrailBuckets[second.Bucket] = func() Bucket { b := privateBucket(); b.Logging = No; return b }()
	runCases(t, checkTrailBucketLogging, []checkCase{
		{"a logged bucket passes", account(), nil, nil},
		{"an unlogged bucket fails", withBucket(func(b *Bucket) { b.Logging = No }), nil, []string{"KW-CT-BUCKET-NO-LOGGING low trail-logs"}},
		{"logging unread is unknown", withBucket(func(b *Bucket) { b.Logging = Unknown }), nil, []string{"KW-CT-BUCKET-NO-LOGGING low trail-logs unknown"}},
		{"a bucket two trails share is one finding", shared, nil, []string{"KW-CT-BUCKET-NO-LOGGING low trail-logs"}},
		{"a trail's bucket missing from the read is unknown", func() Inventory { inv := account(); inv.TrailBuckets = nil; return inv }(),
			nil, []string{"KW-CT-BUCKET-NO-LOGGING low trail-logs unknown"}},
	})
}

func TestCheckSecurityContact(t *testing.T) {
	none, unknown := account(), account()
	none.SecurityContact, unknown.SecurityContact = No, Unknown
	runCases(t, checkSecurityContact, []checkCase{
		{"a registered contact passes", account(), nil, nil},
		{"no contact fails", none, nil, []string{"KW-NO-SECURITY-CONTACT low root"}},
		{"an unread contact is unknown", unknown, nil, []string{"KW-NO-SECURITY-CONTACT low root unknown"}},
	})
}

func TestCheckAccessAnalyzer(t *testing.T) {
	with := func(region string, analyzers ...Analyzer) Inventory {
		inv := account()
		inv.Regions = append(inv.Regions, region)
		inv.Analyzers = append(inv.Analyzers, RegionAnalyzers{Region: region, Analyzers: analyzers})
		return inv
	}
	unread := account()
	unread.AnalyzerRegionsUnread = []string{"eu-west-1"}
	incomplete := account()
	incomplete.RegionsIncomplete = true
	runCases(t, checkAccessAnalyzer, []checkCase{
		{"an active account analyzer passes", account(), nil, nil},
		{"an active organization analyzer passes", with("eu-west-1", Analyzer{Name: "org", Type: "ORGANIZATION", Status: "ACTIVE"}), nil, nil},
		{"a region without analyzers fails", with("eu-west-1"), nil, []string{"KW-ACCESS-ANALYZER-OFF low analyzer"}},
		{"a disabled analyzer fails", with("eu-west-1", Analyzer{Name: "a", Type: "ACCOUNT", Status: "DISABLED"}), nil,
			[]string{"KW-ACCESS-ANALYZER-OFF low analyzer"}},
		{"an unused-access analyzer alone fails", with("eu-west-1", Analyzer{Name: "u", Type: "ACCOUNT_UNUSED_ACCESS", Status: "ACTIVE"}), nil,
			[]string{"KW-ACCESS-ANALYZER-OFF low analyzer"}},
		{"a region not read is unknown", unread, nil, []string{"KW-ACCESS-ANALYZER-OFF low root unknown"}},
		{"regions not listed are unknown", incomplete, nil, []string{"KW-ACCESS-ANALYZER-OFF low root unknown"}},
	})
	fs := checkAccessAnalyzer(with("eu-west-1"), DefaultConfig(asOf))
	if len(fs) != 1 || fs[0].Resource != "arn:aws:access-analyzer:eu-west-1:"+testAccount+":analyzer" || fs[0].Evidence["region"] != "eu-west-1" {
		t.Errorf("finding %+v", fs)
	}
}
