package auditaws

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// An answer in a foreign form (moto's HTML page for a service it does not
// serve) is not retried: ten tries in each of 34 regions made a plain-moto
// audit take two minutes. A service's own 500 and throttling still are.
func TestAuditRetryerGivesUpOnForeignAnswersOnly(t *testing.T) {
	r := auditRetryer(aws.Config{})
	status := func(code int, err error) error {
		return &smithy.OperationError{ServiceID: "AccessAnalyzer", OperationName: "ListAnalyzers",
			Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: err}}}
	}
	foreign := status(500, &smithy.DeserializationError{Err: errors.New("invalid character '<'")})
	if r.IsErrorRetryable(foreign) {
		t.Error("a foreign answer is retried")
	}
	if !r.IsErrorRetryable(status(500, &smithy.GenericAPIError{Code: "InternalFailure"})) {
		t.Error("the service's own 500 is no longer retried")
	}
	if !r.IsErrorRetryable(status(400, &smithy.GenericAPIError{Code: "ThrottlingException"})) {
		t.Error("throttling is no longer retried")
	}
	if r.MaxAttempts() != auditMaxAttempts {
		t.Errorf("MaxAttempts = %d, want %d", r.MaxAttempts(), auditMaxAttempts)
	}
}
