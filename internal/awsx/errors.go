package awsx

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// ErrAccessDenied marks a call the caller's IAM permissions do not allow.
// The adapters wrap it in errors that name the missing action.
var ErrAccessDenied = errors.New("access denied")

// deniedCodes are the error codes AWS uses for a missing permission.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
}

// ErrorCode is the AWS error code err carries ("NoSuchEntity",
// "Throttling"), or "" when err is not an AWS API error.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsDenied reports whether err is AWS refusing the caller's permissions
// (AccessDenied, AccessDeniedException, UnauthorizedOperation), or wraps
// ErrAccessDenied.
func IsDenied(err error) bool {
	return errors.Is(err, ErrAccessDenied) || deniedCodes[ErrorCode(err)]
}

// IsNoSuchEntity tells IAM's NoSuchEntity error, typed or (from an XML
// layout the SDK does not map, see LenientErrors) generic.
func IsNoSuchEntity(err error) bool { return ErrorCode(err) == "NoSuchEntity" }

// sdkLayers is where the SDK's text starts in an error a caller wrapped:
// "operation error IAM: ListUsers, get identity: get credentials: ...".
const sdkLayers = "operation error "

// Plain is err without the SDK's layers when they say nothing the cause
// does not: for no credentials, a missing profile or an endpoint that
// cannot be reached, the caller's context and the cause alone ("identify
// K: iam:GetAccessKeyLastUsed: no AWS credentials found: ..."). Any other
// error is returned as it is. errors.As still finds everything err wraps.
func Plain(err error) error {
	var noCreds *NoCredentialsError
	var noProfile *ProfileNotFoundError
	var noConn *ConnectError
	var cause error
	switch {
	case errors.As(err, &noCreds):
		cause = noCreds
	case errors.As(err, &noProfile):
		cause = noProfile
	case errors.As(err, &noConn):
		cause = noConn
	default:
		return err
	}
	text, tail := err.Error(), cause.Error()
	i := strings.Index(text, sdkLayers)
	if i < 0 || !strings.HasSuffix(text, tail) {
		return err
	}
	return &plainError{text: text[:i] + tail, err: err}
}

// plainError is err with a shorter text.
type plainError struct {
	text string
	err  error
}

func (p *plainError) Error() string { return p.text }
func (p *plainError) Unwrap() error { return p.err }
