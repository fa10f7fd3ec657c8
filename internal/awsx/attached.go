package awsx

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// attachedARNs lists the ARNs of attached managed policies. Only respond's
// rights reader (respondrights.go) uses it since the audit reader moved to
// internal/audit/auditaws; it leaves awsx with respond's code.
func attachedARNs(list []iamtypes.AttachedPolicy) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		out = append(out, aws.ToString(p.PolicyArn))
	}
	return out
}
