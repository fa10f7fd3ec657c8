package retire

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Target is what a replacement pins, where the events cannot say: the
// repository and ref a CI workflow runs in (--repo, --ref) and the
// account the role lives in.
type Target struct {
	Account string // the role's account; Placeholder when unknown
	Repo    string // owner/name (GitHub) or group/project (GitLab); Placeholder when unknown
	Ref     string // refs/heads/BRANCH, or environment:NAME (GitHub); default refs/heads/main
}

// GitHub's and GitLab's OIDC issuers.
const (
	GitHubIssuer = "token.actions.githubusercontent.com"
	GitLabIssuer = "gitlab.com"
)

// replacement builds what takes a key's place: the role, its trust policy
// and what the consumer changes. rnd makes a third party's external id.
func replacement(kind, user string, t Target, rnd io.Reader) (Replacement, []string, error) {
	r := Replacement{Kind: kind}
	if kind == ReplaceDelete || kind == "" {
		if kind == ReplaceDelete {
			r.Instructions = "No event of the key in the window and no last use in it: nothing needs it. Deleting it is the replacement (retire apply deactivates it first)."
		}
		return r, nil, nil
	}
	account := orPlaceholder(t.Account)
	r.Role = roleName(user, kind)
	arn := "arn:aws:iam::" + account + ":role/" + r.Role
	var notes []string
	var trust map[string]any
	switch kind {
	case ReplaceInstanceProfile, ReplaceTaskRole, ReplaceFunctionRole, ReplaceServiceRole:
		svc := map[string]string{ReplaceInstanceProfile: "ec2.amazonaws.com", ReplaceTaskRole: "ecs-tasks.amazonaws.com",
			ReplaceFunctionRole: "lambda.amazonaws.com", ReplaceServiceRole: "codebuild.amazonaws.com"}[kind]
		trust = statement(map[string]any{"Service": svc}, "sts:AssumeRole", nil)
		r.Instructions = serviceInstructions(kind, r.Role, arn)
	case ReplaceGitHubOIDC:
		r.Provider = "https://" + GitHubIssuer
		r.Repo, r.Ref = orPlaceholder(t.Repo), t.Ref
		if r.Ref == "" {
			r.Ref = "refs/heads/main"
			notes = append(notes, "the trust pins branch main: CloudTrail does not name the branch; give --ref refs/heads/BRANCH or environment:NAME for another")
		}
		trust = statement(map[string]any{"Federated": "arn:aws:iam::" + account + ":oidc-provider/" + GitHubIssuer}, "sts:AssumeRoleWithWebIdentity",
			map[string]any{"StringEquals": map[string]string{GitHubIssuer + ":aud": "sts.amazonaws.com", GitHubIssuer + ":sub": githubSub(r.Repo, r.Ref)}})
		r.Instructions = githubInstructions(arn)
	case ReplaceGitLabOIDC:
		r.Provider = "https://" + GitLabIssuer
		r.Repo, r.Ref = orPlaceholder(t.Repo), t.Ref
		if r.Ref == "" {
			r.Ref = "refs/heads/main"
			notes = append(notes, "the trust pins branch main: CloudTrail does not name the branch; give --ref refs/heads/BRANCH for another")
		}
		trust = statement(map[string]any{"Federated": "arn:aws:iam::" + account + ":oidc-provider/" + GitLabIssuer}, "sts:AssumeRoleWithWebIdentity",
			map[string]any{"StringEquals": map[string]string{GitLabIssuer + ":aud": "https://" + GitLabIssuer, GitLabIssuer + ":sub": gitlabSub(r.Repo, r.Ref)}})
		r.Instructions = gitlabInstructions(arn)
	case ReplaceExecRole:
		who := "arn:aws:iam::" + account + ":user/" + orPlaceholder(user)
		trust = statement(map[string]any{"AWS": who}, "sts:AssumeRole", map[string]any{"Bool": map[string]string{"aws:MultiFactorAuthPresent": "true"}})
		r.Instructions = personInstructions(arn, account, user)
	case ReplaceExternalIDRole:
		id, err := externalID(rnd)
		if err != nil {
			return r, nil, err
		}
		r.ExternalID = id
		trust = statement(map[string]any{"AWS": "arn:aws:iam::" + Placeholder + ":root"}, "sts:AssumeRole",
			map[string]any{"StringEquals": map[string]string{"sts:ExternalId": id}})
		notes = append(notes, "the vendor's AWS account is not in CloudTrail: put the account its documentation names in the trust policy's principal")
		r.Instructions = "Give the vendor the role ARN " + arn + " and the external id " + id + " in its AWS integration settings (most vendors have a \"role\" or \"cross-account\" option instead of an access key); then remove the key from its settings."
	default:
		return r, nil, fmt.Errorf("replacement kind %q: unknown", kind)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the placeholder's <> stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(trust); err != nil {
		return r, nil, err
	}
	r.Trust = bytes.TrimSpace(b.Bytes())
	return r, notes, nil
}

