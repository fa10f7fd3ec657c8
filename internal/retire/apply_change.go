package retire

import (
	"cmp"
	"fmt"
	"strings"
)

// Change is what the key's consumer must change to use what apply built,
// with the real ARNs: a workflow snippet, an association command, a task
// definition field, a function's role. The plan's own Instructions follow,
// their marks filled.
func Change(r Retirement) string {
	var b strings.Builder
	arn, region := r.RoleARN, cmp.Or(r.Region, "us-east-1")
	switch r.Replacement.Kind {
	case ReplaceGitHubOIDC:
		fmt.Fprintf(&b, `In the workflow (.github/workflows/*.yml) of %s, give the job an OIDC token and the role:

    permissions:
      id-token: write   # the job may ask GitHub for its OIDC token
      contents: read
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: %s
          aws-region: %s

then remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the job's env and from the repository's secrets.
`, cmp.Or(r.Replacement.Repo, "the repository"), arn, region)
	case ReplaceGitLabOIDC:
		fmt.Fprintf(&b, `In .gitlab-ci.yml of %s, give the job an ID token and the role (the SDKs and the CLI read both variables):

    job:
      id_tokens:
        GITLAB_OIDC_TOKEN:
          aud: %s
      variables:
        AWS_ROLE_ARN: %s
        AWS_WEB_IDENTITY_TOKEN_FILE: $CI_PROJECT_DIR/.gitlab-oidc-token
      before_script:
        - echo "$GITLAB_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"

then remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the project's CI/CD variables.
`, cmp.Or(r.Replacement.Repo, "the project"), strings.Join(providerAudiences(r.Replacement), ","), arn)
	case ReplaceInstanceProfile:
		fmt.Fprintf(&b, `Give each instance that uses the key the instance profile (and restart nothing: the SDKs find its credentials):

    aws ec2 associate-iam-instance-profile --region %s --instance-id INSTANCE_ID --iam-instance-profile Name=%s

then remove the key from the instance (~/.aws/credentials, the environment, the application's configuration).
`, region, r.Replacement.Role)
	case ReplaceTaskRole:
		fmt.Fprintf(&b, `In the ECS task definition, set the task role and register a new revision, then update the service to it:

    "taskRoleArn": "%s"

then remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the container definitions' environment and secrets.
`, arn)
	case ReplaceFunctionRole:
		fmt.Fprintf(&b, `Make the role the function's execution role:

    aws lambda update-function-configuration --region %s --function-name FUNCTION --role %s

then remove the key from the function's environment variables (the runtime gives the role's credentials).
`, region, arn)
	case ReplaceServiceRole:
		fmt.Fprintf(&b, `Make the role the service's role (CodeBuild: aws codebuild update-project --name PROJECT --service-role %s),
then remove the key from the project's environment.
`, arn)
	case ReplaceExecRole:
		fmt.Fprintf(&b, `Sign in through IAM Identity Center, or assume the role with MFA from a profile of ~/.aws/config:

    [profile %s]
    role_arn = %s
    source_profile = YOUR_PROFILE
    mfa_serial = YOUR_MFA_DEVICE_ARN

and run commands with 'keywarden exec --profile %s -- COMMAND'; then delete the key from ~/.aws/credentials.
`, r.Replacement.Role, arn, r.Replacement.Role)
	case ReplaceExternalIDRole:
		fmt.Fprintf(&b, `Give the third party the role to assume instead of the key:

    role ARN:    %s
    external id: %s

and ask them to stop using the key once their side assumes the role.
`, arn, r.Replacement.ExternalID)
	case ReplaceDelete:
		b.WriteString("Nothing to change: the key is not used. 'keywarden retire finish' deletes it once it stayed unused for the window.\n")
	}
	if ins := strings.TrimSpace(r.Replacement.Instructions); ins != "" {
		fill := strings.NewReplacer(RoleARNMark, arn, InstanceProfileMark, r.Replacement.Role)
		b.WriteString("\nThe plan says:\n" + indentChange(fill.Replace(ins)) + "\n")
	}
	return b.String()
}

// indentChange puts four spaces before every line of s.
func indentChange(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
