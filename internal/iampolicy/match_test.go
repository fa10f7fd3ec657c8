package iampolicy

import (
	"strings"
	"testing"
)

func TestMatchActionUsesIAMWildcards(t *testing.T) {
	tests := []struct {
		name, pattern, action string
		want                  bool
	}{
		{"star matches every action", "*", "iam:CreateUser", true},
		{"star colon star matches every action", "*:*", "ses:SendEmail", true},
		{"service star matches that service", "iam:*", "iam:PassRole", true},
		{"service star does not match another service", "iam:*", "s3:GetObject", false},
		{"prefix star matches CreateUser", "iam:Create*", "iam:CreateUser", true},
		{"prefix star matches CreateAccessKey", "iam:Create*", "iam:CreateAccessKey", true},
		{"prefix star does not match DeleteUser", "iam:Create*", "iam:DeleteUser", false},
		{"inner star matches SendEmail", "ses:Send*Email", "ses:SendEmail", true},
		{"inner star matches SendRawEmail", "ses:Send*Email", "ses:SendRawEmail", true},
		{"inner star does not match SendBounce", "ses:Send*Email", "ses:SendBounce", false},
		{"ec2 Run star matches RunInstances", "ec2:Run*", "ec2:RunInstances", true},
		{"question mark matches one character", "s?:GetObject", "s3:GetObject", true},
		{"question mark needs a character", "s3:GetObject?", "s3:GetObject", false},
		{"matching ignores case of service and action", "IAM:createuser", "iam:CreateUser", true},
		{"exact names must be equal", "iam:CreateUser", "iam:CreateUsers", false},
		{"many stars still match", strings.Repeat("*a", 40), strings.Repeat("a", 200), true},
		{"many stars fail without backtracking blow-up", strings.Repeat("*a", 40) + "b", strings.Repeat("a", 5000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchAction(tt.pattern, tt.action); got != tt.want {
				t.Errorf("matchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
			}
		})
	}
}

func TestCoversIsPatternContainment(t *testing.T) {
	tests := []struct {
		name, q, p string
		want       bool
	}{
		{"service star covers prefix pattern", "iam:*", "iam:create*", true},
		{"star covers anything", "*", "iam:*", true},
		{"prefix pattern does not cover service star", "iam:create*", "iam:*", false},
		{"question mark does not cover star", "a?c", "a*c", false},
		{"question mark covers question mark", "a?c", "a?c", true},
		{"literal does not cover question mark", "abc", "a?c", false},
		{"bucket star covers its objects", "arn:aws:s3:::b*", "arn:aws:s3:::b/*", true},
		{"other bucket is not covered", "arn:aws:s3:::a/*", "arn:aws:s3:::b/*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := covers(tt.q, tt.p); got != tt.want {
				t.Errorf("covers(%q, %q) = %v, want %v", tt.q, tt.p, got, tt.want)
			}
		})
	}
}

func TestUniversalPatterns(t *testing.T) {
	actions := map[string]bool{
		"*": true, "*:*": true, "**": true, "**:**": true,
		"iam:*": false, "*:Get*": false, "*:": false, ":*": false, "": false, "s3:*": false,
	}
	for p, want := range actions {
		if got := universalAction(p); got != want {
			t.Errorf("universalAction(%q) = %v, want %v", p, got, want)
		}
	}
	resources := map[string]bool{
		"*": true, "**": true, "arn:*": true, "arn:aws:*": true, "arn:aws:*:*:*:*": true, "arn:aws-cn:*:*:*:*": true,
		"arn:aws": false, "arn:aws:s3:::*": false, "arn:aws:*:*:*:thing": false, "": false, "arn:aws::*": false,
	}
	for p, want := range resources {
		if got := universalResource(p); got != want {
			t.Errorf("universalResource(%q) = %v, want %v", p, got, want)
		}
	}
}
