package awsx

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

// TestPlainDropsTheSDKsLayers: the caller's context and the cause stay, the
// operation and credential layers between them go; other errors are left
// as they are, and errors.As still reaches what was wrapped.
func TestPlainDropsTheSDKsLayers(t *testing.T) {
	cause := &NoCredentialsError{Looked: []string{"the environment"}, Err: errors.New("EC2 IMDS: no route")}
	sdk := &smithy.OperationError{ServiceID: "IAM", OperationName: "ListUsers",
		Err: fmt.Errorf("get identity: get credentials: %w", cause)}
	err := Plain(fmt.Errorf("identify K: iam:ListUsers: %w", sdk))
	if want := "identify K: iam:ListUsers: no AWS credentials found: looked in the environment"; err.Error() != want {
		t.Errorf("Plain = %q, want %q", err, want)
	}
	var nc *NoCredentialsError
	if !errors.As(err, &nc) {
		t.Error("the cause is no longer reachable")
	}
	other := fmt.Errorf("x: %w", &smithy.OperationError{ServiceID: "IAM", OperationName: "ListUsers", Err: errors.New("boom")})
	if Plain(other) != other {
		t.Errorf("Plain changed an error it has nothing to say about: %q", Plain(other))
	}
}
