package main

import "testing"

// A prefix AWS lists under AMAZON and under EC2 is EC2's: AMAZON is the
// whole of Amazon's space, and the service is what classification needs.
func TestParseAWSKeepsTheSpecificService(t *testing.T) {
	src, rs, err := parseAWS([]byte(`{"syncToken":"1","createDate":"2026-01-02-03-04-05",
	"prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"},
	            {"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"EC2"}],
	"ipv6_prefixes":[{"ipv6_prefix":"2600:1f18:4000::/36","region":"us-east-1","service":"EC2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Service != "EC2" || rs[1].Region != "us-east-1" {
		t.Errorf("ranges = %+v", rs)
	}
	if src.Published != "2026-01-02-03-04-05 (syncToken 1)" {
		t.Errorf("published = %q", src.Published)
	}
}

func TestParseGitHubKeepsTheRunners(t *testing.T) {
	_, rs, err := parseGitHub([]byte(`{"hooks":["192.30.252.0/22"],"actions":["4.148.0.0/16","2a0a:a440::/29"],"actions_macos":["4.148.0.0/16","13.105.117.0/31"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Errorf("ranges = %+v, want actions and actions_macos once each, no hooks", rs)
	}
}
