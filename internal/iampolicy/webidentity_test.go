package iampolicy

import "testing"

func TestAllowsWebIdentity(t *testing.T) {
	const provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
	const gh = "token.actions.githubusercontent.com"
	stmt := func(effect, cond string) string {
		return `{"Effect":"` + effect + `","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity"` + cond + `}`
	}
	pinned := `,"Condition":{"StringEquals":{"` + gh + `:aud":"sts.amazonaws.com"},"StringLike":{"` + gh + `:sub":"repo:acme/shop:ref:refs/heads/*"}}`
	claims := func(sub string) map[string]string {
		return map[string]string{gh + ":aud": "sts.amazonaws.com", gh + ":sub": sub}
	}
	main := claims("repo:acme/shop:ref:refs/heads/main")
	tests := []struct {
		name   string
		doc    string
		claims map[string]string
		want   bool
	}{
		{"pinned repo, its branch", doc(stmt("Allow", pinned)), main, true},
		{"pinned repo, another repo", doc(stmt("Allow", pinned)), claims("repo:evil/shop:ref:refs/heads/main"), false},
		{"pinned repo, a prefix-sharing repo", doc(stmt("Allow", pinned)), claims("repo:acme/shop-fork:ref:refs/heads/main"), false},
		{"pinned repo, a pull request", doc(stmt("Allow", pinned)), claims("repo:acme/shop:pull_request"), false},
		{"wrong audience", doc(stmt("Allow", pinned)), map[string]string{gh + ":aud": "other", gh + ":sub": main[gh+":sub"]}, false},
		{"claim missing", doc(stmt("Allow", pinned)), map[string]string{gh + ":aud": "sts.amazonaws.com"}, false},
		{"keys are case-insensitive", doc(stmt("Allow", `,"Condition":{"stringequals":{"TOKEN.actions.githubusercontent.com:SUB":"repo:acme/shop:environment:prod"}}`)),
			claims("repo:acme/shop:environment:prod"), true},
		{"equals is exact", doc(stmt("Allow", `,"Condition":{"StringEquals":{"`+gh+`:sub":"repo:acme/shop:*"}}`)), main, false},
		{"no condition lets any repo in", doc(stmt("Allow", "")), claims("repo:evil/x:ref:refs/heads/main"), true},
		{"another provider", doc(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/gitlab.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`), main, false},
		{"another action", doc(`{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRole"}`), main, false},
		{"an unknown operator fails an allow", doc(stmt("Allow", `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)), main, false},
		{"a deny that holds wins", doc(stmt("Allow", pinned), stmt("Deny", `,"Condition":{"StringLike":{"`+gh+`:sub":"*:ref:refs/heads/main"}}`)), main, false},
		{"a deny that does not hold", doc(stmt("Allow", pinned), stmt("Deny", `,"Condition":{"StringNotLike":{"`+gh+`:sub":"repo:acme/*"}}`)), main, true},
		{"IfExists passes an absent claim", doc(stmt("Allow", `,"Condition":{"StringEqualsIfExists":{"`+gh+`:job_workflow_ref":"x"},"StringEquals":{"`+gh+`:sub":"repo:acme/shop:ref:refs/heads/main"}}`)), main, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.AllowsWebIdentity(provider, tc.claims); got != tc.want {
				t.Errorf("AllowsWebIdentity = %v, want %v", got, tc.want)
			}
		})
	}
}