func statement(principal map[string]any, action string, cond map[string]any) map[string]any {
	st := map[string]any{"Effect": "Allow", "Principal": principal, "Action": action}
	if cond != nil {
		st["Condition"] = cond
	}
	return map[string]any{"Version": "2012-10-17", "Statement": []any{st}}
}

// githubSub is the token's sub claim the trust pins: a branch or an
// environment of one repository, never a wildcard.
func githubSub(repo, ref string) string {
	if env, ok := strings.CutPrefix(ref, "environment:"); ok {
		return "repo:" + repo + ":environment:" + env
	}
	return "repo:" + repo + ":ref:" + ref
}

func gitlabSub(project, ref string) string {
	branch := strings.TrimPrefix(ref, "refs/heads/")
	return "project_path:" + project + ":ref_type:branch:ref:" + branch
}

func orPlaceholder(s string) string {
	if s == "" {
		return Placeholder
	}
	return s
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9+=,.@_-]`)

// roleName is keywarden-USER-KIND, within IAM's 64 characters.
func roleName(user, kind string) string {
	n := "keywarden-" + unsafeName.ReplaceAllString(user, "-") + "-" + kind
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func externalID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("make an external id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func serviceInstructions(kind, role, arn string) string {
	switch kind {
	case ReplaceInstanceProfile:
		return "Attach the role to the instance through an instance profile of the same name (retire apply creates both):\n" +
			"  aws ec2 associate-iam-instance-profile --instance-id i-… --iam-instance-profile Name=" + role + "\n" +
			"then remove the key from the instance (environment, ~/.aws/credentials): the SDKs find the instance's credentials by themselves."
	case ReplaceTaskRole:
		return "Set the task definition's task role and register a new revision:\n  \"taskRoleArn\": \"" + arn + "\"\nthen remove the key from the task's environment or secrets."
	case ReplaceFunctionRole:
		return "Make the role the function's execution role:\n  aws lambda update-function-configuration --function-name … --role " + arn + "\nthen remove the key from the function's environment."
	}
	return "Make the role the CodeBuild project's service role:\n  aws codebuild update-project --name … --service-role " + arn + "\nthen remove the key from the project's environment."
}

func githubInstructions(arn string) string {
	return "In the workflow, replace the key with the role (the job needs the id-token permission):\n" +
		"  permissions:\n    id-token: write\n    contents: read\n" +
		"  steps:\n    - uses: aws-actions/configure-aws-credentials@v4\n      with:\n        role-to-assume: " + arn + "\n        aws-region: us-east-1\n" +
		"then delete the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY secrets of the repository."
}

func gitlabInstructions(arn string) string {
	return "In .gitlab-ci.yml, exchange the job's ID token for the role's credentials:\n" +
		"  job:\n    id_tokens:\n      AWS_TOKEN:\n        aud: https://gitlab.com\n" +
		"    variables:\n      AWS_ROLE_ARN: " + arn + "\n      AWS_WEB_IDENTITY_TOKEN_FILE: /tmp/web-identity-token\n" +
		"    before_script:\n      - echo \"$AWS_TOKEN\" > /tmp/web-identity-token\n" +
		"then delete the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY CI/CD variables."
}

func personInstructions(arn, account, user string) string {
	return "Best: sign in through IAM Identity Center (a permission set with these permissions; aws configure sso) and stop using the key.\n" +
		"Otherwise keep the key only in keywarden's vault and work through the role with MFA. In ~/.aws/config:\n" +
		"  [profile " + orPlaceholder(user) + "-role]\n  role_arn = " + arn + "\n  source_profile = PROFILE\n  mfa_serial = arn:aws:iam::" + account + ":mfa/" + orPlaceholder(user) + "\n" +
		"then\n  keywarden creds import PROFILE\n  keywarden exec " + orPlaceholder(user) + "-role -- aws …\n" +
		"and the user's own policies shrink to sts:AssumeRole on the role."
}
