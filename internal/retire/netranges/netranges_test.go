package netranges

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestLookupIsTheMostSpecificPrefix(t *testing.T) {
	tab := New([]Range{
		{Prefix: netip.MustParsePrefix("3.0.0.0/9"), Set: AWS, Service: "AMAZON"},
		{Prefix: netip.MustParsePrefix("3.5.140.0/22"), Set: AWS, Service: "EC2", Region: "ap-northeast-2"},
		{Prefix: netip.MustParsePrefix("3.5.140.7/32"), Set: GitHub, Service: "actions"},
		{Prefix: netip.MustParsePrefix("2600:1f00::/24"), Set: AWS, Service: "AMAZON"},
		{Prefix: netip.MustParsePrefix("2600:1f18:4000::/36"), Set: AWS, Service: "EC2", Region: "us-east-1"},
		{Prefix: netip.MustParsePrefix("2a0a:a440::/29"), Set: GitHub, Service: "actions"},
	}, nil)
	for _, c := range []struct {
		addr, set, service string
	}{
		{"3.5.140.2", AWS, "EC2"},
		{"3.5.140.7", GitHub, "actions"},
		{"::ffff:3.5.141.9", AWS, "EC2"}, // IPv4 written as IPv6
		{"3.100.0.1", AWS, "AMAZON"},
		{"2600:1f18:4abc::1", AWS, "EC2"},
		{"2600:1f99::1", AWS, "AMAZON"},
		{"2a0a:a447:ffff::1", GitHub, "actions"},
	} {
		r, ok := tab.Lookup(netip.MustParseAddr(c.addr))
		if !ok || r.Set != c.set || r.Service != c.service {
			t.Errorf("Lookup(%s) = %+v %v, want %s %s", c.addr, r, ok, c.set, c.service)
		}
	}
	for _, miss := range []string{"3.128.0.1", "81.2.69.160", "2a0a:a448::1", "::1", "10.0.0.1"} {
		if r, ok := tab.Lookup(netip.MustParseAddr(miss)); ok {
			t.Errorf("Lookup(%s) = %+v, want no range", miss, r)
		}
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	in := []Range{
		{Prefix: netip.MustParsePrefix("2600:1f18:4000::/36"), Set: AWS, Service: "EC2", Region: "us-east-1"},
		{Prefix: netip.MustParsePrefix("4.148.0.0/16"), Set: GitHub, Service: "actions"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, []Source{{Set: AWS, URL: "u", Published: "p", Note: "n"}}, in); err != nil {
		t.Fatal(err)
	}
	tab, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if s := tab.Sources(); len(s) != 1 || s[0].Prefixes != 1 || s[0].Published != "p" {
		t.Errorf("sources = %+v", s)
	}
	if r, ok := tab.Lookup(netip.MustParseAddr("4.148.9.9")); !ok || r.Set != GitHub {
		t.Errorf("lookup after round trip = %+v %v", r, ok)
	}
}

// The embedded data holds each provider's published ranges: known
// addresses of each land in its set.
func TestDefaultHoldsThePublishedRanges(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tab.Sources()); n != 3 {
		t.Fatalf("%d sources, want aws, github and gcp", n)
	}
	for _, s := range tab.Sources() {
		if s.Prefixes < 500 || s.Published == "" {
			t.Errorf("source %+v: want hundreds of prefixes and a published date", s)
		}
	}
	for _, c := range []struct{ addr, set, service string }{
		{"3.5.140.2", AWS, "EC2"},         // ap-northeast-2's EC2 block, in ip-ranges.json for years
		{"52.94.76.1", AWS, ""},           // AMAZON's space
		{"4.148.0.1", GitHub, ""},         // the first of the meta API's actions ranges
		{"35.196.0.1", GCP, ""},           // Google Cloud us-east1
		{"2600:1f18:4000::1", AWS, "EC2"}, // us-east-1's EC2 IPv6 block
	} {
		r, ok := tab.Lookup(netip.MustParseAddr(c.addr))
		if !ok || r.Set != c.set || c.service != "" && r.Service != c.service {
			t.Errorf("Lookup(%s) = %+v %v, want set %s %s", c.addr, r, ok, c.set, c.service)
		}
	}
	if r, ok := tab.Lookup(netip.MustParseAddr("81.2.69.160")); ok {
		t.Errorf("a residential address is in %+v", r)
	}
}

func BenchmarkLookup(b *testing.B) {
	tab, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	addrs := []netip.Addr{netip.MustParseAddr("3.5.140.2"), netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("2600:1f18:4abc::1"), netip.MustParseAddr("2a02:c7c:1::1")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tab.Lookup(addrs[i%len(addrs)])
	}
}

func BenchmarkDefaultParse(b *testing.B) {
	for i := 0; i < b.N; i++ {
		zr, _ := gzipReader()
		if _, err := Read(zr); err != nil {
			b.Fatal(err)
		}
	}
}
