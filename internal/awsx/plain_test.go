package awsx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

// TestPlainSaysAForeignAnswerInOneLine: an endpoint answering with an HTML
// page (a local emulator without the service) is named as such, without the
// SDK's layers and the JSON decoder's complaint, and IsForeignAnswer tells it.
func TestPlainSaysAForeignAnswerInOneLine(t *testing.T) {
	resp := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
		Err: &smithy.DeserializationError{Err: errors.New("failed to decode response body, invalid character '<'")}}
	sdk := &smithy.OperationError{ServiceID: "AccessAnalyzer", OperationName: "ListAnalyzers", Err: resp}
	err := Plain(fmt.Errorf("access-analyzer:ListAnalyzers: %w", sdk))
	want := "access-analyzer:ListAnalyzers: the endpoint answered HTTP 500 in a form that is not AccessAnalyzer's (is AccessAnalyzer served there?)"
	if err.Error() != want {
		t.Errorf("Plain = %q, want %q", err, want)
	}
	if !IsForeignAnswer(err) || IsForeignAnswer(errors.New("x")) {
		t.Error("IsForeignAnswer does not tell a foreign answer from another error")
	}
	// A body the network cut off, or a success that could not be read, is
	// no foreign answer: it must stay retryable.
	for _, tc := range []struct {
		status int
		cause  error
	}{{200, errors.New("failed to decode response body")}, {500, fmt.Errorf("read tcp: %w", net.ErrClosed)}, {503, io.ErrUnexpectedEOF}} {
		cut := &smithy.OperationError{ServiceID: "IAM", OperationName: "GenerateCredentialReport", Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: tc.status}}, Err: &smithy.DeserializationError{Err: tc.cause}}}
		if IsForeignAnswer(cut) {
			t.Errorf("HTTP %d with %v taken for a foreign answer", tc.status, tc.cause)
		}
	}
}

// TestPlainSaysAServicesAnswerInOneLine: an error the service answered
// keeps the caller's context, its code and its message, and loses the
// operation, status and request id; errors.As still finds the API error.
func TestPlainSaysAServicesAnswerInOneLine(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match the signature you provided."}
	resp := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}}, Err: api}
	sdk := &smithy.OperationError{ServiceID: "Lambda", OperationName: "ListFunctions", Err: resp}
	err := Plain(fmt.Errorf("lambda:ListFunctions: %w", sdk))
	if want := "lambda:ListFunctions: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided."; err.Error() != want {
		t.Errorf("Plain = %q, want %q", err, want)
	}
	if ErrorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("the API error is no longer reachable: %q", ErrorCode(err))
	}
	bare := &smithy.OperationError{ServiceID: "SNS", OperationName: "Subscribe", Err: &smithy.GenericAPIError{Code: "NotFound"}}
	if got := Plain(fmt.Errorf("subscribe: %w", bare)).Error(); got != "subscribe: NotFound" {
		t.Errorf("no message: %q", got)
	}
}
