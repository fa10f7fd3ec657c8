package retire

import (
	"fmt"
	"strings"
)

// Change is what the key's consumer must change to use what apply built:
// the plan's Instructions (a workflow snippet, an association command, a
// task definition field, a function's role), with the role's ARN as IAM
// gave it in place of the one plan foresaw (they differ for a role path or
// another partition).
func Change(r Retirement) string {
	ins := strings.TrimSpace(r.Replacement.Instructions)
	if r.RoleARN == "" || r.Replacement.Role == "" {
		return ins + "\n"
	}
	foreseen := "arn:aws:iam::" + r.Account + ":role/" + r.Replacement.Role
	if ins == "" {
		what := "the role " + r.RoleARN
		if r.ProfileARN != "" {
			what = fmt.Sprintf("the instance profile %s (role %s)", r.Replacement.Role, r.RoleARN)
		}
		return fmt.Sprintf("Give the key's consumer %s in place of the key, then remove the key from it.\n", what)
	}
	return strings.ReplaceAll(ins, foreseen, r.RoleARN) + "\n"
}
